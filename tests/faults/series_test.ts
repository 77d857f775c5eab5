import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { growth, longestStall, peak, samplesIn } from "./series.ts";

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

Deno.test("growth and peak within a window", () => {
  assertEquals(growth(points, 250, 1250), 10);
  assertEquals(growth(points, 1400, 2000), 0);
  assertEquals(peak(points, 0, 1300), 20);
  assertEquals(peak(points), 35);
  assertEquals(samplesIn(points, 250, 1000), 4);
});
