import { equal, ok, rejects } from "node:assert/strict";
import { backoffDelay, retry, sleep } from "./backoff.ts";

Deno.test("backoffDelay grows by the factor and stops at maxMs", () => {
  const o = { initialMs: 100, maxMs: 1_000, jitter: 0 };
  equal(backoffDelay(0, o), 100);
  equal(backoffDelay(1, o), 200);
  equal(backoffDelay(3, o), 800);
  equal(backoffDelay(4, o), 1_000);
  equal(backoffDelay(40, o), 1_000);
});

Deno.test("backoffDelay with full jitter stays within [0, ceiling]", () => {
  const o = { initialMs: 100, maxMs: 1_000 };
  equal(backoffDelay(2, o, () => 0), 400);
  equal(backoffDelay(2, o, () => 0.999999), 0);
  equal(backoffDelay(2, o, () => 0.5), 200);
});

Deno.test("retry returns the first success and reports each failure", async () => {
  const seen: number[] = [];
  let calls = 0;
  const value = await retry(
    () => ++calls < 3 ? Promise.reject(new Error("x")) : Promise.resolve(7),
    {
      initialMs: 1,
      maxMs: 2,
      onRetry: (_e, attempt) => seen.push(attempt),
    },
  );
  equal(value, 7);
  equal(calls, 3);
  equal(seen.join(","), "0,1");
});

Deno.test("retry gives up after maxAttempts and when shouldRetry says no", async () => {
  let calls = 0;
  await rejects(
    retry(() => {
      calls++;
      return Promise.reject(new Error("down"));
    }, { initialMs: 1, maxMs: 1, maxAttempts: 4 }),
    /down/,
  );
  equal(calls, 4);
  calls = 0;
  await rejects(
    retry(() => {
      calls++;
      return Promise.reject(new Error("fatal"));
    }, { initialMs: 1, maxMs: 1, shouldRetry: () => false }),
    /fatal/,
  );
  equal(calls, 1);
});

Deno.test("sleep rejects at once when its signal aborts", async () => {
  const controller = new AbortController();
  const started = Date.now();
  const pending = sleep(10_000, controller.signal);
  controller.abort(new Error("stop"));
  await rejects(pending, /stop/);
  ok(Date.now() - started < 1_000);
});
