/**
 * The pure arithmetic of the benchmarks: medians and percentiles of samples, a scenario's result
 * object (ours, the peer, their ratio, the target and whether it was met) as written to
 * `bench/results/latest.json`. No I/O, so every number in the report can be unit tested.
 * @module
 */

/** Which way a number is good. */
export type Direction = "higher" | "lower";

/**
 * The median of `values` (mean of the two middle values for an even count), or NaN when empty.
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * median([3, 1, 2]); // 2
 * median([4, 1, 3, 2]); // 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The nearest-rank percentile of values already sorted ascending: the smallest value such that
 * at least `p` % of the values are ≤ it (p = 100 gives the maximum). NaN when empty.
 *
 * @example
 * ```ts
 * import { percentileSorted } from "./stats.ts";
 * percentileSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90); // 9
 * ```
 */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  if (p <= 0) return sorted[0];
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** p50 / p99 / max and the count of a sample of latencies. */
export interface Distribution {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * The distribution of `values` (copied and sorted; the input is left alone).
 *
 * @example
 * ```ts
 * import { distribution } from "./stats.ts";
 * distribution([5, 1, 3]); // { count: 3, p50: 3, p99: 5, max: 5 }
 * ```
 */
export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  return {
    count: list.length,
    p50: percentileSorted(list, 50),
    p99: percentileSorted(list, 99),
    max: list.length ? list[list.length - 1] : NaN,
  };
}

/**
 * ours / peer: always this way round, whichever direction is better (the unit says which).
 * Undefined when either side is missing or the peer is 0.
 *
 * @example
 * ```ts
 * import { ratio } from "./stats.ts";
 * ratio(150, 100); // 1.5
 * ratio(150, null); // null
 * ```
 */
export function ratio(ours: number | null, peer: number | null): number | null {
  if (ours === null || peer === null || !Number.isFinite(ours) || !Number.isFinite(peer)) {
    return null;
  }
  if (peer === 0) return null;
  return ours / peer;
}

/** A bound a result must keep: on its value or on its ratio to the peer. */
export interface Target {
  of: "value" | "ratio";
  op: ">=" | "<=";
  bound: number;
}

/**
 * The target as text, e.g. "ratio ≥ 0.5" or "≤ 150".
 *
 * @example
 * ```ts
 * import { targetText } from "./stats.ts";
 * targetText({ of: "ratio", op: ">=", bound: 0.5 }); // "ratio ≥ 0.5"
 * ```
 */
export function targetText(target: Target): string {
  const op = target.op === ">=" ? "≥" : "≤";
  return target.of === "ratio" ? `ratio ${op} ${target.bound}` : `${op} ${target.bound}`;
}

/** Whether `target` holds for a value and ratio; null when the number it needs is missing. */
export function targetMet(
  target: Target,
  value: number | null,
  ratioValue: number | null,
): boolean | null {
  const x = target.of === "value" ? value : ratioValue;
  if (x === null || !Number.isFinite(x)) return null;
  return target.op === ">=" ? x >= target.bound : x <= target.bound;
}

/** One row of latest.json. */
export interface BenchResult {
  /** Which of the five scenarios of the issue: agent-kafka, transfer, latency, propagation, memory. */
  scenario: string;
  name: string;
  /** How many runs the medians are taken over. */
  runs: number;
  /** Median over the runs of ours. */
  value: number | null;
  /** The unit and which way is better, e.g. "lines/s (higher is better)". */
  unit: string;
  peer: string | null;
  peer_value: number | null;
  /** value / peer_value (see `unit` for the direction). */
  ratio: number | null;
  target: string | null;
  target_met: boolean | null;
  /** Every run's value of ours and of the peer, in run order. */
  samples: number[];
  peer_samples: number[];
  /** Anything else worth keeping (per-run details, settings). */
  details?: Record<string, unknown>;
  /** Set when the scenario failed; the numbers are then whatever was measured before. */
  error?: string;
}

export interface ResultInput {
  scenario: string;
  name: string;
  unit: string;
  direction: Direction;
  samples: readonly number[];
  peer?: string;
  peerSamples?: readonly number[];
  target?: Target;
  details?: Record<string, unknown>;
  error?: string;
}

/** Medians as numbers, NaN (no sample) as null, so the JSON never holds NaN. */
function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/**
 * A result row from the samples of both sides: medians, their ratio (ours / peer), and the target.
 *
 * @example
 * ```ts
 * import { buildResult } from "./stats.ts";
 * const r = buildResult({
 *   scenario: "agent-kafka", name: "1 file", unit: "lines/s", direction: "higher",
 *   samples: [90, 100, 110], peer: "kcat", peerSamples: [190, 200, 210],
 *   target: { of: "ratio", op: ">=", bound: 0.5 },
 * });
 * // r.value 100, r.peer_value 200, r.ratio 0.5, r.target_met true
 * ```
 */
export function buildResult(input: ResultInput): BenchResult {
  const value = finite(median(input.samples));
  const peerValue = input.peer ? finite(median(input.peerSamples ?? [])) : null;
  const r = ratio(value, peerValue);
  const result: BenchResult = {
    scenario: input.scenario,
    name: input.name,
    runs: Math.max(input.samples.length, input.peerSamples?.length ?? 0),
    value,
    unit: `${input.unit} (${input.direction} is better)`,
    peer: input.peer ?? null,
    peer_value: peerValue,
    ratio: r,
    target: input.target ? targetText(input.target) : null,
    target_met: input.target ? targetMet(input.target, value, r) : null,
    samples: [...input.samples],
    peer_samples: [...(input.peerSamples ?? [])],
  };
  if (input.details) result.details = input.details;
  if (input.error) result.error = input.error;
  return result;
}

/** A result for a scenario that failed before it measured anything. */
export function failedResult(scenario: string, name: string, error: string): BenchResult {
  return {
    scenario,
    name,
    runs: 0,
    value: null,
    unit: "",
    peer: null,
    peer_value: null,
    ratio: null,
    target: null,
    target_met: null,
    samples: [],
    peer_samples: [],
    error,
  };
}

/**
 * The steady rate of a cumulative count over time: `(hi − lo) × total` divided by the time
 * between the moments the count crossed `lo × total` and `hi × total` (linearly interpolated
 * between samples). Start-up and the last stragglers are left out. Null when the count never
 * reached `hi × total`.
 *
 * @example
 * ```ts
 * import { windowRate } from "./stats.ts";
 * windowRate([[0, 0], [1, 100], [2, 200], [3, 300]], 300, 0.1, 0.9); // 100
 * ```
 */
export function windowRate(
  timeline: readonly (readonly [number, number])[],
  total: number,
  lo = 0.1,
  hi = 0.9,
): number | null {
  const crossing = (level: number): number | undefined => {
    for (let i = 0; i < timeline.length; i++) {
      const [t, n] = timeline[i];
      if (n >= level) {
        if (i === 0) return t;
        const [t0, n0] = timeline[i - 1];
        return n === n0 ? t : t0 + ((level - n0) / (n - n0)) * (t - t0);
      }
    }
    return undefined;
  };
  const a = crossing(lo * total);
  const b = crossing(hi * total);
  if (a === undefined || b === undefined || b <= a) return null;
  return ((hi - lo) * total) / (b - a);
}
