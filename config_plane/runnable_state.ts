/**
 * What may run: which stored events are folded into the state, and which folded state a reader
 * runs. `append` checks every event it writes, but anyone with access to etcd can write a key, so
 * a stored value may be no JSON, or JSON that is no valid event; and a valid event may lead to an
 * invalid state. Every reader decides here — `stateAt` (behind `config:show`, `config:status`, the
 * next `config:apply`) and the agent's watcher — so the state the CLI shows is the state the
 * agents run, and one bad key never stops the log from being read. Pure.
 * @module
 */
import { formatIssues, validateEvent, validateState } from "../schemas/validate.ts";
import { EMPTY_STATE, foldEvents, foldOps } from "./fold.ts";
import type { ConfigEvent, DesiredState } from "./types.ts";

/**
 * The events that pass the event schema, in order: the ones whose ops are folded into a state.
 * An agent refuses the others (and reports them); the state is folded past them.
 *
 * @example
 * ```ts
 * import { runnableEvents } from "./runnable_state.ts";
 * runnableEvents([{ seq: 1, ops: "not a list" } as never]); // []
 * ```
 */
export function runnableEvents(events: readonly ConfigEvent[]): ConfigEvent[] {
  return events.filter((e) => validateEvent(e).ok);
}

/**
 * The state the runnable `events` make of `initial` (a snapshot's state, default empty): what
 * `stateAt` answers for the last of them.
 *
 * @example
 * ```ts
 * import { foldRunnable } from "./runnable_state.ts";
 * foldRunnable([{ seq: 1, ops: "not a list" } as never]); // { sources: [] }
 * ```
 */
export function foldRunnable(
  events: readonly ConfigEvent[],
  initial: DesiredState = EMPTY_STATE,
): DesiredState {
  return foldEvents(runnableEvents(events), initial);
}

/** Where a reader of the log stands: the fold so far, and the last state that was valid. */
export interface RunningState {
  /** Last seq processed (applied or refused). */
  seq: number;
  /** The runnable events' ops up to `seq`, folded. */
  folded: DesiredState;
  /** Last seq whose state was valid (-1: none yet). */
  goodSeq: number;
  /** The state at `goodSeq`: what runs. */
  good: DesiredState;
}

/** Before the first load: nothing processed, nothing running. */
export const NOT_STARTED: RunningState = Object.freeze({
  seq: -1,
  folded: EMPTY_STATE,
  goodSeq: -1,
  good: EMPTY_STATE,
});

/** A snapshot of the folded state, as stored under `config/snapshots/<seq>`. */
export interface SnapshotState {
  seq: number;
  state: DesiredState;
}

/**
 * `running` moved on to `seq` with `folded`: that state also runs when it is valid; when it is
 * not, the last good state stays and the error says why.
 */
function advance(
  running: RunningState,
  seq: number,
  folded: DesiredState,
): { running: RunningState; error?: string } {
  const result = validateState(folded);
  if (!result.ok) {
    return {
      running: { ...running, seq, folded },
      error: formatIssues(result.errors, `state ${seq}`),
    };
  }
  return { running: { seq, folded, goodSeq: seq, good: folded } };
}

/**
 * The first load: `snapshot` (if any) and the events after it up to `seq`, folded. When the
 * state at `seq` is invalid, the newest earlier state that was valid runs, and `error` says why.
 *
 * @example
 * ```ts
 * import { startRunning } from "./runnable_state.ts";
 * const { running } = startRunning(undefined, [], 0);
 * // running.seq === 0, running.goodSeq === 0, running.good.sources.length === 0
 * ```
 */
export function startRunning(
  snapshot: SnapshotState | undefined,
  events: readonly ConfigEvent[],
  seq: number,
): { running: RunningState; error?: string } {
  const initial = snapshot?.state ?? EMPTY_STATE;
  const started = advance(NOT_STARTED, seq, foldRunnable(events, initial));
  if (!started.error) return started;
  let running: RunningState = { ...started.running };
  let state = initial;
  if (validateState(state).ok) running = { ...running, goodSeq: snapshot?.seq ?? 0, good: state };
  for (const event of runnableEvents(events)) {
    state = foldOps(event.ops, state);
    if (validateState(state).ok) running = { ...running, goodSeq: event.seq, good: state };
  }
  return { running, error: started.error };
}

/**
 * The seq a stored value stands for: its own `seq`, else its key's, else the next one.
 *
 * @example
 * ```ts
 * import { NOT_STARTED, seqOfStored } from "./runnable_state.ts";
 * seqOfStored({ ...NOT_STARTED, seq: 4 }, undefined, 7); // 7: not JSON, so its key tells
 * ```
 */
export function seqOfStored(
  running: RunningState,
  event: ConfigEvent | undefined,
  keySeq?: number,
): number {
  return typeof event?.seq === "number" ? event.seq : keySeq ?? running.seq + 1;
}

/** What one stored event does to a reader's state. */
export type EventStep =
  /** At or below the seq already processed (a resumed watch replays): nothing. */
  | { kind: "seen" }
  /** Not JSON, or not a valid event: not folded; the seq moves on. */
  | { kind: "refused"; running: RunningState; seq: number; error: string }
  /** Folded; `error` when the state it leads to is invalid (the last good state keeps running). */
  | { kind: "applied"; running: RunningState; event: ConfigEvent; error?: string };

/**
 * Applies the stored value at `seq` (`undefined`: it was not JSON). The caller reads the events
 * of a gap before (`seq > running.seq + 1`), so that they are applied in order.
 *
 * @example
 * ```ts
 * import { NOT_STARTED, stepEvent } from "./runnable_state.ts";
 * const step = stepEvent({ ...NOT_STARTED, seq: 0 }, undefined, 1);
 * // step.kind === "refused", step.error === "the stored event is not JSON"
 * ```
 */
export function stepEvent(
  running: RunningState,
  event: ConfigEvent | undefined,
  seq: number,
): EventStep {
  if (seq <= running.seq) return { kind: "seen" };
  if (event === undefined) {
    return {
      kind: "refused",
      running: { ...running, seq },
      seq,
      error: "the stored event is not JSON",
    };
  }
  const checked = validateEvent(event);
  if (!checked.ok) {
    return {
      kind: "refused",
      running: { ...running, seq },
      seq,
      error: formatIssues(checked.errors, `event ${seq}`),
    };
  }
  const next = advance(running, seq, foldOps(event.ops, running.folded));
  return { kind: "applied", event, ...next };
}

/**
 * After a reload: the seq before the first key still in the log when events right after
 * `seq` are missing (pruned), else undefined. `kept` are the seqs of the event keys read after
 * `seq` up to `head`, readable or not.
 *
 * @example
 * ```ts
 * import { prunedBelow } from "./runnable_state.ts";
 * prunedBelow(3, 9, [7, 8, 9]); // 6: events 4..6 are gone
 * prunedBelow(3, 9, [4, 5, 9]); // undefined: the next event is there
 * ```
 */
export function prunedBelow(
  seq: number,
  head: number,
  kept: readonly number[],
): number | undefined {
  if (head <= seq) return undefined;
  const first = kept.length === 0 ? head + 1 : Math.min(...kept);
  return first === seq + 1 ? undefined : first - 1;
}

/**
 * The events after `running.seq` were pruned: continue from `snapshot` and the events kept after
 * it, up to `below` (the seq before the first event still in the log).
 *
 * @example
 * ```ts
 * import { resumeFromSnapshot } from "./runnable_state.ts";
 * const running = { seq: 2, folded: { sources: [] }, goodSeq: 2, good: { sources: [] } };
 * const next = resumeFromSnapshot(running, { seq: 5, state: { sources: [] } }, [], 5);
 * // next.seq === 5, next.goodSeq === 5
 * ```
 */
export function resumeFromSnapshot(
  running: RunningState,
  snapshot: SnapshotState,
  events: readonly ConfigEvent[],
  below: number,
): RunningState {
  // Refused events are skipped here as on every other path: folding one in would leave every
  // later state invalid, and the agent stuck on the state it ran before the pruning.
  return advance(running, below, foldRunnable(events, snapshot.state)).running;
}
