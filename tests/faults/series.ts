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
  let longest = 0;
  let start: Point | undefined;
  for (const p of points) {
    if (p.t < from || p.t > to) continue;
    if (!start || p.v !== start.v) start = p;
    else longest = Math.max(longest, p.t - start.t);
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
