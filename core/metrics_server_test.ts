import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { Counter, Registry } from "prom-client";
import { InvalidInputError } from "./errors.ts";
import { healthResponse, serveMetrics } from "./metrics_server.ts";

Deno.test("healthResponse: 200 with ok true, 503 with ok false and the problem", () => {
  assertEquals(healthResponse({ ok: true }), { status: 200, body: { ok: true } });
  assertEquals(
    healthResponse({ ok: false, problem: "search engine failing: HTTP 503", detail: { x: 1 } }),
    { status: 503, body: { ok: false, problem: "search engine failing: HTTP 503", x: 1 } },
  );
});

Deno.test("healthResponse: ok comes first and the detail cannot overwrite ok or problem", () => {
  const { body } = healthResponse({
    ok: false,
    problem: "stopping",
    detail: { ok: true, problem: "none", seq: 3 },
  });
  assertEquals(body, { ok: false, problem: "stopping", seq: 3 });
  assertEquals(Object.keys(body)[0], "ok");
});

Deno.test("serveMetrics: /metrics from the registry, /healthz as JSON, 404 elsewhere", async () => {
  const registry = new Registry();
  new Counter({ name: "demo_total", help: "demo", registers: [registry] }).inc(4);
  let report: { ok: boolean; problem?: string } = { ok: true };
  const server = serveMetrics({
    address: "127.0.0.1:0",
    metrics: { registry },
    health: () => report,
  });
  try {
    const metrics = await fetch(`http://${server.addr}/metrics`);
    assertEquals(metrics.headers.get("content-type"), registry.contentType);
    assertEquals((await metrics.text()).includes("demo_total 4"), true);
    let health = await fetch(`http://${server.addr}/healthz`);
    assertEquals(health.headers.get("content-type"), "application/json");
    assertEquals([health.status, await health.json()], [200, { ok: true }]);
    report = { ok: false, problem: "stopping" };
    health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assertEquals([health.status, await health.json()], [503, { ok: false, problem: "stopping" }]);
    const missing = await fetch(`http://${server.addr}/nope`);
    await missing.body?.cancel();
    assertEquals(missing.status, 404);
  } finally {
    await server.close();
  }
});

Deno.test("serveMetrics: listens on IPv6 loopback and reports the address in brackets", async (t) => {
  let server;
  try {
    server = serveMetrics({
      address: "[::1]:0",
      metrics: { registry: new Registry() },
      health: () => ({ ok: true }),
    });
  } catch (error) {
    // A machine without IPv6 cannot run this; say so instead of passing.
    await t.step({ name: `no IPv6 loopback here (${error})`, ignore: true, fn: () => {} });
    return;
  }
  try {
    assertEquals(server.addr, `[::1]:${server.port}`);
    const health = await fetch(`http://${server.addr}/healthz`);
    assertEquals(await health.json(), { ok: true });
  } finally {
    await server.close();
  }
});

Deno.test("serveMetrics: a malformed address is InvalidInputError naming it", () => {
  throws(
    () =>
      serveMetrics({
        address: "9464",
        metrics: { registry: new Registry() },
        health: () => ({ ok: true }),
      }),
    (error: Error) =>
      error instanceof InvalidInputError && /metrics address '9464'/.test(error.message),
  );
});
