/**
 * Reconciling, as a pure diff: desired sources against running tasks by source id and spec hash
 * give what to start, stop and restart; unchanged tasks are left alone, so a config change never
 * re-reads or skips a line of a source it did not touch. `CoalescingRunner` folds a burst of
 * config revisions into one reconcile.
 * @module
 */
import type { Source } from "../config_plane/types.ts";

export interface ReconcilePlan {
  /** New sources. */
  start: Source[];
  /** Ids of running tasks no longer desired. */
  stop: string[];
  /** Sources whose spec changed: stop the old task, then start this one. */
  restart: Source[];
  /** Ids left running as they are. */
  unchanged: string[];
}

/**
 * What to do so that the running tasks match `desired`.
 *
 * @example
 * ```ts
 * import { planReconcile } from "./reconciler.ts";
 * const plan = planReconcile(
 *   [{ id: "a", paths: ["/a"] }, { id: "b", paths: ["/b2"] }],
 *   new Map([["b", "old"], ["c", "x"]]),
 *   (s) => s.paths.join(),
 * );
 * // plan.start = [a], plan.restart = [b], plan.stop = ["c"]
 * ```
 */
export function planReconcile(
  desired: Source[],
  running: ReadonlyMap<string, string>,
  hash: (source: Source) => string,
): ReconcilePlan {
  const plan: ReconcilePlan = { start: [], stop: [], restart: [], unchanged: [] };
  const wanted = new Set<string>();
  for (const source of desired) {
    wanted.add(source.id);
    const current = running.get(source.id);
    if (current === undefined) plan.start.push(source);
    else if (current !== hash(source)) plan.restart.push(source);
    else plan.unchanged.push(source.id);
  }
  for (const id of running.keys()) if (!wanted.has(id)) plan.stop.push(id);
  return plan;
}

/**
 * Runs `fn` on `trigger()`, never twice at once: triggers that arrive while it runs collapse
 * into a single further run, which then sees the latest desired state.
 *
 * @example
 * ```ts
 * import { CoalescingRunner } from "./reconciler.ts";
 * let runs = 0;
 * const r = new CoalescingRunner(async () => { runs++; });
 * r.trigger(); r.trigger(); r.trigger();
 * await r.idle(); // runs === 2: the first, then one for the burst
 * ```
 */
export class CoalescingRunner {
  #running: Promise<void> | undefined;
  #again = false;

  constructor(private readonly fn: () => Promise<void>) {}

  /** Asks for a run; resolves when a run that started after this call has finished. */
  trigger(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.fn();
        } while (this.#again);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running.catch(() => {});
  }
}
