import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { decideLook, type LookInput } from "./file_look.ts";

const base: LookInput = {
  size: 100,
  offset: 100,
  moved: false,
  draining: false,
  idleMs: 0,
  rotateWaitMs: 2000,
  closeInactiveMs: 300_000,
  settled: true,
};

Deno.test("decideLook: every case", () => {
  const cases: [Partial<LookInput>, string][] = [
    [{}, "wait"],
    [{ size: 150 }, "read"],
    [{ size: 50 }, "restart"],
    [{ check: "truncated" }, "restart"],
    [{ size: 150, check: "truncated" }, "restart"],
    // Left its path: ask the scan, whether it grew or not (and go on reading meanwhile).
    [{ check: "moved" }, "ask-scan"],
    [{ check: "deleted", size: 150 }, "ask-scan"],
    // Already asked, or already known to be out of the globs: not asked again.
    [{ check: "moved", moved: true }, "wait"],
    [{ check: "moved", draining: true }, "wait"],
    [{ check: "moved", moved: true, size: 150 }, "read"],
    // Drained: let go once idle for rotate_wait, not before, and not while it grows.
    [{ draining: true, idleMs: 1999 }, "wait"],
    [{ draining: true, idleMs: 2000 }, "release"],
    [{ draining: true, idleMs: 5000, size: 150 }, "read"],
    // close_inactive: only a settled file idle that long, never one being followed elsewhere.
    [{ idleMs: 300_000 }, "close"],
    [{ idleMs: 299_999 }, "wait"],
    [{ idleMs: 300_000, settled: false }, "wait"],
    [{ idleMs: 300_000, moved: true }, "wait"],
    [{ idleMs: 300_000, closeInactiveMs: undefined }, "wait"],
  ];
  for (const [change, verdict] of cases) {
    assertEquals(decideLook({ ...base, ...change }), verdict, JSON.stringify(change));
  }
});
