import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { addTallies, describeTally, tallySeqs } from "./tally.ts";

Deno.test("tallySeqs: every line once → nothing lost or duplicated", () => {
  const t = tallySeqs(5, [4, 2, 0, 1, 3]);
  assertEquals(t, {
    written: 5,
    indexed: 5,
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    lostSample: [],
  });
});

Deno.test("tallySeqs: missing, repeated and never-written numbers are told apart", () => {
  const t = tallySeqs(6, [0, 0, 0, 2, 5, 9, -1]);
  assertEquals(t.indexed, 7);
  assertEquals(t.lost, 3);
  assertEquals(t.lostSample, [1, 3, 4]);
  assertEquals(t.duplicated, 2);
  assertEquals(t.unexpected, 2);
});

Deno.test("tallySeqs: the lost sample stops at ten", () => {
  const t = tallySeqs(100, []);
  assertEquals(t.lost, 100);
  assertEquals(t.lostSample, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("addTallies sums rows; describeTally names the first lost lines", () => {
  const sum = addTallies([tallySeqs(3, [0, 1, 1]), tallySeqs(2, [1])]);
  assertEquals([sum.written, sum.indexed, sum.lost, sum.duplicated], [5, 4, 2, 1]);
  assertEquals(sum.lostSample, [2, 0]);
  assertEquals(
    describeTally(sum),
    "5 written, 4 indexed, 2 lost (first 2,0), 1 duplicated, 0 unexpected",
  );
});
