import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { RateLimiter } from "./rate_limiter.ts";

/** Simulates a reader that obeys the delays; returns lines passed by `until` ms. */
function simulate(r: RateLimiter, lineBytes: number, until: number): number {
  let now = 0;
  let lines = 0;
  while (now < until) {
    const n = r.sliceLines;
    const delay = r.take(n, n * lineBytes, now);
    lines += n;
    now += Math.max(delay, 1);
  }
  return lines;
}

Deno.test("starts with a full bucket, then asks to wait for refills", () => {
  const r = new RateLimiter({ lines_per_sec: 100, burst: 10 }, 0);
  assertEquals(r.take(10, 0, 0), 0);
  assertEquals(r.take(10, 0, 0), 100);
  // Waited 100 ms: the debt is paid, the next 5 lines cost 50 ms.
  assertEquals(r.take(5, 0, 100), 50);
});

Deno.test("holds lines/s over a long run (steady state within 2%)", () => {
  const r = new RateLimiter({ lines_per_sec: 200, burst: 20 }, 0);
  const lines = simulate(r, 100, 10_000);
  assert(Math.abs(lines - 2000) / 2000 < 0.02, `got ${lines}`);
});

Deno.test("bytes/s limits when it is the tighter one", () => {
  const r = new RateLimiter({ lines_per_sec: 10_000, bytes_per_sec: 10_000, burst: 10 }, 0);
  // 1000-byte lines at 10 kB/s → about 10 lines/s.
  const lines = simulate(r, 1000, 10_000);
  assert(lines >= 95 && lines <= 110, `got ${lines}`);
});

Deno.test("never refuses: a huge take only yields a long delay", () => {
  const r = new RateLimiter({ lines_per_sec: 10 }, 0);
  assertEquals(r.take(1010, 0, 0), 100_000);
});

Deno.test("slice size is about a tenth of a second", () => {
  assertEquals(new RateLimiter({ lines_per_sec: 1000 }, 0).sliceLines, 100);
  assertEquals(new RateLimiter({ lines_per_sec: 1000, burst: 5 }, 0).sliceLines, 5);
  assertEquals(new RateLimiter({ lines_per_sec: 3 }, 0).sliceLines, 1);
});
