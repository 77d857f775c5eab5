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
import { formatIssues, validateEvent, validateState } from "../schemas/validate.ts";
import { isCompactionError } from "./compaction.ts";
import { EMPTY_STATE, foldEvents, foldOps } from "./fold.ts";
import { KEYS, seqOfKey } from "./keys.ts";
import type { ConfigPlane } from "./plane.ts";
import { resumeFromSnapshot } from "./runnable_state.ts";
import { runnableEvents } from "./stored_events.ts";
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
  seq = -1;
  goodSeq = -1;
  revision = 0;
  private folded: DesiredState = EMPTY_STATE;
  private good: DesiredState = EMPTY_STATE;
  private fromSeq = 0;
  private reported = -1;
  private queue: IKeyValue[] = [];
  /** All state changes run one after another on this chain (stream batches, reloads). */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly plane: ConfigPlane, private readonly options: WatchStateOptions) {}

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
    const response = await this.plane.call(
      "read the config head",
      () => this.plane.kv.get(KEYS.head).exec(),
    );
    const revision = Number(response.header.revision);
    const head = response.kvs.length > 0 ? Number(response.kvs[0].value.toString()) : 0;
    if (this.seq < 0) {
      this.fromSeq = Math.min(this.options.fromSeq ?? head, head);
      const snapshot = await this.plane.snapshotAtOrBelow(this.fromSeq, revision);
      const start = snapshot?.seq ?? 0;
      const early = await this.plane.eventsBetween(start, this.fromSeq, revision);
      // Events that are not valid are refused, not folded (stateAt does the same).
      this.folded = foldEvents(runnableEvents(early), snapshot?.state ?? EMPTY_STATE);
      this.seq = this.fromSeq;
      const error = this.checkAndAccept(this.fromSeq, this.folded);
      if (error) {
        await this.invalid(this.fromSeq, error);
        this.acceptLastValid(early, snapshot?.state ?? EMPTY_STATE, snapshot?.seq ?? 0);
      }
    }
    if (head > this.seq) {
      const events = await this.plane.eventsBetween(this.seq, head, revision);
      if (events.length === 0 || events[0].seq !== this.seq + 1) {
        await this.jumpToSnapshot(head, revision, events);
      }
      for (const event of events) {
        if (event.seq > this.seq) await this.apply(event, JSON.stringify(event));
      }
    }
    this.revision = Math.max(this.revision, revision);
    if (reason) this.options.onReload?.(reason, this.seq);
    await this.report();
  }

  /** Events after our seq were pruned: continue from the newest snapshot below the first kept one. */
  private async jumpToSnapshot(head: number, revision: number, kept: ConfigEvent[]): Promise<void> {
    const below = (kept[0]?.seq ?? head + 1) - 1;
    const snapshot = await this.plane.snapshotAtOrBelow(below, revision);
    if (!snapshot || snapshot.seq <= this.seq) {
      throw new Error(`events ${this.seq + 1}..${below} are gone and no snapshot covers them`);
    }
    const between = await this.plane.eventsBetween(snapshot.seq, below, revision);
    log.warn("events {from}..{to} were pruned; continuing from the snapshot at {seq}", {
      from: this.seq + 1,
      to: snapshot.seq,
      seq: snapshot.seq,
    });
    const running = { seq: this.seq, folded: this.folded, goodSeq: this.goodSeq, good: this.good };
    const next = resumeFromSnapshot(running, snapshot, between, below);
    this.folded = next.folded;
    this.seq = next.seq;
    this.goodSeq = next.goodSeq;
    this.good = next.good;
  }

  /** Processes one stored event (raw JSON) in seq order. */
  private async apply(
    parsed: ConfigEvent | undefined,
    raw: string,
    keySeq?: number,
  ): Promise<void> {
    let event = parsed;
    if (!event) {
      try {
        event = JSON.parse(raw) as ConfigEvent;
      } catch {
        const seq = keySeq ?? this.seq + 1;
        this.seq = Math.max(this.seq, seq);
        await this.invalid(seq, "the stored event is not JSON");
        return;
      }
    }
    const seq = typeof event.seq === "number" ? event.seq : keySeq ?? this.seq + 1;
    if (seq <= this.seq) return; // seen already (a resumed watch replays from our revision)
    if (seq > this.seq + 1) {
      // A gap means events we did not get; read them before going on, in order.
      const missing = await this.plane.eventsBetween(this.seq, seq - 1);
      for (const m of missing) if (m.seq > this.seq && m.seq < seq) await this.apply(m, "");
    }
    const checked = validateEvent(event);
    this.seq = seq;
    if (!checked.ok) {
      await this.invalid(seq, formatIssues(checked.errors, `event ${seq}`));
      return;
    }
    this.folded = foldOps(event.ops, this.folded);
    if (seq > this.fromSeq) await this.callback("onEvent", () => this.options.onEvent?.(event!));
    const error = this.checkAndAccept(seq, this.folded);
    if (error) await this.invalid(seq, error);
  }

  private checkAndAccept(seq: number, state: DesiredState): string | undefined {
    const result = validateState(state);
    if (!result.ok) return formatIssues(result.errors, `state ${seq}`);
    this.accept(seq, state);
    return undefined;
  }

  /** The head state is invalid: run the newest earlier state that was valid, if any. */
  private acceptLastValid(events: ConfigEvent[], initial: DesiredState, initialSeq: number): void {
    let state = initial;
    if (validateState(state).ok) this.accept(initialSeq, state);
    for (const event of events) {
      if (!validateEvent(event).ok) continue;
      state = foldOps(event.ops, state);
      if (validateState(state).ok) this.accept(event.seq, state);
    }
  }

  private accept(seq: number, state: DesiredState): void {
    this.goodSeq = seq;
    this.good = state;
  }

  private async invalid(seq: number, error: string): Promise<void> {
    log.warn("config revision {seq} is invalid and is not run: {error}", { seq, error });
    await this.callback("onInvalid", () => this.options.onInvalid?.(seq, error));
  }

  /** Calls onState once for everything applied since the last call. */
  private async report(): Promise<void> {
    if (this.goodSeq === this.reported) return;
    this.reported = this.goodSeq;
    const seq = this.goodSeq;
    const state = this.good;
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
        await this.apply(undefined, kv.value.toString(), seqOfKey(kv.key.toString()));
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
      const watcher: Watcher = this.plane.kv.watch().prefix(KEYS.eventsPrefix)
        .startRevision(String(this.revision + 1)).watcher();
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
 * ```ts
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
export async function watchState(plane: ConfigPlane, options: WatchStateOptions): Promise<void> {
  await new StateWatcher(plane, options).run();
}
