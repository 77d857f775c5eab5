/**
 * The config watcher an agent runs: load snapshot + events up to the head, fold, report the
 * state; then watch the event keys from the next etcd revision. It tracks the revision it applied
 * itself, resumes from it after a broken stream, reloads after compaction, rejects invalid
 * revisions without dropping the last good state, and never throws on a watch error.
 * @module
 */
import type { IKeyValue, IWatchResponse, Watcher } from "etcd3";
import { backoffDelay, sleep } from "../core/backoff.ts";
import { getLogger } from "../core/log.ts";
import { isCompactionError } from "./compaction.ts";
import type { EventStore } from "./event_store.ts";
import { seqOfKey } from "./keys.ts";
import {
  NOT_STARTED,
  prunedBelow,
  resumeFromSnapshot,
  type RunningState,
  seqOfStored,
  startRunning,
  stepEvent,
} from "./runnable_state.ts";
import type { StoredEvents } from "./stored_events.ts";
import type { ConfigEvent, DesiredState } from "./types.ts";

const log = getLogger("config_plane", "watch");

export interface WatchStateOptions {
  /** Stops the watcher; the promise of `watchState` then resolves. */
  signal: AbortSignal;
  /**
   * The seq the caller already has: `onEvent` is called only for later events. Default: the head
   * when the watcher starts. The state itself is always loaded whole.
   */
  fromSeq?: number;
  /**
   * The latest valid state, first after the initial load, then after each new valid revision.
   * A burst of revisions may arrive as one call (with the last seq).
   */
  onState(seq: number, state: DesiredState): void | Promise<void>;
  /** A revision that is invalid (event or resulting state); the last good state stays. */
  onInvalid?(seq: number, error: string): void | Promise<void>;
  /** Every event after `fromSeq`, exactly once, in seq order (unless pruned from etcd). */
  onEvent?(event: ConfigEvent): void | Promise<void>;
  /** Told when the watcher reloads from etcd (after compaction); for logs and tests. */
  onReload?(reason: string, seq: number): void;
}

/** What the watcher knows; exposed for tests and status pages. */
export interface WatchPosition {
  /** Last seq processed (applied or rejected). */
  seq: number;
  /** Last seq whose state was valid and reported. */
  goodSeq: number;
  /** The etcd revision up to which events were applied; a broken watch resumes after it. */
  revision: number;
}

class StateWatcher implements WatchPosition {
  /** Which events were folded and which state runs (runnable_state.ts decides). */
  private running: RunningState = NOT_STARTED;
  /** The etcd revision up to which events were applied; a broken watch resumes after it. */
  revision = 0;
  private fromSeq = 0;
  private reported = -1;
  private queue: IKeyValue[] = [];
  /** All state changes run one after another on this chain (stream batches, reloads). */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly store: EventStore, private readonly options: WatchStateOptions) {}

  get seq(): number {
    return this.running.seq;
  }

  get goodSeq(): number {
    return this.running.goodSeq;
  }

  private get aborted(): boolean {
    return this.options.signal.aborted;
  }

  private serial(work: () => Promise<void>): Promise<void> {
    const next = this.chain.then(work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  async run(): Promise<void> {
    await this.retrying("load the config", () => this.serial(() => this.load()));
    let attempt = 0;
    while (!this.aborted) {
      const error = await this.session(() => (attempt = 0));
      if (this.aborted) break;
      if (isCompactionError(error)) {
        log.warn("etcd compacted past revision {revision}; reloading from a snapshot", {
          revision: this.revision,
        });
        await this.retrying("reload the config", () => this.serial(() => this.load("compaction")));
        continue;
      }
      const delay = backoffDelay(attempt++, { initialMs: 100, maxMs: 3_000 });
      log.warn("config watch broke ({error}); resuming after revision {revision} in {delay} ms", {
        error: String((error as Error)?.message ?? error),
        revision: this.revision,
        delay,
      });
      await sleep(delay, this.options.signal).catch(() => undefined);
    }
    await this.chain;
  }

  /** Runs `fn` until it succeeds or the watcher is stopped. */
  private async retrying(what: string, fn: () => Promise<void>): Promise<void> {
    for (let attempt = 0; !this.aborted; attempt++) {
      try {
        return await fn();
      } catch (error) {
        const delay = backoffDelay(attempt, { initialMs: 200, maxMs: 5_000 });
        log.warn("could not {what}: {error}; retrying in {delay} ms", {
          what,
          error: String(error),
          delay,
        });
        await sleep(delay, this.options.signal).catch(() => undefined);
      }
    }
  }

  /**
   * Reads head, snapshot and events at one etcd revision and catches up to it. The first load
   * builds the state; later ones (after compaction) continue from the seq already processed, or
   * from a snapshot when the events in between were pruned.
   */
  private async load(reason?: string): Promise<void> {
    const { head, revision } = await this.store.headAndRevision();
    if (this.running.seq < 0) {
      this.fromSeq = Math.min(this.options.fromSeq ?? head, head);
      const snapshot = await this.store.snapshotAtOrBelow(this.fromSeq, revision);
      const early = await this.store.eventsBetween(snapshot?.seq ?? 0, this.fromSeq, revision);
      const { running, error } = startRunning(snapshot, early, this.fromSeq);
      this.running = running;
      if (error) await this.invalid(this.fromSeq, error);
    }
    if (head > this.running.seq) {
      const stored = await this.store.storedEventsBetween(this.running.seq, head, revision);
      const kept = [...stored.events.map((e) => e.seq), ...stored.unreadable.map((u) => u.seq)];
      const below = prunedBelow(this.running.seq, head, kept);
      if (below !== undefined) await this.jumpToSnapshot(below, revision);
      await this.applyStored(stored);
    }
    this.revision = Math.max(this.revision, revision);
    if (reason) this.options.onReload?.(reason, this.running.seq);
    await this.report();
  }

  /** Events after our seq were pruned: continue from the newest snapshot at or below `below`. */
  private async jumpToSnapshot(below: number, revision: number): Promise<void> {
    const snapshot = await this.store.snapshotAtOrBelow(below, revision);
    if (!snapshot || snapshot.seq <= this.running.seq) {
      throw new Error(
        `events ${this.running.seq + 1}..${below} are gone and no snapshot covers them`,
      );
    }
    const between = await this.store.eventsBetween(snapshot.seq, below, revision);
    log.warn("events {from}..{to} were pruned; continuing from the snapshot at {seq}", {
      from: this.running.seq + 1,
      to: snapshot.seq,
      seq: snapshot.seq,
    });
    this.running = resumeFromSnapshot(this.running, snapshot, between, below);
  }

  /** Applies what a range read held, in seq order: events, and keys that hold no JSON. */
  private async applyStored(stored: StoredEvents): Promise<void> {
    const values: [number, ConfigEvent | undefined][] = [
      ...stored.events.map((e): [number, ConfigEvent] => [seqOfStored(this.running, e), e]),
      ...stored.unreadable.map((u): [number, undefined] => [u.seq, undefined]),
    ];
    for (const [seq, event] of values.sort(([a], [b]) => a - b)) await this.apply(event, seq);
  }

  /** Processes one stored event (`undefined`: its value is not JSON) in seq order. */
  private async apply(event: ConfigEvent | undefined, seq: number): Promise<void> {
    if (seq > this.running.seq + 1) {
      // A gap means events we did not get; read them before going on, in order.
      const missing = await this.store.storedEventsBetween(this.running.seq, seq - 1);
      await this.applyStored(missing);
    }
    const step = stepEvent(this.running, event, seq);
    if (step.kind === "seen") return;
    this.running = step.running;
    if (step.kind === "refused") return await this.invalid(seq, step.error);
    if (seq > this.fromSeq) {
      await this.callback("onEvent", () => this.options.onEvent?.(step.event));
    }
    if (step.error) await this.invalid(seq, step.error);
  }

  private async invalid(seq: number, error: string): Promise<void> {
    log.warn("config revision {seq} is invalid and is not run: {error}", { seq, error });
    await this.callback("onInvalid", () => this.options.onInvalid?.(seq, error));
  }

  /** Calls onState once for everything applied since the last call. */
  private async report(): Promise<void> {
    const { goodSeq: seq, good: state } = this.running;
    if (seq === this.reported) return;
    this.reported = seq;
    await this.callback("onState", () => this.options.onState(seq, state));
  }

  private async callback(name: string, fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      // The caller's bug must not stop the watcher.
      log.error("{name} threw: {error}", { name, error: String(error) });
    }
  }

  /** Applies what the stream delivered; a burst queued meanwhile is one batch, one onState. */
  private drain(): Promise<void> {
    return this.serial(async () => {
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const kv of batch) {
        let event: ConfigEvent | undefined;
        try {
          event = JSON.parse(kv.value.toString()) as ConfigEvent;
        } catch { /* not JSON: refused at its key's seq */ }
        await this.apply(event, seqOfStored(this.running, event, seqOfKey(kv.key.toString())));
        this.revision = Math.max(this.revision, Number(kv.mod_revision));
      }
      await this.report();
    });
  }

  /**
   * One watch stream from `revision + 1`. Resolves with why it ended (undefined when stopped).
   * etcd3 would reconnect by itself from the last revision it *received*; this watcher resumes
   * from the one it *applied*, so it drops the client's stream on the first disconnect.
   */
  private session(onConnected: () => void): Promise<unknown> {
    return new Promise((resolve) => {
      const watcher: Watcher = this.store.watchEvents(this.revision + 1);
      let ended = false;
      const end = (why: unknown, cancel: boolean) => {
        if (ended) return;
        ended = true;
        this.options.signal.removeEventListener("abort", onAbort);
        const cancelled = cancel ? watcher.cancel().catch(() => undefined) : Promise.resolve();
        cancelled.then(() => resolve(why));
      };
      const onAbort = () => end(undefined, true);
      watcher.on("connected", () => onConnected());
      watcher.on("data", (response: IWatchResponse) => {
        for (const event of response.events) if (event.type === "Put") this.queue.push(event.kv);
        if (response.events.length > 0) {
          this.drain().catch((error) =>
            log.error("applying config events failed: {error}", { error: String(error) })
          );
        }
      });
      // After 'disconnected' the watcher is detached at once; after 'error' etcd already dropped it.
      watcher.on("disconnected", (error) => end(error, true));
      watcher.on("error", (error) => end(error, false));
      this.options.signal.addEventListener("abort", onAbort, { once: true });
      if (this.options.signal.aborted) onAbort();
    });
  }
}

/**
 * Loads and folds the config, reports it, then follows new revisions until `signal` aborts.
 *
 * @example
 * ```ts ignore
 * import { openConfigPlane } from "./plane.ts";
 * import { watchState } from "./watch.ts";
 * const plane = openConfigPlane();
 * const stop = new AbortController();
 * const done = watchState(plane, {
 *   signal: stop.signal,
 *   onState: (seq, state) => console.log(`revision ${seq}: ${state.sources.length} sources`),
 *   onInvalid: (seq, error) => console.error(`revision ${seq} refused: ${error}`),
 * });
 * stop.abort();
 * await done;
 * plane.close();
 * ```
 */
export async function watchState(store: EventStore, options: WatchStateOptions): Promise<void> {
  await new StateWatcher(store, options).run();
}
