/**
 * One running source: finds its files, reads each from its checkpoint, splits and joins lines,
 * paces them by the rate limit, sends them to Kafka in batches and checkpoints each file's offset
 * once Kafka acknowledged it. Bytes sent but not yet checkpointed are bounded, so when Kafka is
 * slow or down reading stops (the log file is the buffer) and resumes by itself.
 * @module
 */
import { dirname, join } from "node:path";
import { setImmediate } from "node:timers";
import { sleep } from "../core/backoff.ts";
import { getLogger } from "../core/log.ts";
import { FileRecordEncoder } from "../core/record_format.ts";
import type { Source, SourceState, SourceStatus } from "../config_plane/types.ts";
import type { LogProducer, ProducerRecord } from "../kafka/producer.ts";
import { CheckpointStore, type FileCheckpoint } from "./checkpoint_store.ts";
import { discoverFiles } from "./discovery.ts";
import { type FileIdentity, isSameFile } from "./file_identity.ts";
import { type FileChange, FileReader } from "./file_reader.ts";
import { DEFAULT_MAX_LINE_BYTES, type Line, LineSplitter } from "./line_splitter.ts";
import type { AgentMetrics } from "./metrics.ts";
import { MultilineJoiner } from "./multiline.ts";
import { RateLimiter } from "./rate_limiter.ts";

/** Knobs of the reading loop (agent settings, not per source). */
export interface TailOptions {
  /**
   * How soon a file that just grew is looked at again, ms (default 50); the wait doubles up to
   * 1 s while the file stays idle.
   */
  pollMs: number;
  /** How often the globs are scanned for new files, ms (default 1000). */
  scanMs: number;
  /** A partial last line is sent after this long without its newline, ms (default 5000). */
  lineFlushMs: number;
  /** A renamed or deleted file is released this long after its last byte, ms (default 2000). */
  rotateWaitMs: number;
  /** Bytes read but not yet acknowledged and checkpointed, per source (default 16 MiB). */
  maxInflightBytes: number;
  /** Bytes read per read call (default 256 KiB). */
  readChunkBytes: number;
  /** Cap on a record's message bytes, whatever max_line_bytes says (default 1,000,000). */
  maxRecordBytes: number;
  /** Lower bound between two checkpoint saves, ms (default 200). */
  checkpointMs: number;
}

export const DEFAULT_TAIL_OPTIONS: TailOptions = {
  pollMs: 50,
  scanMs: 1000,
  lineFlushMs: 5000,
  rotateWaitMs: 2000,
  maxInflightBytes: 16 * 1024 * 1024,
  readChunkBytes: 256 * 1024,
  maxRecordBytes: 1_000_000,
  checkpointMs: 200,
};

export interface TailTaskDeps {
  /** Host name in envelopes and record keys. */
  host: string;
  producer: LogProducer;
  checkpointDir: string;
  metrics?: AgentMetrics;
  options?: Partial<TailOptions>;
  /** Topic when the source names none (normally resolved by the config plane already). */
  defaultTopic?: string;
}

const log = getLogger("agent", "tail");

/** One file being followed. */
interface FileTail {
  reader: FileReader;
  splitter: LineSplitter;
  joiner: MultilineJoiner | undefined;
  /** Offset up to which Kafka acknowledged everything. */
  acked: number;
  /** End of the last piece handed to the producer (for in-flight accounting). */
  sentUpTo: number;
  /** Renamed away or deleted: read to the end, then released. */
  draining: boolean;
  lastDataAt: number;
  /** Encodes this file's lines as Kafka records; rebuilt when its path or identity changes. */
  encoder: FileRecordEncoder;
  released: boolean;
  /** When the file is next looked at (ms since the epoch; 0: at once). */
  nextPollAt: number;
  /** The wait after a look that found nothing new: pollMs, doubling up to 1 s while idle. */
  idle: number;
  lastCheck: number;
  checks: number;
}

/** The longest wait between two looks at an idle file, ms. */
const MAX_IDLE_MS = 1000;
/** Chunks read from one file before the loop moves on to the others (fairness in a backlog). */
const CHUNKS_PER_VISIT = 4;
/**
 * The shortest wait between two passes of the poll loop, ms, unless a file has more to read:
 * files whose looks fall due a few ms apart are looked at in one pass, not in one pass each.
 */
const MIN_PASS_MS = 5;

/** Lets timers and I/O run (acknowledgements, the producer's sends) and comes back at once. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs one source until stopped.
 *
 * @example
 * ```ts
 * import { TailTask } from "./tail_task.ts";
 * import { createLogProducer } from "../kafka/producer.ts";
 * const producer = createLogProducer({ brokers: ["127.0.0.1:9092"] });
 * const task = new TailTask({ id: "app", paths: ["/var/log/app/*.log"], topic: "logs" }, {
 *   host: "web-1", producer, checkpointDir: "/var/lib/sluice/agent",
 * });
 * task.start();
 * // ... later
 * await task.stop();
 * await producer.close();
 * ```
 */
export class TailTask {
  readonly source: Source;
  readonly #deps: TailTaskDeps;
  readonly #opt: TailOptions;
  readonly #topic: string;
  readonly #abort = new AbortController();
  readonly #files = new Map<string, FileTail>();
  /** dev:ino of files found binary, with the size then (skipped until they change). */
  readonly #skipped = new Map<string, string>();
  readonly #limiter: RateLimiter | undefined;
  readonly #maxLineBytes: number;
  #store: CheckpointStore | undefined;
  #run: Promise<void> | undefined;
  #state: SourceState = "starting";
  #lastError: string | undefined;
  /** Bytes sent and not yet covered by a saved checkpoint. */
  #inflight = 0;
  /** Bytes acknowledged since the last successful save. */
  #ackedUnsaved = 0;
  #sendsPending = 0;
  #roomWaiters: (() => void)[] = [];
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #saving: Promise<void> = Promise.resolve();
  /** Ends the poll loop's current wait early (a new file, a stop). */
  #wakePoller: (() => void) | undefined;
  #checkpointBroken = false;
  #stopped = false;

  constructor(source: Source, deps: TailTaskDeps) {
    this.source = source;
    this.#deps = deps;
    this.#opt = { ...DEFAULT_TAIL_OPTIONS, ...deps.options };
    const topic = source.topic ?? deps.defaultTopic;
    if (!topic) {
      throw new TypeError(`source '${source.id}' has no topic and no default topic is set`);
    }
    this.#topic = topic;
    this.#limiter = source.rate ? new RateLimiter(source.rate, Date.now()) : undefined;
    this.#maxLineBytes = Math.min(
      source.max_line_bytes ?? DEFAULT_MAX_LINE_BYTES,
      this.#opt.maxRecordBytes,
    );
  }

  get id(): string {
    return this.source.id;
  }

  /** Starts following the source's files. */
  start(): void {
    this.#run ??= this.#main().catch((error) => {
      this.#fail(`source stopped: ${(error as Error).message}`);
      log.error("source {source} stopped: {error}", {
        source: this.id,
        error: (error as Error).stack,
      });
    });
  }

  /**
   * Stops reading, waits up to `timeoutMs` for Kafka to acknowledge what was sent, saves the
   * checkpoints and releases every file. Lines not acknowledged by then are read again next time.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#abort.abort();
    this.#wakeReaders();
    this.#wakePoller?.();
    await this.#run;
    const deadline = Date.now() + timeoutMs;
    while (this.#sendsPending > 0 && Date.now() < deadline) await sleep(20);
    if (this.#sendsPending > 0) {
      log.warn(
        "source {source}: {n} sends not acknowledged at stop; they are read again on restart",
        {
          source: this.id,
          n: this.#sendsPending,
        },
      );
    }
    clearTimeout(this.#saveTimer);
    await this.#saveNow();
    this.#stopped = true;
    for (const tail of this.#files.values()) this.#release(tail, false);
    this.#files.clear();
    this.#state = "stopped";
  }

  /** State, file count, lag and last error, for the agent's status key. */
  status(): SourceStatus {
    let lag = 0;
    for (const t of this.#files.values()) lag += Math.max(0, t.reader.size - t.acked);
    const status: SourceStatus = { state: this.#state, files: this.#files.size, lag_bytes: lag };
    if (this.#lastError) status.last_error = this.#lastError;
    return status;
  }

  // ---- discovery -------------------------------------------------------------------------

  async #main(): Promise<void> {
    this.#store = await CheckpointStore.open(this.#deps.checkpointDir, this.id);
    const firstRun = !this.#store.existed;
    // Written even if empty: from now on files are new to a source that ran, read from byte 0.
    if (firstRun) this.#store.markDirty();
    let firstScan = true;
    const signal = this.#abort.signal;
    const polling = this.#pollLoop();
    while (!signal.aborted) {
      try {
        await this.#scan(firstScan && firstRun, firstScan);
        this.#state = this.#checkpointBroken
          ? "error"
          : this.#files.size > 0
          ? "running"
          : "waiting";
        if (firstScan) await this.#saveNow().catch(() => {});
        firstScan = false;
      } catch (error) {
        this.#fail(`scan failed: ${(error as Error).message}`);
      }
      await sleep(this.#opt.scanMs, signal).catch(() => {});
    }
    await polling;
  }

  async #scan(startAtEnd: boolean, recover: boolean): Promise<void> {
    const store = this.#store!;
    const found = await discoverFiles(this.source.paths, this.source.exclude);
    const seen = new Set<string>();
    for (const { path, info } of found) {
      const devIno = `${info.dev}:${info.ino}`;
      seen.add(devIno);
      const running = this.#files.get(devIno);
      if (running && !running.released) {
        if (running.reader.path !== path) {
          // Renamed within the globs: same file, same handle; it is not going away.
          running.reader.path = path;
          running.draining = false;
          running.encoder = this.#encoderFor(running.reader);
        }
        continue;
      }
      if (this.#skipped.get(devIno) === `${info.size}`) continue;
      await this.#open(path, info, startAtEnd && this.source.start_at !== "beginning", false);
    }
    if (recover) await this.#recoverMissing(seen);
    // Forget checkpoints of files that are neither followed nor present any more.
    for (const cp of store.all()) {
      const devIno = `${cp.dev}:${cp.ino}`;
      if (!seen.has(devIno) && !this.#files.has(devIno)) store.delete(cp.file_id);
    }
  }

  /**
   * Checkpointed files that the globs no longer find were rotated while the agent was stopped:
   * look for them (same device + inode + fingerprint) in the directory they were last seen in,
   * and read them to their end.
   */
  async #recoverMissing(seen: Set<string>): Promise<void> {
    for (const cp of this.#store!.all()) {
      const devIno = `${cp.dev}:${cp.ino}`;
      if (seen.has(devIno) || this.#files.has(devIno)) continue;
      const dir = dirname(cp.path);
      let found = false;
      try {
        for await (const entry of Deno.readDir(dir)) {
          if (!entry.isFile) continue;
          const path = join(dir, entry.name);
          const info = await Deno.stat(path).catch(() => undefined);
          if (!info || info.dev !== cp.dev || info.ino !== cp.ino) continue;
          found = true;
          seen.add(devIno);
          log.info(
            "source {source}: {old} was rotated to {path} while stopped; reading it to its end",
            {
              source: this.id,
              old: cp.path,
              path,
            },
          );
          await this.#open(path, info, false, true);
          break;
        }
      } catch {
        // directory gone: the file is gone too
      }
      if (!found && cp.offset > 0) {
        log.warn("source {source}: {path} (id {id}) disappeared while the agent was stopped", {
          source: this.id,
          path: cp.path,
          id: cp.file_id,
        });
      }
    }
  }

  /** Opens a discovered file at its checkpoint (or the start/end for a new one) and follows it. */
  async #open(path: string, info: Deno.FileInfo, atEnd: boolean, draining: boolean): Promise<void> {
    let reader: FileReader;
    try {
      reader = await FileReader.open(path, 0);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#fail(`cannot open ${path}: ${(error as Error).message}`);
      }
      return;
    }
    const devIno = reader.devIno;
    const store = this.#store!;
    let offset = 0;
    let known: FileCheckpoint | undefined;
    if (reader.identity) {
      const head = reader.head();
      known = store.all().find((cp) =>
        isSameFile({ dev: cp.dev, ino: cp.ino, fpLen: cp.fp_len, fp: cp.fp }, info, head)
      );
    }
    if (known) {
      offset = known.offset <= info.size ? known.offset : 0;
      // Same inode, other content: an inode reused by a new file; its old entry is stale.
    } else if (atEnd) {
      offset = info.size;
    }
    for (const cp of store.all()) {
      if (`${cp.dev}:${cp.ino}` === devIno && cp.file_id !== known?.file_id) {
        store.delete(cp.file_id);
      }
    }
    if (reader.binary) {
      reader.close();
      this.#skipBinary(path, devIno, info.size);
      return;
    }
    if (offset > 0) reader.seekTo(offset);
    const tail: FileTail = {
      reader,
      splitter: new LineSplitter({ maxLineBytes: this.#maxLineBytes, startOffset: offset }),
      joiner: this.source.multiline ? new MultilineJoiner(this.source.multiline) : undefined,
      acked: offset,
      sentUpTo: offset,
      draining,
      lastDataAt: Date.now(),
      encoder: this.#encoderFor(reader),
      released: false,
      nextPollAt: 0,
      idle: this.#opt.pollMs,
      lastCheck: 0,
      checks: 0,
    };
    this.#files.set(devIno, tail);
    if (reader.identity) this.#record(tail, reader.identity, offset);
    this.#deps.metrics?.filesTailed.set({ source: this.id }, this.#files.size);
    log.debug("source {source}: following {path} from {offset}", { source: this.id, path, offset });
    this.#wakePoller?.();
  }

  /** Stops following a file whose first bytes turned out binary (see `#skipBinary`). */
  #dropBinary(tail: FileTail): void {
    this.#skipBinary(tail.reader.path, tail.reader.devIno, tail.reader.size);
    this.#release(tail, true);
  }

  #skipBinary(path: string, devIno: string, size: number): void {
    if (this.#skipped.has(devIno)) return;
    this.#skipped.set(devIno, `${size}`);
    const message = `${path} looks binary (NUL byte in its first bytes); skipped`;
    log.warn("source {source}: {message}", { source: this.id, message });
    this.#lastError = message;
    this.#deps.metrics?.skippedFiles.inc({ source: this.id, reason: "binary" });
  }

  // ---- reading one file ------------------------------------------------------------------

  /**
   * Looks at every file of the source from one loop, each when its poll is due. One loop rather
   * than one per file: with 1,000 files a per-file sleep kept 1,000 timers and promises alive
   * across young-generation collections, so each poll's garbage was promoted to the old
   * generation and the heap grew to ~4× what was live. A pass schedules the files it looks at
   * from the same clock reading, so files polled together stay together.
   */
  async #pollLoop(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const now = Date.now();
      let next = now + MAX_IDLE_MS;
      let more = false;
      // An array, indexed: iterating a Map across awaits allocates a result object per step.
      const tails = Array.from(this.#files.values());
      for (let i = 0; i < tails.length && !signal.aborted; i++) {
        const tail = tails[i];
        if (tail.released) continue;
        if (tail.nextPollAt <= now) {
          try {
            for (let chunk = 0; chunk < CHUNKS_PER_VISIT && !signal.aborted; chunk++) {
              if (this.#inflight >= this.#opt.maxInflightBytes) await this.#waitForRoom();
              if (signal.aborted || !(await this.#poll(tail, now))) break;
              // A full chunk was read: let the producer and the acknowledgements run.
              await yieldToEventLoop();
            }
          } catch (error) {
            this.#fail(`reading ${tail.reader.path} failed: ${(error as Error).message}`);
            this.#release(tail, false);
            continue;
          }
        }
        if (tail.released) continue;
        if (tail.nextPollAt <= now) more = true;
        else if (tail.nextPollAt < next) next = tail.nextPollAt;
      }
      if (more || signal.aborted) continue;
      await this.#pause(Math.max(MIN_PASS_MS, next - Date.now()));
    }
  }

  /** Waits `ms`, or less when `#wakePoller` is called. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakePoller = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakePoller = done;
    });
  }

  /**
   * One look at a file (`now`: the pass's clock): new bytes are read (one chunk) and sent; the
   * timeouts of a partial line and of a multiline event, truncation, rotation and the end of a
   * rotated file are checked. Sets when the file is looked at next. True when a full chunk was
   * read: there may be more, and the rest of the look is left to the next one.
   */
  async #poll(tail: FileTail, now: number): Promise<boolean> {
    const { reader } = tail;
    const size = reader.refreshSize();
    const grew = size > reader.offset;
    if (grew) {
      const hadIdentity = reader.identity !== undefined;
      const chunk = reader.read(Math.min(size - reader.offset, this.#opt.readChunkBytes));
      if (!hadIdentity) {
        reader.establishIdentity();
        if (reader.binary) {
          this.#dropBinary(tail);
          return false;
        }
        tail.encoder = this.#encoderFor(tail.reader);
        if (reader.identity) this.#record(tail, reader.identity, tail.acked);
      }
      tail.lastDataAt = Date.now();
      tail.idle = this.#opt.pollMs;
      const lines = tail.splitter.push(chunk);
      this.#deps.metrics?.bytesRead.inc({ source: this.id }, chunk.length);
      await this.#emit(tail, lines);
      if (chunk.length === this.#opt.readChunkBytes) {
        tail.nextPollAt = now;
        return true;
      }
    }
    const at = Date.now();
    // Timeouts: a partial last line, an open multiline event.
    if (tail.splitter.pendingBytes > 0 && at - tail.lastDataAt >= this.#opt.lineFlushMs) {
      await this.#emit(tail, tail.splitter.flush());
    }
    if (tail.joiner?.pending) await this.#send(tail, tail.joiner.flushDue(at));
    // Shrunk: seen at every look. Refilled past the offset, renamed away, deleted: once a second.
    let change: FileChange = size < reader.offset ? "truncated" : "none";
    if (change === "none" && at - tail.lastCheck >= MAX_IDLE_MS) {
      tail.lastCheck = at;
      change = reader.check(++tail.checks % 4 === 0);
    }
    if (change === "truncated") {
      this.#restart(tail);
      return false;
    }
    if ((change === "moved" || change === "deleted") && !tail.draining) {
      tail.draining = true;
      log.info("source {source}: {path} was {change}; reading it to its end", {
        source: this.id,
        path: reader.path,
        change: change === "moved" ? "renamed away" : "deleted",
      });
    }
    if (tail.draining && at - tail.lastDataAt >= this.#opt.rotateWaitMs) {
      // The file is complete: its last line needs no newline, and an open event is done.
      await this.#emit(tail, tail.splitter.flush());
      if (tail.joiner) await this.#send(tail, tail.joiner.flush());
      this.#release(tail, true);
      return false;
    }
    tail.nextPollAt = now + tail.idle;
    if (!grew) tail.idle = Math.min(tail.idle * 2, MAX_IDLE_MS);
    return false;
  }

  /** Reads a truncated file again from byte 0, as a new file (looked at again at once). */
  #restart(tail: FileTail): void {
    const { reader } = tail;
    log.info("source {source}: {path} was truncated; reading it again from the start", {
      source: this.id,
      path: reader.path,
    });
    // Lines of the old content not yet acknowledged are lost with it; its entry goes.
    if (reader.identity) this.#store!.delete(reader.identity.id);
    reader.restartAtZero();
    if (reader.binary) {
      this.#dropBinary(tail);
      return;
    }
    tail.splitter.reset(0);
    if (tail.joiner) tail.joiner = new MultilineJoiner(this.source.multiline!);
    tail.acked = 0;
    tail.sentUpTo = 0;
    tail.encoder = this.#encoderFor(tail.reader);
    if (reader.identity) this.#record(tail, reader.identity, 0);
    tail.idle = this.#opt.pollMs;
    tail.nextPollAt = 0;
  }

  /** Lines from the splitter: through the multiline joiner (if any), then sent. */
  async #emit(tail: FileTail, lines: Line[]): Promise<void> {
    if (lines.length === 0) return;
    if (!tail.joiner) return this.#send(tail, lines);
    const now = Date.now();
    const events: Line[] = [];
    for (const line of lines) for (const e of tail.joiner.push(line, now)) events.push(e);
    await this.#send(tail, events);
  }

  /** Paces `lines` by the rate limit and hands them to the producer in one or more sends. */
  async #send(tail: FileTail, lines: Line[]): Promise<void> {
    if (lines.length === 0) return;
    const limiter = this.#limiter;
    if (!limiter) return this.#sendRecords(tail, lines);
    const step = limiter.sliceLines;
    for (let i = 0; i < lines.length; i += step) {
      const slice = lines.slice(i, i + step);
      let bytes = 0;
      for (const l of slice) bytes += l.end - l.offset;
      const delay = limiter.take(slice.length, bytes, Date.now());
      // Sleeping even when stopping would only delay the stop; the lines are sent regardless
      // (they were read and will be checkpointed only once acknowledged).
      if (delay > 0) await sleep(delay, this.#abort.signal).catch(() => {});
      this.#sendRecords(tail, slice);
    }
  }

  #sendRecords(tail: FileTail, lines: Line[]): void {
    const identity = tail.reader.identity;
    if (!identity) return;
    const ts = new Date().toISOString();
    const records: ProducerRecord[] = new Array(lines.length);
    const parser = this.source.parser && this.source.parser.type !== "none"
      ? this.source.parser
      : undefined;
    const encoder = tail.encoder;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      records[i] = encoder.encodeLine(l, ts, parser && parseLine(parser, l.text));
    }
    const last = lines[lines.length - 1];
    const bytes = Math.max(0, last.end - tail.sentUpTo);
    tail.sentUpTo = Math.max(tail.sentUpTo, last.end);
    const resume = last.resume;
    this.#inflight += bytes;
    this.#sendsPending++;
    this.#deps.metrics?.linesRead.inc({ source: this.id }, lines.length);
    this.#deps.producer.send(this.#topic, records).then(() => {
      this.#sendsPending--;
      this.#deps.metrics?.linesAcked.inc({ source: this.id }, lines.length);
      this.#deps.metrics?.bytesAcked.inc({ source: this.id }, bytes);
      this.#ackedUnsaved += bytes;
      // Acks come in send order, so `resume` only grows; a truncation since then changed the id.
      if (!this.#stopped && tail.reader.identity?.id === identity.id && resume > tail.acked) {
        tail.acked = resume;
        this.#record(tail, identity, resume);
      }
      this.#scheduleSave();
    }, () => {
      // Only when the producer closed first: the lines stay unacknowledged and are read again.
      this.#sendsPending--;
    });
  }

  /** The record encoder of a file as it is now (its path; its identity, if read yet). */
  #encoderFor(reader: FileReader): FileRecordEncoder {
    return new FileRecordEncoder({
      host: this.#deps.host,
      source: this.id,
      path: reader.path,
      fileId: reader.identity?.id ?? "",
      fields: this.source.fields,
    });
  }

  /** Sets a file's checkpoint entry (its offset acknowledged up to `offset`). */
  #record(tail: FileTail, identity: FileIdentity, offset: number): void {
    this.#store!.set({
      file_id: identity.id,
      dev: identity.dev,
      ino: identity.ino,
      fp_len: identity.fpLen,
      fp: identity.fp,
      path: tail.reader.path,
      offset,
      updated_at: new Date().toISOString(),
    });
    this.#deps.metrics?.lagBytes.set(
      { source: this.id, path: tail.reader.path },
      Math.max(0, tail.reader.size - offset),
    );
    // Saved within one checkpoint interval, acknowledged or not: a file just found is then known
    // after a crash, and looked for even if it was rotated out of the globs meanwhile.
    this.#scheduleSave();
  }

  /**
   * Closes a file. A file that left for good (`forget`) loses its checkpoint once everything
   * sent from it is acknowledged, so a later file reusing its inode is not mistaken for it.
   */
  #release(tail: FileTail, forget: boolean): void {
    if (tail.released) return;
    tail.released = true;
    tail.reader.close();
    this.#deps.metrics?.forgetFile(this.id, tail.reader.path);
    if (!forget) return;
    const devIno = tail.reader.devIno;
    const id = tail.reader.identity?.id;
    const drop = async () => {
      while (tail.acked < tail.splitter.position && this.#sendsPending > 0 && !this.#stopped) {
        await sleep(50);
      }
      if (this.#files.get(devIno) === tail) this.#files.delete(devIno);
      // Still on disk under a watched path (a rotated file kept by the globs): keep its offset.
      if (id && !this.#stopped && tail.draining) this.#store?.delete(id);
      this.#deps.metrics?.filesTailed.set({ source: this.id }, this.#files.size);
      this.#scheduleSave();
    };
    void drop();
  }

  // ---- back-pressure and checkpoints -----------------------------------------------------

  async #waitForRoom(): Promise<void> {
    while (this.#inflight >= this.#opt.maxInflightBytes && !this.#abort.signal.aborted) {
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
  }

  #wakeReaders(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  #scheduleSave(): void {
    if (this.#saveTimer !== undefined || this.#stopped) return;
    // Save sooner when the budget is filling up: reading waits on it.
    const urgent = this.#inflight >= this.#opt.maxInflightBytes / 2;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      void this.#saveNow();
    }, urgent ? 0 : this.#opt.checkpointMs);
  }

  /** Saves the checkpoints; calls queue behind a running save. */
  #saveNow(): Promise<void> {
    const run = this.#saving.then(() => this.#saveOnce());
    this.#saving = run;
    return run;
  }

  async #saveOnce(): Promise<void> {
    const store = this.#store;
    if (!store) return;
    const covered = this.#ackedUnsaved;
    try {
      if (store.dirty) await store.save();
      this.#ackedUnsaved -= covered;
      this.#inflight = Math.max(0, this.#inflight - covered);
      if (this.#checkpointBroken) {
        this.#checkpointBroken = false;
        this.#state = "running";
        log.info("source {source}: checkpoints are saved again", { source: this.id });
      }
      this.#wakeReaders();
    } catch (error) {
      // Reading stays held (the budget is not released) until a save succeeds.
      this.#checkpointBroken = true;
      this.#fail((error as Error).message);
      this.#deps.metrics?.checkpointErrors.inc({ source: this.id });
      log.error("source {source}: {error}", { source: this.id, error: (error as Error).message });
      if (!this.#stopped) {
        this.#saveTimer = setTimeout(() => {
          this.#saveTimer = undefined;
          void this.#saveNow();
        }, 1000);
      }
    }
    if (this.#ackedUnsaved > 0 && !this.#checkpointBroken) this.#scheduleSave();
  }

  #fail(message: string): void {
    this.#lastError = message;
    this.#state = "error";
  }
}

const parserCache = new Map<string, RegExp>();

/** Parsed fields of a line for the source's parser; undefined when it does not parse. */
export function parseLine(
  parser: NonNullable<Source["parser"]>,
  text: string,
): Record<string, unknown> | undefined {
  if (parser.type === "json") {
    if (text.length === 0 || text[0] !== "{") return undefined;
    try {
      const v = JSON.parse(text);
      return typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined;
    } catch {
      return undefined;
    }
  }
  if (parser.type === "regex") {
    let re = parserCache.get(parser.pattern);
    if (!re) parserCache.set(parser.pattern, re = new RegExp(parser.pattern));
    const m = re.exec(text);
    return m?.groups ? { ...m.groups } : undefined;
  }
  return undefined;
}
