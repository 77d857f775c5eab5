import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  buildResult,
  distribution,
  failedResult,
  median,
  percentileSorted,
  ratio,
  targetMet,
  targetText,
  windowRate,
} from "./stats.ts";

Deno.test("median: odd, even, unsorted, empty", () => {
  assertEquals(median([5, 1, 3]), 3);
  assertEquals(median([4, 1, 3, 2]), 2.5);
  assertEquals(median([7]), 7);
  assert(Number.isNaN(median([])));
});

Deno.test("median leaves its input alone", () => {
  const values = [3, 1, 2];
  median(values);
  assertEquals(values, [3, 1, 2]);
});

Deno.test("percentileSorted: nearest rank", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assertEquals(percentileSorted(hundred, 50), 50);
  assertEquals(percentileSorted(hundred, 99), 99);
  assertEquals(percentileSorted(hundred, 100), 100);
  assertEquals(percentileSorted(hundred, 0), 1);
  // With 10 values p99 is the largest: 9.9 rounds up to rank 10.
  assertEquals(percentileSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99), 10);
  assertEquals(percentileSorted([42], 99), 42);
  assert(Number.isNaN(percentileSorted([], 50)));
});

Deno.test("distribution sorts numerically, not as text", () => {
  assertEquals(distribution([100, 9, 20]), { count: 3, p50: 20, p99: 100, max: 100 });
  const d = distribution([]);
  assertEquals(d.count, 0);
  assert(Number.isNaN(d.p50) && Number.isNaN(d.max));
});

Deno.test("ratio is ours / peer; missing or zero peer gives null", () => {
  assertEquals(ratio(50, 100), 0.5);
  assertEquals(ratio(300, 200), 1.5);
  assertEquals(ratio(null, 100), null);
  assertEquals(ratio(100, null), null);
  assertEquals(ratio(100, 0), null);
  assertEquals(ratio(NaN, 1), null);
});

Deno.test("targets on the ratio and on the value, both directions", () => {
  assertEquals(targetText({ of: "ratio", op: ">=", bound: 0.5 }), "ratio ≥ 0.5");
  assertEquals(targetText({ of: "value", op: "<=", bound: 100 }), "≤ 100");
  assertEquals(targetMet({ of: "ratio", op: ">=", bound: 0.5 }, 10, 0.5), true);
  assertEquals(targetMet({ of: "ratio", op: ">=", bound: 0.5 }, 10, 0.49), false);
  assertEquals(targetMet({ of: "value", op: "<=", bound: 100 }, 101, null), false);
  assertEquals(targetMet({ of: "value", op: "<=", bound: 100 }, 99, null), true);
  assertEquals(targetMet({ of: "ratio", op: ">=", bound: 0.5 }, 10, null), null);
});

Deno.test("buildResult: medians, ratio, unit with direction, target", () => {
  const r = buildResult({
    scenario: "agent-kafka",
    name: "1 file vs kcat",
    unit: "lines/s",
    direction: "higher",
    samples: [110, 90, 100],
    peer: "kcat",
    peerSamples: [400, 100, 200],
    target: { of: "ratio", op: ">=", bound: 0.5 },
  });
  assertEquals(r.value, 100);
  assertEquals(r.peer_value, 200);
  assertEquals(r.ratio, 0.5);
  assertEquals(r.unit, "lines/s (higher is better)");
  assertEquals(r.runs, 3);
  assertEquals(r.target, "ratio ≥ 0.5");
  assertEquals(r.target_met, true);
  assertEquals(r.samples, [110, 90, 100]);
  assert(!("error" in r) && !("details" in r));
});

Deno.test("buildResult: lower is better keeps ratio = ours / peer", () => {
  const r = buildResult({
    scenario: "memory",
    name: "idle",
    unit: "MiB",
    direction: "lower",
    samples: [80],
    peer: "rsyslog",
    peerSamples: [40],
    target: { of: "value", op: "<=", bound: 150 },
  });
  assertEquals(r.ratio, 2);
  assertEquals(r.unit, "MiB (lower is better)");
  assertEquals(r.target_met, true);
});

Deno.test("buildResult without peer or samples: nulls, never NaN in JSON", () => {
  const r = buildResult({
    scenario: "latency",
    name: "p99",
    unit: "ms",
    direction: "lower",
    samples: [],
    target: { of: "value", op: "<=", bound: 100 },
    error: "agent exited",
  });
  assertEquals(r.value, null);
  assertEquals(r.peer, null);
  assertEquals(r.peer_value, null);
  assertEquals(r.ratio, null);
  assertEquals(r.target_met, null);
  assertEquals(r.error, "agent exited");
  assert(!JSON.stringify(r).includes("NaN"));
});

Deno.test("failedResult holds the error and no numbers", () => {
  const r = failedResult("transfer", "transfer", "Kafka unreachable");
  assertEquals(r.error, "Kafka unreachable");
  assertEquals(r.value, null);
  assertEquals(r.runs, 0);
});

Deno.test("windowRate: steady part only, interpolated crossings", () => {
  // Slow start (2 s for the first 10 %), then 100/s, then a slow tail.
  const timeline: [number, number][] = [[0, 0], [2, 100], [10, 900], [20, 1000]];
  assertEquals(windowRate(timeline, 1000), 100);
  // Crossing between samples: 50 at t=1 (halfway between 0 and 100).
  assertEquals(windowRate([[0, 0], [2, 100], [4, 200]], 200, 0.25, 0.75), 50);
  assertEquals(windowRate([[0, 0], [1, 50]], 100), null);
  assertEquals(windowRate([], 100), null);
});
