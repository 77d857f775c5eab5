/**
 * Values sampled over time (a counter from /metrics every 250 ms) and the questions a scenario
 * asks of them: how long did it stay flat, how far did it move in a window. Pure.
 * @module
 */

/** One sample: when (ms) and the value then. */
export interface Point {
  t: number;
  v: number;
}

/**
 * The longest time a value did not move between `from` and `to` (ms): how long a counter of
 * sent lines stalled. Samples outside the window are ignored; a flat stretch is measured
 * from its first to its last equal sample.
 *
 * @example
 * ```ts
 * import { longestStall } from "./series.ts";
 * longestStall([{ t: 0, v: 1 }, { t: 100, v: 2 }, { t: 900, v: 2 }, { t: 1000, v: 3 }]); // 800
 * ```
 */
export function longestStall(points: readonly Point[], from = -Infinity, to = Infinity): number {
  return longestStallAt(points, from, to).ms;
}

/** A flat stretch of a series: how long (ms) and the time of its first sample. */
export interface Stall {
  ms: number;
  /** The time of the stretch's first sample; undefined when nothing stalled. */
  at?: number;
}

/**
 * `longestStall` and where it began, so a report can place it on the scenario's timeline.
 *
 * @example
 * ```ts
 * import { longestStallAt } from "./series.ts";
 * longestStallAt([{ t: 0, v: 1 }, { t: 100, v: 2 }, { t: 900, v: 2 }, { t: 1000, v: 3 }]);
 * // { ms: 800, at: 100 }
 * ```
 */
export function longestStallAt(points: readonly Point[], from = -Infinity, to = Infinity): Stall {
  return longestFlat(points, from, to, () => true);
}

/**
 * The longest time `done` stayed flat while it was at least `behind` short of `todo` (both
 * counters of the same things, e.g. lines written and lines acknowledged): a stall of the
 * program that does the work, not of the one that hands it out. A flat stretch of `done` while
 * `todo` was flat too (the writer paused) is not counted. `todo` is read at each sample of `done`
 * as its latest sample at or before it.
 *
 * @example
 * ```ts
 * import { longestStallBehind } from "./series.ts";
 * const written = [{ t: 0, v: 10 }, { t: 500, v: 20 }, { t: 1000, v: 30 }, { t: 1500, v: 40 }];
 * const acked = [{ t: 0, v: 10 }, { t: 500, v: 10 }, { t: 1000, v: 10 }, { t: 1500, v: 40 }];
 * longestStallBehind(acked, written, 5); // { ms: 500, at: 500 }
 * ```
 */
export function longestStallBehind(
  done: readonly Point[],
  todo: readonly Point[],
  behind: number,
  from = -Infinity,
  to = Infinity,
): Stall {
  let j = -1;
  return longestFlat(done, from, to, (p) => {
    while (j + 1 < todo.length && todo[j + 1].t <= p.t) j++;
    return j >= 0 && todo[j].v - p.v >= behind;
  });
}

/**
 * The longest run of equal samples within [from, to] of which every one `counts` (asked once
 * per sample, in order): from its first sample to its last.
 */
function longestFlat(
  points: readonly Point[],
  from: number,
  to: number,
  counts: (p: Point) => boolean,
): Stall {
  let longest: Stall = { ms: 0 };
  let start: Point | undefined;
  for (const p of points) {
    if (p.t < from || p.t > to) continue;
    if (!counts(p)) start = undefined;
    else if (!start || p.v !== start.v) start = p;
    else if (p.t - start.t > longest.ms) longest = { ms: p.t - start.t, at: start.t };
  }
  return longest;
}

/**
 * How far the value moved within [from, to]: last sample minus first sample in the window.
 *
 * @example
 * ```ts
 * import { growth } from "./series.ts";
 * growth([{ t: 0, v: 5 }, { t: 10, v: 7 }, { t: 20, v: 12 }], 5, 25); // 5
 * ```
 */
export function growth(points: readonly Point[], from: number, to: number): number {
  const inside = points.filter((p) => p.t >= from && p.t <= to);
  return inside.length < 2 ? 0 : inside[inside.length - 1].v - inside[0].v;
}

/** How many samples lie within [from, to]: a check on a window needs enough of them. */
export function samplesIn(points: readonly Point[], from: number, to: number): number {
  return points.filter((p) => p.t >= from && p.t <= to).length;
}

/** The largest value within [from, to] (0 with no samples). */
export function peak(points: readonly Point[], from = -Infinity, to = Infinity): number {
  let max = 0;
  for (const p of points) if (p.t >= from && p.t <= to) max = Math.max(max, p.v);
  return max;
}
