import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  growth,
  longestStall,
  longestStallAt,
  longestStallBehind,
  peak,
  samplesIn,
} from "./series.ts";

const points = [
  { t: 0, v: 0 },
  { t: 250, v: 10 },
  { t: 500, v: 10 },
  { t: 750, v: 10 },
  { t: 1000, v: 20 },
  { t: 1250, v: 20 },
  { t: 1500, v: 35 },
];

Deno.test("longestStall: the longest flat stretch, only inside the window", () => {
  assertEquals(longestStall(points), 500);
  assertEquals(longestStall(points, 900), 250);
  assertEquals(longestStall(points, 0, 400), 0);
  assertEquals(longestStall([]), 0);
});

Deno.test("longestStallAt: the longest flat stretch and the time it began", () => {
  assertEquals(longestStallAt(points), { ms: 500, at: 250 });
  assertEquals(longestStallAt(points, 900), { ms: 250, at: 1000 });
  assertEquals(longestStallAt(points, 0, 400), { ms: 0 });
});

Deno.test("growth and peak within a window", () => {
  assertEquals(growth(points, 250, 1250), 10);
  assertEquals(growth(points, 1400, 2000), 0);
  assertEquals(peak(points, 0, 1300), 20);
  assertEquals(peak(points), 35);
  assertEquals(samplesIn(points, 250, 1000), 4);
});

Deno.test("longestStallBehind: flat while work waited counts; flat while the writer paused does not", () => {
  const at = (vs: number[]) => vs.map((v, i) => ({ t: i * 500, v }));
  // The writer went on, the acknowledgements stopped from t=500 to t=1500.
  assertEquals(
    longestStallBehind(at([10, 10, 10, 10, 40]), at([10, 20, 30, 40, 40]), 5),
    { ms: 1000, at: 500 },
  );
  // The writer paused as long: nothing waited, no stall of the agent.
  assertEquals(longestStallBehind(at([10, 10, 10, 10, 40]), at([10, 10, 10, 10, 40]), 5), {
    ms: 0,
  });
  // Within a window; and a writer sampled less often is read at its latest sample.
  assertEquals(
    longestStallBehind(at([10, 10, 10, 10, 40]), at([10, 20, 30, 40, 40]), 5, 1000),
    { ms: 500, at: 1000 },
  );
  assertEquals(
    longestStallBehind(at([0, 0, 0, 0]), [{ t: 0, v: 0 }, { t: 900, v: 50 }], 5),
    { ms: 500, at: 1000 },
  );
});
