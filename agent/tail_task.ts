/**
 * One running source: finds its files (scan + inotify), reads each from its checkpoint, splits and
 * joins lines, paces them by the rate limit, sends them to Kafka and checkpoints each file's offset
 * once Kafka acknowledged it. Bytes sent but not yet checkpointed are bounded, so when Kafka is
 * slow or down reading stops (the log file is the buffer) and resumes by itself.
 *
 * This class wires observations to decisions and carries them out; the decisions are pure and
 * live beside it: what a scan means (scan_plan.ts), what one look at a file means (file_look.ts),
 * whether a file continues a checkpoint (file_identity.ts), which files to close for room
 * (open_files.ts).
 * @module
 */
import { dirname, join } from "node:path";
import { setImmediate } from "node:timers";
import { sleep } from "../core/backoff.ts";
import { parseDuration } from "../core/duration.ts";
import { getLogger } from "../core/log.ts";
import { type EncodedLineRecords, FileRecordEncoder } from "../core/record_format.ts";
import type { Source, SourceState, SourceStatus } from "../config_plane/types.ts";
import type { LogProducer } from "../kafka/producer.ts";
import { CheckpointStore, type FileCheckpoint } from "./checkpoint_store.ts";
import { type DiscoveredFile, discoverFiles, isCompressed, statMatching } from "./discovery.ts";
import { decideLook, type PathCheck } from "./file_look.ts";
import { fingerprint, FINGERPRINT_BYTES, offsetPrint } from "./file_identity.ts";
import { FileReader } from "./file_reader.ts";
import { FileWatcher } from "./file_watcher.ts";
import { compileLineSteps, type LineSteps, shapeLine } from "./line_shape.ts";
import { DEFAULT_MAX_LINE_BYTES, type Line, type LineSink, LineSplitter } from "./line_splitter.ts";
import type { AgentMetrics } from "./metrics.ts";
import { MultilineJoiner } from "./multiline.ts";
import { chooseEvictions, type FileHolder, OpenFiles } from "./open_files.ts";
import { RateLimiter } from "./rate_limiter.ts";
import {
  type ClosedCheckpoint,
  decideUnknown,
  type KnownCheckpoint,
  type OpenFile,
  planScan,
  type ScannedFile,
} from "./scan_plan.ts";

/** Knobs of the reading loop (agent settings, not per source). */
export interface TailOptions {
  /**
   * How soon a file that just grew is looked at again, ms (default 50); the wait doubles up to
   * 1 s while the file stays idle.
   */
  pollMs: number;
  /**
   * How often the globs are scanned for new files, ms (default 1000); `WATCHED_SCAN_FACTOR` times
   * that while inotify watches every directory of the source (new files come as events then).
   */
  scanMs: number;
  /** A partial last line is sent after this long without its newline, ms (default 5000). */
  lineFlushMs: number;
  /** A renamed or deleted file is released this long after its last byte, ms (default 2000). */
  rotateWaitMs: number;
  /**
   * Bytes read but not yet acknowledged, per source (default 8 MiB: ~8 requests of ~1 MB beyond
   * the 3 in flight); acknowledged and not yet saved in a checkpoint, `UNSAVED_PER_INFLIGHT` times
   * as many.
   */
  maxInflightBytes: number;
  /** Bytes read per read call (default 256 KiB). */
  readChunkBytes: number;
  /** Cap on a record's message bytes, whatever max_line_bytes says (default 1,000,000). */
  maxRecordBytes: number;
  /** Lower bound between two checkpoint saves, ms (default 200). */
  checkpointMs: number;
  /** Learn of new and grown files from inotify, besides the scan and the poll (default true). */
  watch: boolean;
}

export const DEFAULT_TAIL_OPTIONS: TailOptions = {
  pollMs: 50,
  scanMs: 1000,
  lineFlushMs: 5000,
  rotateWaitMs: 2000,
  maxInflightBytes: 8 * 1024 * 1024,
  readChunkBytes: 256 * 1024,
  maxRecordBytes: 1_000_000,
  checkpointMs: 200,
  watch: true,
};

/** A source's `close_inactive` when it sets none: an idle file's handle is closed after this. */
export const DEFAULT_CLOSE_INACTIVE_MS = 5 * 60_000;
/** Files idle at least this long may be closed to make room for files with something to read. */
const RECLAIM_IDLE_MS = 500;

export interface TailTaskDeps {
  /** Host name in records and record keys. */
  host: string;
  producer: LogProducer;
  checkpointDir: string;
  metrics?: AgentMetrics;
  options?: Partial<TailOptions>;
  /** The agent-wide budget of open log files (default: no bound). */
  openFiles?: OpenFiles;
}

const log = getLogger("agent", "tail");

/** One open file. */
interface FileTail {
  reader: FileReader;
  /** `dev:ino` of the handle. */
  key: string;
  /**
   * The checkpoint (and record) id of the content read: the reader's identity, or the checkpoint
   * a copy continues (copytruncate's `app.log.1` continues what was read of `app.log`, under its
   * id, so a line gets the same event id whichever of the two it is read from).
   */
  fileId: string | undefined;
  /** Encodes this file's lines as Kafka records (its path and file id). */
  encoder: FileRecordEncoder | undefined;
  splitter: LineSplitter;
  joiner: MultilineJoiner | undefined;
  /** Offset up to which Kafka acknowledged everything. */
  acked: number;
  /** End of the last piece handed to the producer (for in-flight accounting). */
  sentUpTo: number;
  /** Its checkpoint was created and is not saved yet: nothing of it is read until it is. */
  unsaved: boolean;
  /** The print of the last bytes read and where they end (the checkpoint's offset_fp). */
  print: { fp: string; end: number } | undefined;
  /** Sends not yet acknowledged: [end offset, read time ms], oldest first (the checkpoint's `sent`). */
  sent: [number, number][];
  /** Read times of a previous run's unacknowledged sends, for the lines read again (`sent`). */
  replay: [number, number][];
  /** It left its path and the scan has not said yet where it went. */
  moved: boolean;
  /** The last full scan did not find it (a second one in a row means it is gone). */
  missedOnce: boolean;
  /** The scan did not find it under the globs: read to its end, then let go. */
  draining: boolean;
  lastDataAt: number;
  released: boolean;
  /** When the file is next looked at (ms since the epoch; 0: at once). */
  nextPollAt: number;
  /** The wait after a look that found nothing new: pollMs, doubling up to 1 s while idle. */
  idle: number;
  lastCheck: number;
  checks: number;
}

let sharedReadBuffer = new Uint8Array(0);

/**
 * The read buffer every tail task of the process reads into: reading and splitting a chunk is one
 * synchronous stretch, so one buffer serves them all (one per source would be 256 KiB each).
 */
function readBuffer(bytes: number): Uint8Array {
  if (sharedReadBuffer.length < bytes) sharedReadBuffer = new Uint8Array(bytes);
  return sharedReadBuffer;
}

/** A file looked at and left alone until it changes (binary, a copy of an open file, too old). */
interface Settled {
  size: number;
  /** For a copy of an open file: that file's id (looked at again once it is not open). */
  copyOf?: string;
}

/**
 * Bytes acknowledged and not yet covered by a saved checkpoint, per source, at most this many
 * times `maxInflightBytes`: what a crash may send again, and how far reading goes on while no
 * checkpoint can be saved.
 */
export const UNSAVED_PER_INFLIGHT = 4;

/** The longest wait between two looks at an idle file, ms. */
const MAX_IDLE_MS = 1000;
/** Chunks read from one file before the loop moves on to the others (fairness in a backlog). */
const CHUNKS_PER_VISIT = 4;
/**
 * The shortest wait between two passes of the poll loop, ms, unless a file has more to read:
 * files whose looks fall due a few ms apart are looked at in one pass, not in one pass each.
 */
const MIN_PASS_MS = 5;
/** A scan asked for (a file left its path, inotify saw a change) runs at most this soon, ms. */
const ASKED_SCAN_MS = 10;
/**
 * While inotify watches every directory of a source, its full scan runs this many times less
 * often: events bring new and renamed files within milliseconds, and the scan is only the
 * safety net (a stat of every matching file: with 1,000 files, scanning every second was half
 * of an idle agent's CPU and most of its garbage). Filebeat's scan_frequency is 10 s as well.
 */
export const WATCHED_SCAN_FACTOR = 10;

/** Lets timers and I/O run (acknowledgements, the producer's sends) and comes back at once. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A source's duration setting in ms (validated by the schema; a bad one means the default). */
function durationSetting(text: string | undefined, fallback?: number): number | undefined {
  return text === undefined ? fallback : parseDuration(text) ?? fallback;
}

/**
 * Runs one source until stopped.
 *
 * @example
 * ```ts ignore
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
export class TailTask implements FileHolder {
  readonly source: Source;
  readonly #deps: TailTaskDeps;
  readonly #opt: TailOptions;
  readonly #topic: string;
  readonly #abort = new AbortController();
  /** Open files by `dev:ino`. */
  readonly #files = new Map<string, FileTail>();
  /** Files left alone until they change, by `dev:ino`. */
  readonly #settled = new Map<string, Settled>();
  /** Scans in a row that found no file continuing a closed checkpoint, by file id. */
  readonly #unseen = new Map<string, { scans: number; since: number }>();
  /** Size of each closed checkpoint's file at the last scan (for the lag), by file id. */
  readonly #closedSizes = new Map<string, number>();
  /** Where the file of a closed checkpoint was sent up to (in flight), by file id. */
  readonly #sentWhenClosed = new Map<string, number>();
  readonly #limiter: RateLimiter | undefined;
  readonly #maxLineBytes: number;
  readonly #closeInactiveMs: number | undefined;
  readonly #ignoreOlderMs: number | undefined;
  readonly #openFiles: OpenFiles;
  readonly #unregister: () => void;
  /** The source's parser, event time and processors, compiled once. */
  readonly #steps: LineSteps;
  /**
   * Lines go from the read chunk to the record as bytes: no multiline, parser, event time,
   * processors or rate limit, so no step needs a line as text.
   */
  readonly #bytePath: boolean;
  /** Open files by the file id they carry. */
  readonly #byFileId = new Map<string, FileTail>();
  #store: CheckpointStore | undefined;
  #watcher: FileWatcher | undefined;
  #run: Promise<void> | undefined;
  #state: SourceState = "starting";
  #lastError: string | undefined;
  /** Bytes sent and not yet acknowledged. */
  #inflight = 0;
  /** File bytes read since the task started. */
  #bytesRead = 0;
  /** Bytes acknowledged since the last successful save. */
  #ackedUnsaved = 0;
  #sendsPending = 0;
  #roomWaiters: (() => void)[] = [];
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #saving: Promise<void> = Promise.resolve();
  /** Ends the poll loop's current wait early (a new file, a stop). */
  #wakePoller: (() => void) | undefined;
  /** Ends the scan loop's current wait early (a scan was asked for). */
  #wakeScanner: (() => void) | undefined;
  #scanAsked = false;
  /** Checkpoint ids by fingerprint length and fingerprint, for one scan (`#sameFirstBytes`). */
  #fpIndex: FingerprintIndex | undefined;
  /** Paths inotify reported since the last scan (a quick look at just these). */
  #changedPaths = new Set<string>();
  #checkpointBroken = false;
  #stopped = false;

  constructor(source: Source, deps: TailTaskDeps) {
    this.source = source;
    this.#deps = deps;
    this.#opt = { ...DEFAULT_TAIL_OPTIONS, ...deps.options };
    if (!source.topic) throw new TypeError(`source '${source.id}' has no topic`);
    this.#topic = source.topic;
    this.#limiter = source.rate ? new RateLimiter(source.rate, Date.now()) : undefined;
    this.#maxLineBytes = Math.min(
      source.max_line_bytes ?? DEFAULT_MAX_LINE_BYTES,
      this.#opt.maxRecordBytes,
    );
    this.#closeInactiveMs = durationSetting(source.close_inactive, DEFAULT_CLOSE_INACTIVE_MS);
    this.#ignoreOlderMs = durationSetting(source.ignore_older);
    this.#openFiles = deps.openFiles ?? new OpenFiles();
    this.#unregister = this.#openFiles.register(this);
    // A validated config never fails to compile (the schema checks compile the same code).
    this.#steps = compileLineSteps(source);
    this.#bytePath = !source.multiline && !this.#limiter && !this.#steps.parse &&
      !this.#steps.eventTime && !this.#steps.process;
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
    this.#watcher?.close();
    this.#wakeReaders();
    this.#wakePoller?.();
    this.#wakeScanner?.();
    await this.#run;
    const deadline = Date.now() + timeoutMs;
    while (this.#sendsPending > 0 && Date.now() < deadline) await sleep(20);
    if (this.#sendsPending > 0) {
      log.warn(
        "source {source}: {n} sends not acknowledged at stop; they are read again on restart",
        { source: this.id, n: this.#sendsPending },
      );
    }
    clearTimeout(this.#saveTimer);
    await this.#saveNow();
    this.#stopped = true;
    for (const tail of this.#files.values()) this.#letGo(tail);
    this.#files.clear();
    this.#unregister();
    this.#state = "stopped";
  }

  /** State, open and closed files, lag and last error, for the agent's status key. */
  status(): SourceStatus {
    let lag = 0;
    for (const t of this.#files.values()) lag += Math.max(0, t.reader.size - t.acked);
    let closed = 0;
    for (const cp of this.#store?.all() ?? []) {
      if (this.#openTailOf(cp.file_id)) continue;
      closed++;
      lag += Math.max(0, (this.#closedSizes.get(cp.file_id) ?? cp.offset) - cp.offset);
    }
    const status: SourceStatus = {
      state: this.#state,
      files: this.#files.size,
      files_closed: closed,
      lag_bytes: lag,
    };
    if (this.#lastError) status.last_error = this.#lastError;
    return status;
  }

  /** File bytes read since the task started (agent/idle_memory.ts watches it). */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  // ---- finding files -----------------------------------------------------------------------

  async #main(): Promise<void> {
    this.#store = await CheckpointStore.open(this.#deps.checkpointDir, this.id);
    const firstRun = !this.#store.existed;
    // Written even if empty: from now on files are new to a source that ran, read from byte 0.
    if (firstRun) this.#store.markDirty();
    const signal = this.#abort.signal;
    if (this.#opt.watch) {
      this.#watcher = new FileWatcher(
        this.source.paths,
        (paths, appeared) => this.#onChanged(paths, appeared),
        () => this.#askScan(),
      );
      this.#watcher.start();
    }
    const polling = this.#pollLoop();
    let firstScan = true;
    while (!signal.aborted) {
      try {
        const quick = !firstScan && !this.#scanAsked && this.#changedPaths.size > 0;
        const changed = [...this.#changedPaths];
        this.#changedPaths.clear();
        this.#scanAsked = false;
        if (quick) await this.#scanPaths(changed);
        else await this.#scan(firstScan && firstRun, firstScan);
        this.#state = this.#checkpointBroken
          ? "error"
          : this.#files.size > 0 || (this.#store?.all().length ?? 0) > 0
          ? "running"
          : "waiting";
        if (firstScan) await this.#saveNow().catch(() => {});
        firstScan = false;
      } catch (error) {
        this.#fail(`scan failed: ${(error as Error).message}`);
      }
      await this.#scanPause(signal);
    }
    await polling;
  }

  /** Waits for the next periodic scan, or less when a scan is asked for. */
  #scanPause(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakeScanner = undefined;
        resolve();
      };
      const asked = this.#scanAsked || this.#changedPaths.size > 0;
      const every = this.#watcher?.complete
        ? this.#opt.scanMs * WATCHED_SCAN_FACTOR
        : this.#opt.scanMs;
      const timer = setTimeout(done, asked ? ASKED_SCAN_MS : every);
      this.#wakeScanner = () => {
        clearTimeout(timer);
        // A short gather, so that a burst of events makes one scan.
        setTimeout(done, ASKED_SCAN_MS);
      };
    });
  }

  /** Asks for a full scan soon (a file left its path). */
  #askScan(): void {
    this.#scanAsked = true;
    const wake = this.#wakeScanner;
    this.#wakeScanner = undefined;
    wake?.();
  }

  /**
   * inotify: these paths changed. Open files among them are looked at now; other paths, and paths
   * a file was created or renamed at (`appeared`: the open file there may have been renamed away,
   * and another one taken its path), get a quick scan.
   */
  #onChanged(paths: string[], appeared: ReadonlySet<string>): void {
    let unknown = false;
    for (const path of paths) {
      const tail = this.#tailAtPath(path);
      if (tail) tail.nextPollAt = 0;
      if (!tail || appeared.has(path)) {
        this.#changedPaths.add(path);
        unknown = true;
      }
    }
    this.#wakePoller?.();
    if (unknown) {
      const wake = this.#wakeScanner;
      this.#wakeScanner = undefined;
      wake?.();
    }
  }

  #tailAtPath(path: string): FileTail | undefined {
    for (const tail of this.#files.values()) if (tail.reader.path === path) return tail;
    return undefined;
  }

  /** A full scan of the globs (`first`: the task's first, which also recovers rotated files). */
  async #scan(startAtEnd: boolean, first: boolean): Promise<void> {
    const discovered = await discoverFiles(this.source.paths, this.source.exclude);
    const found = await this.#apply(discovered, { startAtEnd, partial: false });
    // The checkpoints still closed after the first scan are the files no scan found.
    if (first) await this.#recoverMissing(found);
  }

  /** A look at just the paths inotify reported (new files, renames): no file is declared gone. */
  async #scanPaths(paths: string[]): Promise<void> {
    const found = await statMatching(paths, this.source.paths, this.source.exclude);
    if (found.length > 0) await this.#apply(found, { startAtEnd: false, partial: true });
  }

  /** Plans a scan's result (scan_plan.ts) and carries it out. */
  async #apply(
    discovered: DiscoveredFile[],
    mode: { startAtEnd: boolean; partial: boolean },
  ): Promise<ScannedFile[]> {
    this.#fpIndex = undefined;
    const found: ScannedFile[] = discovered.map(({ path, info }) => ({
      path,
      dev: info.dev ?? 0,
      ino: info.ino ?? 0,
      size: info.size,
      mtimeMs: info.mtime?.getTime() ?? 0,
    }));
    // A copy of a file that is no longer open is looked at again: it may continue it now.
    for (const [key, s] of this.#settled) {
      if (s.copyOf !== undefined && !this.#openTailOf(s.copyOf)) this.#settled.delete(key);
    }
    const open: OpenFile[] = [...this.#files.values()].filter((t) => !t.released).map((t) => ({
      key: t.key,
      path: t.reader.path,
      fileId: t.fileId,
    }));
    const closed = this.#closedCheckpoints();
    const now = Date.now();
    let actions = planScan({ found, open, closed, settled: this.#sizesOfSettled(), now });
    if (mode.partial) actions = actions.filter((a) => a.kind !== "gone" && a.kind !== "forget");
    const continued = new Set<string>();
    const forget: string[] = [];
    const seen = new Set<string>();
    for (const action of actions) {
      if (this.#abort.signal.aborted) return found;
      switch (action.kind) {
        case "renamed":
          this.#renamed(action.key, action.path);
          break;
        case "gone":
          this.#gone(action.key);
          break;
        case "reopen":
          seen.add(action.fileId);
          this.#closedSizes.set(action.fileId, action.file.size);
          await this.#reopen(action.fileId, action.file, mode.startAtEnd);
          break;
        case "seen":
          seen.add(action.fileId);
          this.#notePath(action.fileId, action.path);
          break;
        case "identify": {
          const fileId = await this.#identify(action.file, mode.startAtEnd);
          if (fileId) continued.add(fileId);
          break;
        }
        case "forget":
          forget.push(action.fileId);
          break;
      }
    }
    if (mode.partial) return found;
    for (const c of closed) {
      if (seen.has(c.fileId) || continued.has(c.fileId)) {
        this.#unseen.delete(c.fileId);
      } else if (forget.includes(c.fileId)) {
        this.#forget(c.fileId, c.path);
      } else {
        this.#unseen.set(c.fileId, { scans: c.unseen + 1, since: c.unseenSince ?? now });
      }
    }
    const foundKeys = new Set(found.map((f) => `${f.dev}:${f.ino}`));
    for (const tail of this.#files.values()) if (foundKeys.has(tail.key)) tail.missedOnce = false;
    // Files left alone and not found any more are forgotten (their dev:ino may be reused).
    for (const key of this.#settled.keys()) if (!foundKeys.has(key)) this.#settled.delete(key);
    return found;
  }

  #sizesOfSettled(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, s] of this.#settled) out.set(key, s.size);
    return out;
  }

  /** Checkpoints with no open file. */
  #closedCheckpoints(): ClosedCheckpoint[] {
    const out: ClosedCheckpoint[] = [];
    for (const cp of this.#store!.all()) {
      if (this.#openTailOf(cp.file_id)) continue;
      out.push({
        ...remembered(cp),
        fileId: cp.file_id,
        path: cp.path,
        unseen: this.#unseen.get(cp.file_id)?.scans ?? 0,
        unseenSince: this.#unseen.get(cp.file_id)?.since,
      });
    }
    return out;
  }

  #openTailOf(fileId: string): FileTail | undefined {
    return this.#byFileId.get(fileId);
  }

  /** Sets the file id a tail carries (and the index of open files by file id). */
  #carry(tail: FileTail, fileId: string | undefined): void {
    if (tail.fileId !== undefined && this.#byFileId.get(tail.fileId) === tail) {
      this.#byFileId.delete(tail.fileId);
    }
    tail.fileId = fileId;
    if (fileId !== undefined) this.#byFileId.set(fileId, tail);
    tail.encoder = this.#encoderFor(tail);
  }

  /**
   * The id for new content found on an inode: its identity's, unless a checkpoint of the same
   * inode's earlier content holds that id (the same first bytes: a file truncated and written
   * again with the same header); then the id gets a generation, so the two are never mixed up.
   */
  #freshId(id: string): string {
    if (!this.#store!.get(id)) return id;
    for (let n = 2;; n++) if (!this.#store!.get(`${id}~${n}`)) return `${id}~${n}`;
  }

  /** An open file found at another path within the globs: follow it there. */
  #renamed(key: string, path: string): void {
    const tail = this.#files.get(key);
    if (!tail) return;
    tail.reader.path = path;
    tail.moved = false;
    tail.draining = false;
    tail.encoder = this.#encoderFor(tail);
    if (tail.fileId) this.#notePath(tail.fileId, path);
  }

  /**
   * An open file the scan no longer finds under the globs: read it to its end. A listing made
   * while files are renamed can miss one that is there: unless its own look saw it leave its
   * path, a second scan must miss it too.
   */
  #gone(key: string): void {
    const tail = this.#files.get(key);
    if (!tail || tail.draining) return;
    if (!tail.moved && !tail.missedOnce) {
      tail.missedOnce = true;
      return;
    }
    tail.missedOnce = false;
    tail.moved = false;
    tail.draining = true;
    tail.nextPollAt = 0;
    log.info(
      "source {source}: {path} left the globs (renamed away or deleted); reading it to its end",
      {
        source: this.id,
        path: tail.reader.path,
      },
    );
  }

  #notePath(fileId: string, path: string): void {
    const cp = this.#store!.get(fileId);
    if (cp && cp.path !== path) this.#store!.set({ ...cp, path });
  }

  #forget(fileId: string, path: string): void {
    this.#store!.delete(fileId);
    this.#unseen.delete(fileId);
    this.#closedSizes.delete(fileId);
    this.#sentWhenClosed.delete(fileId);
    this.#deps.metrics?.forgetFile(this.id, path);
    log.debug("source {source}: forgot {path} (id {id}): no file continues it", {
      source: this.id,
      path,
      id: fileId,
    });
  }

  /** Opens a file, if the budget of open files allows (closing idle ones to make room). */
  async #openReader(path: string, offset: number): Promise<FileReader | undefined> {
    if (!this.#takePlace()) return undefined;
    try {
      return await FileReader.open(path, offset);
    } catch (error) {
      this.#openFiles.give();
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#fail(`cannot open ${path}: ${(error as Error).message}`);
      }
      return undefined;
    }
  }

  #takePlace(): boolean {
    if (this.#openFiles.tryTake()) return true;
    this.#openFiles.reclaim(1, RECLAIM_IDLE_MS, this);
    return this.#openFiles.tryTake();
  }

  /** A closed checkpoint's file has something new: open it at its offset. */
  async #reopen(fileId: string, file: ScannedFile, startAtEnd: boolean): Promise<void> {
    const cp = this.#store!.get(fileId);
    if (!cp) return;
    const opened = await this.#openReader(file.path, 0);
    if (!opened) return;
    const reader = opened;
    // What was opened is what counts: the path may name another file than the scan saw.
    file = actualFile(reader, file);
    const head = reader.head(FINGERPRINT_BYTES);
    const before = readBeforeOf(reader, cp.print_end ?? cp.offset);
    const verdict = decideUnknown(
      { evidence: { dev: file.dev, ino: file.ino, size: file.size, head, before }, mtimeMs: 0 },
      [{ ...remembered(cp), fileId, open: false }],
      { startAtEnd: false, now: Date.now() },
    );
    if (verdict.kind !== "continue") {
      // The inode was reused by another file: it is a new file, and the checkpoint waits for
      // a file that continues it (or is forgotten).
      reader.close();
      this.#openFiles.give();
      await this.#identify(file, startAtEnd);
      return;
    }
    this.#follow(reader, fileId, this.#resumeAt(fileId, cp.offset), false);
  }

  /** Where to read a closed file from: past what is still in flight from it, if anything. */
  #resumeAt(fileId: string, offset: number): number {
    const sent = this.#sentWhenClosed.get(fileId);
    this.#sentWhenClosed.delete(fileId);
    return sent !== undefined && sent > offset ? sent : offset;
  }

  /**
   * A file with an unknown inode: its first bytes (and the bytes before each candidate
   * checkpoint's offset) decide what it is (scan_plan.ts `decideUnknown`). Returns the id of the
   * checkpoint it continues, if it does.
   */
  async #identify(scanned: ScannedFile, startAtEnd: boolean): Promise<string | undefined> {
    const reader = await this.#openReader(scanned.path, 0);
    if (!reader) return undefined;
    // What was opened is what counts: the path may name another file than the scan saw (a
    // rotation between the two); one already followed is left to its tail.
    const file = actualFile(reader, scanned);
    if (this.#files.has(reader.devIno)) {
      reader.close();
      this.#openFiles.give();
      return undefined;
    }
    const head = reader.head(FINGERPRINT_BYTES);
    const evidence = { dev: file.dev, ino: file.ino, size: file.size, head };
    // Only checkpoints with the same first bytes can be continued: found through their
    // fingerprints, so that 10,000 new files against 10,000 checkpoints stay cheap. The bytes
    // before an offset differ per checkpoint: each candidate is asked on its own, closed ones
    // first (as decideUnknown orders them), reading only what it needs.
    const candidates: KnownCheckpoint[] = this.#sameFirstBytes(head)
      .filter((cp) => file.size >= cp.offset)
      .map((cp) => ({
        ...remembered(cp),
        fileId: cp.file_id,
        open: !!this.#openTailOf(cp.file_id),
      }))
      .sort((a, b) => Number(a.open) - Number(b.open));
    const options = {
      startAtEnd: startAtEnd && this.source.start_at !== "beginning",
      ignoreOlderMs: this.#ignoreOlderMs,
      now: Date.now(),
    };
    let verdict = decideUnknown({ evidence, mtimeMs: file.mtimeMs }, [], options);
    for (const candidate of candidates) {
      const before = readBeforeOf(reader, candidate.printEnd ?? candidate.offset);
      const v = decideUnknown({ evidence: { ...evidence, before }, mtimeMs: file.mtimeMs }, [
        candidate,
      ], options);
      if (v.kind === "continue" || v.kind === "copy-of-open") {
        verdict = v;
        break;
      }
    }
    log.debug(
      "source {source}: {path} ({size} bytes, inode {ino}): {verdict}; candidates {candidates}",
      {
        source: this.id,
        path: file.path,
        size: file.size,
        ino: file.ino,
        verdict: verdict.kind,
        candidates: candidates.map((c) => `${c.fileId}@${c.offset}${c.open ? " open" : ""}`),
      },
    );
    switch (verdict.kind) {
      case "continue": {
        const cp = this.#store!.get(verdict.fileId)!;
        if (verdict.how === "copy") {
          log.info(
            "source {source}: {path} continues {old} (a copy of it: the same first bytes and the same bytes before offset {offset}); reading it from there",
            { source: this.id, path: file.path, old: cp.path, offset: cp.offset },
          );
        }
        this.#store!.set({ ...cp, dev: file.dev, ino: file.ino, path: file.path });
        this.#follow(reader, verdict.fileId, this.#resumeAt(verdict.fileId, cp.offset), false);
        return verdict.fileId;
      }
      case "copy-of-open":
        log.debug("source {source}: {path} is a copy of a file being read; left alone", {
          source: this.id,
          path: file.path,
        });
        this.#settle(reader, { size: file.size, copyOf: verdict.fileId });
        return undefined;
      case "too-old":
        this.#settle(reader, { size: file.size });
        return undefined;
      case "new":
        if (reader.binary) {
          this.#skipBinary(file.path, reader.devIno, file.size);
          this.#settle(reader, { size: file.size });
          return undefined;
        }
        this.#follow(
          reader,
          reader.identity ? this.#freshId(reader.identity.id) : undefined,
          verdict.offset,
          false,
        );
        return undefined;
    }
  }

  /**
   * Checkpoints whose fingerprint matches the first bytes `head` (of its own length), through
   * an index of the checkpoints by fingerprint length and fingerprint, built once per scan.
   */
  #sameFirstBytes(head: Uint8Array): FileCheckpoint[] {
    const index = this.#fpIndex ??= fingerprintIndex(this.#store!.all());
    const out: FileCheckpoint[] = [];
    for (const [length, byFp] of index) {
      if (length > head.length) continue;
      for (const id of byFp.get(fingerprint(head.subarray(0, length))) ?? []) {
        const cp = this.#store!.get(id);
        if (cp) out.push(cp);
      }
    }
    return out;
  }

  #settle(reader: FileReader, settled: Settled): void {
    this.#settled.set(reader.devIno, settled);
    reader.close();
    this.#openFiles.give();
  }

  /**
   * Checkpointed files that no scan found were rotated while the agent was stopped: look for a
   * file that continues them (same inode, or a copy) in the directory they were last seen in,
   * among the files outside the globs, and read it to its end. Each directory is listed once.
   */
  async #recoverMissing(found: readonly ScannedFile[]): Promise<void> {
    const inGlobs = new Set(found.map((f) => f.path));
    const foundInodes = new Set(found.map((f) => `${f.dev}:${f.ino}`));
    const byDir = new Map<string, ClosedCheckpoint[]>();
    for (const c of this.#closedCheckpoints()) {
      // Found by the scan (closed only for want of room, or idle): not missing.
      if (foundInodes.has(`${c.dev}:${c.ino}`)) continue;
      const dir = dirname(c.path);
      byDir.set(dir, [...(byDir.get(dir) ?? []), c]);
    }
    for (const [dir, missing] of byDir) {
      const files: ScannedFile[] = [];
      try {
        for await (const entry of Deno.readDir(dir)) {
          const path = join(dir, entry.name);
          if (!entry.isFile || inGlobs.has(path) || isCompressed(path)) continue;
          const info = await Deno.stat(path).catch(() => undefined);
          if (!info || this.#files.has(`${info.dev}:${info.ino}`)) continue;
          files.push({ path, dev: info.dev ?? 0, ino: info.ino ?? 0, size: info.size, mtimeMs: 0 });
        }
      } catch {
        // directory gone: its files are gone too
      }
      for (const c of missing) {
        if (this.#openTailOf(c.fileId)) continue;
        // The same inode first (a rename out of the globs), then copies.
        const ordered = [
          ...files.filter((f) => f.dev === c.dev && f.ino === c.ino),
          ...files.filter((f) => (f.dev !== c.dev || f.ino !== c.ino) && f.size >= c.offset),
        ];
        let recovered = false;
        for (const file of ordered) {
          if (this.#files.has(`${file.dev}:${file.ino}`) || file.size < c.offset) continue;
          const reader = await this.#openReader(file.path, 0);
          if (!reader) break;
          if (reader.dev !== file.dev || reader.ino !== file.ino) {
            // Renamed since it was listed: looked at by the next scan.
            reader.close();
            this.#openFiles.give();
            continue;
          }
          const verdict = decideUnknown(
            {
              evidence: {
                ...evidenceOf(file),
                head: reader.head(FINGERPRINT_BYTES),
                before: readBeforeOf(reader, c.printEnd ?? c.offset),
              },
              mtimeMs: 0,
            },
            [{ ...c, open: false }],
            { startAtEnd: false, now: Date.now() },
          );
          if (verdict.kind !== "continue") {
            reader.close();
            this.#openFiles.give();
            continue;
          }
          recovered = true;
          log.info(
            "source {source}: {old} was rotated to {path} while stopped; reading it to its end",
            { source: this.id, old: c.path, path: file.path },
          );
          const cp = this.#store!.get(c.fileId)!;
          this.#store!.set({ ...cp, dev: file.dev, ino: file.ino, path: file.path });
          this.#follow(reader, c.fileId, cp.offset, true);
          break;
        }
        if (!recovered && c.offset > 0) {
          log.warn("source {source}: {path} (id {id}) disappeared while the agent was stopped", {
            source: this.id,
            path: c.path,
            id: c.fileId,
          });
        }
      }
    }
  }

  /** Follows an open file from `offset` under `fileId` (undefined while the file is empty). */
  #follow(
    reader: FileReader,
    fileId: string | undefined,
    offset: number,
    draining: boolean,
  ): FileTail {
    if (offset > 0) reader.seekTo(offset);
    const tail: FileTail = {
      reader,
      key: reader.devIno,
      fileId: undefined,
      encoder: undefined,
      splitter: new LineSplitter({ maxLineBytes: this.#maxLineBytes, startOffset: offset }),
      joiner: this.source.multiline ? new MultilineJoiner(this.source.multiline) : undefined,
      acked: offset,
      sentUpTo: offset,
      unsaved: false,
      print: undefined,
      sent: [],
      replay: [],
      moved: false,
      missedOnce: false,
      draining,
      lastDataAt: Date.now(),
      released: false,
      nextPollAt: 0,
      idle: this.#opt.pollMs,
      lastCheck: 0,
      checks: 0,
    };
    this.#carry(tail, fileId);
    this.#settled.delete(tail.key);
    this.#unseen.delete(fileId ?? "");
    this.#files.set(tail.key, tail);
    // A known file keeps its checkpoint (only acknowledgements move it); a new one gets one now.
    const known = fileId ? this.#store!.get(fileId) : undefined;
    if (fileId && !known) this.#createCheckpoint(tail, fileId, offset);
    // Lines sent by a previous run and not acknowledged are read again: with their read time.
    tail.replay = known?.sent?.filter(([end]) => end > offset) ?? [];
    this.#deps.metrics?.filesTailed.set({ source: this.id }, this.#files.size);
    log.debug("source {source}: following {path} from {offset}", {
      source: this.id,
      path: reader.path,
      offset,
    });
    this.#wakePoller?.();
    return tail;
  }

  #skipBinary(path: string, key: string, size: number): void {
    if (this.#settled.has(key)) return;
    const message = `${path} looks binary (NUL byte in its first bytes); skipped`;
    log.warn("source {source}: {message}", { source: this.id, message });
    this.#lastError = message;
    this.#deps.metrics?.skippedFiles.inc({ source: this.id, reason: "binary" });
    this.#settled.set(key, { size });
  }

  // ---- reading one file --------------------------------------------------------------------

  /**
   * Looks at every open file of the source from one loop, each when its poll is due. One loop
   * rather than one per file: with 1,000 files a per-file sleep kept 1,000 timers and promises
   * alive across young-generation collections, so each poll's garbage was promoted to the old
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
              if (this.#full()) await this.#waitForRoom();
              if (signal.aborted || !(await this.#poll(tail, now))) break;
              // A full chunk was read: let the producer and the acknowledgements run.
              await yieldToEventLoop();
            }
          } catch (error) {
            this.#fail(`reading ${tail.reader.path} failed: ${(error as Error).message}`);
            this.#close(tail);
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
   * timeouts of a partial line and of a multiline event are checked, and what file_look.ts
   * decides from the file's size and its path is carried out. Sets when the file is looked at
   * next. True when a full chunk was read: there may be more, and the rest of the look is left to
   * the next one.
   */
  async #poll(tail: FileTail, now: number): Promise<boolean> {
    const { reader } = tail;
    const size = reader.refreshSize();
    const grew = size > reader.offset;
    if (grew && !tail.fileId) {
      // The file had no content when it was opened: its identity is taken now.
      const identity = reader.establishIdentity();
      if (reader.binary) {
        this.#skipBinary(reader.path, tail.key, reader.size);
        this.#letGo(tail);
        return false;
      }
      if (identity) {
        const fileId = this.#freshId(identity.id);
        this.#carry(tail, fileId);
        this.#createCheckpoint(tail, fileId, tail.acked);
      }
    }
    if (grew && tail.unsaved) {
      // Its checkpoint (its file id) is not on disk yet: nothing is read before it is, so a
      // crash cannot make the same lines come back under another id (an identity taken of
      // fewer first bytes than the next agent would see).
      tail.nextPollAt = now + this.#opt.pollMs;
      return false;
    }
    if (grew) {
      // Into the one read buffer of the process: the lines are split (and copied into records
      // or decoded) before anything else reads, and a 256 KiB array per read was garbage.
      const chunk = reader.readContinuous(
        Math.min(size - reader.offset, this.#opt.readChunkBytes),
        readBuffer(this.#opt.readChunkBytes),
      );
      if (!chunk) {
        // Truncated and written again past our offset since the last look: new content.
        this.#restart(tail);
        return false;
      }
      tail.print = { fp: reader.lastPrint(), end: reader.offset };
      tail.lastDataAt = Date.now();
      tail.idle = this.#opt.pollMs;
      this.#bytesRead += chunk.length;
      this.#deps.metrics?.bytesRead.inc({ source: this.id }, chunk.length);
      if (this.#bytePath) this.#sendBytes(tail, chunk);
      else await this.#emit(tail, tail.splitter.push(chunk));
      if (chunk.length === this.#opt.readChunkBytes) {
        tail.nextPollAt = now;
        return true;
      }
    }
    const at = Date.now();
    // Timeouts: a partial last line, an open multiline event.
    if (tail.splitter.pendingBytes > 0 && at - tail.lastDataAt >= this.#opt.lineFlushMs) {
      await this.#flushLine(tail);
    }
    if (tail.joiner?.pending) await this.#send(tail, tail.joiner.flushDue(at));
    // Shrunk: seen at every look. Refilled past the offset, renamed away, deleted: once a second.
    let check: PathCheck | undefined;
    if (at - tail.lastCheck >= MAX_IDLE_MS) {
      tail.lastCheck = at;
      check = reader.check(++tail.checks % 4 === 0);
    }
    const verdict = decideLook({
      size: reader.size,
      offset: reader.offset,
      check,
      moved: tail.moved,
      draining: tail.draining,
      idleMs: at - tail.lastDataAt,
      rotateWaitMs: this.#opt.rotateWaitMs,
      closeInactiveMs: this.#closeInactiveMs,
      settled: this.#isSettled(tail),
    });
    switch (verdict) {
      case "restart":
        this.#restart(tail);
        return false;
      case "ask-scan":
        tail.moved = true;
        this.#askScan();
        tail.nextPollAt = now;
        return false;
      case "read":
        tail.nextPollAt = now;
        return false;
      case "release":
        // The file is complete: its last line needs no newline, and an open event is done.
        await this.#flushLine(tail);
        if (tail.joiner) await this.#send(tail, tail.joiner.flush());
        log.debug("source {source}: {path} read to its end and let go", {
          source: this.id,
          path: reader.path,
        });
        this.#close(tail);
        return false;
      case "close":
        log.debug("source {source}: {path} idle; closed until it grows", {
          source: this.id,
          path: reader.path,
        });
        this.#close(tail);
        return false;
      case "wait":
        break;
    }
    tail.nextPollAt = now + tail.idle;
    if (!grew) tail.idle = Math.min(tail.idle * 2, MAX_IDLE_MS);
    return false;
  }

  /** Nothing held for the file: read to its end, no partial line, no open multiline event. */
  #isSettled(tail: FileTail): boolean {
    return tail.splitter.pendingBytes === 0 && !tail.joiner?.pending &&
      tail.reader.offset >= tail.reader.size;
  }

  /**
   * Reads a truncated file again from byte 0, as a new file (looked at again at once). What was
   * read of the old content keeps its checkpoint: a copy of it (copytruncate's `app.log.1`)
   * continues from there, and acknowledgements still in flight still move it.
   */
  #restart(tail: FileTail): void {
    const { reader } = tail;
    log.info("source {source}: {path} was truncated; reading it again from the start", {
      source: this.id,
      path: reader.path,
    });
    if (tail.fileId) this.#sentWhenClosed.set(tail.fileId, tail.sentUpTo);
    reader.restartAtZero();
    if (reader.binary) {
      this.#skipBinary(reader.path, tail.key, reader.size);
      this.#letGo(tail);
      return;
    }
    tail.splitter.reset(0);
    if (tail.joiner) tail.joiner = new MultilineJoiner(this.source.multiline!);
    tail.acked = 0;
    tail.sentUpTo = 0;
    tail.print = undefined;
    tail.sent = [];
    tail.replay = [];
    const fileId = reader.identity ? this.#freshId(reader.identity.id) : undefined;
    this.#carry(tail, fileId);
    if (fileId) this.#createCheckpoint(tail, fileId, 0);
    tail.idle = this.#opt.pollMs;
    tail.nextPollAt = 0;
  }

  /** Sends the held partial line as finished (its flush timeout, or the file is complete). */
  #flushLine(tail: FileTail): Promise<void> {
    if (this.#bytePath) {
      this.#sendBytes(tail, undefined);
      return Promise.resolve();
    }
    return this.#emit(tail, tail.splitter.flush());
  }

  /**
   * The byte path: the lines `chunk` finishes (undefined: the held partial line) go from the read
   * buffer into the send's records as bytes, with no string per line (core/record_format.ts,
   * format 2); whether a line is UTF-8 is decided where it is decoded, by the transfer.
   */
  #sendBytes(tail: FileTail, chunk: Uint8Array | undefined): void {
    const { fileId, encoder, splitter } = tail;
    if (!fileId || !encoder) {
      // No identity yet: nothing to send, but the splitter keeps its place in the file.
      const skip = () => {};
      if (chunk) splitter.pushTo(chunk, skip);
      else splitter.flushTo(skip);
      return;
    }
    const readMs = Date.now();
    const readIso = new Date(readMs).toISOString();
    let count = 0;
    let lastEnd = 0;
    let lastResume = 0;
    const replaying = tail.replay.length > 0;
    encoder.begin(readIso);
    const sink: LineSink = (bytes, start, stop, offset, end, resume, part) => {
      // A line read again after a restart keeps the read time of its first send (its shard).
      if (replaying) encoder.setTimestamp(this.#replayedReadTime(tail, end, readIso));
      encoder.addBytes(bytes, start, stop, offset, part);
      count++;
      lastEnd = end;
      lastResume = resume;
    };
    try {
      if (chunk) splitter.pushTo(chunk, sink);
      else splitter.flushTo(sink);
    } finally {
      const records = encoder.finish();
      if (count > 0) this.#dispatch(tail, records, count, lastEnd, lastResume, readMs);
    }
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

  /** The string path: lines a source's steps need as text, shaped and encoded, then sent. */
  #sendRecords(tail: FileTail, lines: Line[]): void {
    const { fileId, encoder } = tail;
    if (!fileId || !encoder) return;
    const readMs = Date.now();
    const readIso = new Date(readMs).toISOString();
    const plain = !this.#steps.parse && !this.#steps.eventTime && !this.#steps.process;
    let dropped = 0;
    encoder.begin(readIso);
    try {
      for (let i = 0; i < lines.length; i++) {
        const l = lines[i];
        // A line read again after a restart keeps the read time of its first send (its shard).
        const read = tail.replay.length > 0
          ? this.#replayedReadTime(tail, l.end, readIso)
          : readIso;
        if (plain) {
          encoder.addLine(l, read);
          continue;
        }
        const line = this.#steps.process ? { ...l } : l;
        const out = shapeLine(this.#steps, line, read);
        if (!out) {
          dropped++;
          continue;
        }
        for (const flag of out.extras.flags ?? []) {
          this.#deps.metrics?.linesFlagged.inc({ source: this.id, flag });
        }
        encoder.addLine(line, out.timestamp, out.extras);
      }
    } finally {
      const records = encoder.finish();
      if (dropped > 0) this.#deps.metrics?.linesDropped.inc({ source: this.id }, dropped);
      const last = lines[lines.length - 1];
      this.#dispatch(tail, records, lines.length, last.end, last.resume, readMs);
    }
  }

  /**
   * Hands a send's records to the producer and accounts for them: bytes in flight, the read time
   * of the send (`tail.sent`), and on the acknowledgement the checkpoint moved to `resume`.
   * `lineCount` lines (some perhaps dropped by the source's steps) end at `lastEnd`.
   */
  #dispatch(
    tail: FileTail,
    records: EncodedLineRecords,
    lineCount: number,
    lastEnd: number,
    resume: number,
    readMs: number,
  ): void {
    const fileId = tail.fileId!;
    const last = { end: lastEnd };
    const bytes = Math.max(0, last.end - tail.sentUpTo);
    tail.sentUpTo = Math.max(tail.sentUpTo, last.end);
    // The print of the last bytes read (at or past `resume`), taken from the bytes as they were
    // read: a copytruncate right after the last write of a file must not change it.
    const print = tail.print;
    this.#inflight += bytes;
    this.#sendsPending++;
    tail.sent.push([last.end, readMs]);
    // The next save (within one checkpoint interval) writes this send's read time down.
    this.#scheduleSave();
    this.#deps.metrics?.linesRead.inc({ source: this.id }, lineCount);
    this.#deps.producer.sendEncoded(this.#topic, records).then(() => {
      this.#sendsPending--;
      while (tail.sent.length > 0 && tail.sent[0][0] <= last.end) tail.sent.shift();
      this.#deps.metrics?.linesAcked.inc({ source: this.id }, lineCount);
      this.#deps.metrics?.bytesAcked.inc({ source: this.id }, bytes);
      this.#ackedUnsaved += bytes;
      this.#inflight = Math.max(0, this.#inflight - bytes);
      if (this.#roomWaiters.length > 0 && !this.#full()) this.#wakeReaders();
      if (this.#stopped) return;
      // Acks come in send order, so `resume` only grows for a file id. The checkpoint moves even
      // when the file was truncated since (its copy continues from here) or closed meanwhile.
      if (tail.fileId === fileId && resume > tail.acked) tail.acked = resume;
      const cp = this.#store!.get(fileId);
      if (cp && resume > cp.offset) {
        this.#store!.set({
          ...cp,
          offset: resume,
          ...(print ? { offset_fp: print.fp, print_end: print.end } : {}),
          updated_at: new Date().toISOString(),
        });
        this.#noteLag(tail, fileId, resume);
      }
      this.#scheduleSave();
    }, () => {
      // Only when the producer closed first: the lines stay unacknowledged and are read again.
      this.#sendsPending--;
    });
  }

  /**
   * The read time of a line read again after a restart: that of the send of the previous run
   * that carried it (`sent` in its checkpoint), or `now` once past them.
   */
  #replayedReadTime(tail: FileTail, end: number, now: string): string {
    while (tail.replay.length > 0 && tail.replay[0][0] < end) tail.replay.shift();
    return tail.replay.length > 0 ? new Date(tail.replay[0][1]).toISOString() : now;
  }

  /** The record encoder of a file as it is now (its path and file id). */
  #encoderFor(tail: FileTail): FileRecordEncoder | undefined {
    if (!tail.fileId) return undefined;
    return new FileRecordEncoder({
      host: this.#deps.host,
      source: this.id,
      path: tail.reader.path,
      fileId: tail.fileId,
      fields: this.source.fields,
    });
  }

  /**
   * The checkpoint of a file seen for the first time (or new content on a truncated one): where
   * it starts to be read (0, or its end with start_at end).
   */
  #createCheckpoint(tail: FileTail, fileId: string, offset: number): void {
    tail.unsaved = true;
    const identity = tail.reader.identity!;
    log.debug(
      "source {source}: checkpoint {id} of {path} at {offset} (first {len} bytes, size {size})",
      {
        source: this.id,
        id: fileId,
        path: tail.reader.path,
        offset,
        len: identity.fpLen,
        size: tail.reader.size,
      },
    );
    // The fingerprint index of this scan learns it too: the poll loop creates checkpoints (new
    // content after a truncation) while a scan identifies copies, and a copy of this very
    // content may be among them.
    if (this.#fpIndex) indexCheckpoint(this.#fpIndex, identity.fpLen, identity.fp, fileId);
    this.#store!.set({
      file_id: fileId,
      dev: identity.dev,
      ino: identity.ino,
      fp_len: identity.fpLen,
      fp: identity.fp,
      path: tail.reader.path,
      offset,
      ...(offset > 0 ? { offset_fp: offsetPrint(readBeforeOf(tail.reader, offset)) } : {}),
      updated_at: new Date().toISOString(),
    });
    this.#noteLag(tail, fileId, offset);
    // Saved at once, acknowledged or not: the file is held until it is (`unsaved`), and known
    // after a crash, looked for even if it was rotated out of the globs meanwhile.
    this.#saveSoon();
  }

  #noteLag(tail: FileTail, fileId: string, offset: number): void {
    if (tail.fileId !== fileId || tail.released) return;
    this.#deps.metrics?.lagBytes.set(
      { source: this.id, path: tail.reader.path },
      Math.max(0, tail.reader.size - offset),
    );
  }

  /**
   * Closes a file's handle; its checkpoint stays (the scan reopens it when it grows, or forgets
   * it when no file continues it any more).
   */
  #close(tail: FileTail): void {
    if (tail.released) return;
    if (tail.fileId && tail.sentUpTo > tail.acked) {
      this.#sentWhenClosed.set(tail.fileId, tail.sentUpTo);
    }
    if (tail.fileId) this.#closedSizes.set(tail.fileId, tail.reader.size);
    this.#letGo(tail);
  }

  /** Closes the handle and stops following (nothing about its checkpoint). */
  #letGo(tail: FileTail): void {
    if (tail.released) return;
    tail.released = true;
    tail.reader.close();
    this.#openFiles.give();
    if (this.#files.get(tail.key) === tail) this.#files.delete(tail.key);
    if (tail.fileId !== undefined && this.#byFileId.get(tail.fileId) === tail) {
      this.#byFileId.delete(tail.fileId);
    }
    this.#deps.metrics?.forgetFile(this.id, tail.reader.path);
    this.#deps.metrics?.filesTailed.set({ source: this.id }, this.#files.size);
  }

  /** FileHolder: closes up to `count` settled files idle at least `minIdleMs` (for room). */
  closeIdle(count: number, minIdleMs: number): number {
    const now = Date.now();
    const keys = chooseEvictions(
      [...this.#files.values()].filter((t) => !t.released && !t.draining && !t.moved).map((t) => ({
        key: t.key,
        idleMs: now - t.lastDataAt,
        settled: this.#isSettled(t),
      })),
      count,
      minIdleMs,
    );
    for (const key of keys) this.#close(this.#files.get(key)!);
    return keys.length;
  }

  // ---- back-pressure and checkpoints -------------------------------------------------------

  /**
   * Reading waits: too much sent and not acknowledged, or acknowledged and not saved, or no
   * checkpoint can be saved now.
   */
  #full(): boolean {
    return this.#inflight >= this.#opt.maxInflightBytes ||
      this.#ackedUnsaved >= this.#maxUnsaved() || this.#checkpointBroken;
  }

  /** Most bytes acknowledged and not yet in a saved checkpoint. */
  #maxUnsaved(): number {
    return this.#opt.maxInflightBytes * UNSAVED_PER_INFLIGHT;
  }

  async #waitForRoom(): Promise<void> {
    while (this.#full() && !this.#abort.signal.aborted) {
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
    const urgent = this.#ackedUnsaved >= this.#maxUnsaved() / 2;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      void this.#saveNow();
    }, urgent ? 0 : this.#opt.checkpointMs);
  }

  /** A save as soon as possible (a new file waits for it), coalescing with a scheduled one. */
  #saveSoon(): void {
    if (this.#stopped) return;
    clearTimeout(this.#saveTimer);
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      void this.#saveNow();
    }, 0);
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
    // The files whose checkpoint this save writes for the first time: free to be read after it.
    const created = [...this.#files.values()].filter((t) => t.unsaved);
    // With each checkpoint, the read times of what was sent and not yet acknowledged: the lines
    // read again after a crash keep them (and so their shard).
    for (const tail of this.#files.values()) this.#noteSent(tail);
    try {
      if (store.dirty) await store.save();
      for (const tail of created) {
        tail.unsaved = false;
        tail.nextPollAt = 0;
      }
      if (created.length > 0) this.#wakePoller?.();
      this.#ackedUnsaved -= covered;
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

  /** Puts a file's unacknowledged sends in its checkpoint when they changed since the last save. */
  #noteSent(tail: FileTail): void {
    if (!tail.fileId) return;
    const cp = this.#store!.get(tail.fileId);
    if (!cp) return;
    const sent = tail.sent.filter(([end]) => end > cp.offset);
    const same = (cp.sent?.length ?? 0) === sent.length &&
      sent.every(([end, at], i) => cp.sent![i][0] === end && cp.sent![i][1] === at);
    if (same) return;
    const { sent: _old, ...rest } = cp;
    this.#store!.set(sent.length > 0 ? { ...rest, sent } : rest);
  }

  #fail(message: string): void {
    this.#lastError = message;
    this.#state = "error";
  }
}

type FingerprintIndex = Map<number, Map<string, string[]>>;

/** Checkpoint ids by the length of their fingerprint, then by fingerprint. */
function fingerprintIndex(checkpoints: readonly FileCheckpoint[]): FingerprintIndex {
  const index: FingerprintIndex = new Map();
  for (const cp of checkpoints) indexCheckpoint(index, cp.fp_len, cp.fp, cp.file_id);
  return index;
}

function indexCheckpoint(index: FingerprintIndex, fpLen: number, fp: string, id: string): void {
  let byFp = index.get(fpLen);
  if (!byFp) index.set(fpLen, byFp = new Map());
  const ids = byFp.get(fp);
  if (ids) ids.push(id);
  else byFp.set(fp, [id]);
}

/** A checkpoint as file_identity.ts remembers a file. */
function remembered(cp: FileCheckpoint) {
  return {
    dev: cp.dev,
    ino: cp.ino,
    fpLen: cp.fp_len,
    fp: cp.fp,
    offset: cp.offset,
    offsetFp: cp.offset_fp,
    printEnd: cp.print_end,
  };
}

/** The scanned file as it was opened: the handle's device, inode and size. */
function actualFile(reader: FileReader, scanned: ScannedFile): ScannedFile {
  return { ...scanned, dev: reader.dev, ino: reader.ino, size: reader.size };
}

function evidenceOf(file: ScannedFile) {
  return { dev: file.dev, ino: file.ino, size: file.size };
}

/** The bytes of an open file before `offset` (file_identity.ts `readBefore`). */
function readBeforeOf(reader: FileReader, offset: number): Uint8Array {
  return reader.bytesBefore(offset);
}
