/**
 * What may run: which stored events are folded into the state, and which folded state a reader
 * runs. Pure; `stateAt` (behind `config:show`, `config:status`, the next `config:apply`) and the
 * agent's watcher both decide here, so the state the CLI shows is the state the agents run.
 * @module
 */
import { formatIssues, validateState } from "../schemas/validate.ts";
import { foldEvents } from "./fold.ts";
import { runnableEvents } from "./stored_events.ts";
import type { ConfigEvent, DesiredState } from "./types.ts";

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
  return advance(running, below, foldEvents(runnableEvents(events), snapshot.state)).running;
}
