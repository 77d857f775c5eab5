import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { serveMetrics } from "../core/metrics_server.ts";
import { TransferMetrics } from "./metrics.ts";

Deno.test("metrics: /metrics shows the counters, /healthz follows healthy()", async () => {
  const metrics = new TransferMetrics();
  metrics.recordsConsumed.inc({ topic: "logs" }, 3);
  metrics.docsIndexed.inc(2);
  metrics.deadLettered.inc({ cause: "rejected" });
  metrics.consumerLag.set({ topic: "logs", partition: "0" }, 7);
  let problem: string | undefined = undefined;
  const server = serveMetrics({
    address: "127.0.0.1:0",
    metrics,
    health: () => ({ ok: problem === undefined, problem }),
  });
  try {
    const text = await (await fetch(`http://${server.addr}/metrics`)).text();
    assertEquals(text.includes('sluice_transfer_records_consumed_total{topic="logs"} 3'), true);
    assertEquals(text.includes("sluice_transfer_docs_indexed_total 2"), true);
    assertEquals(text.includes('sluice_transfer_dead_lettered_total{cause="rejected"} 1'), true);
    assertEquals(text.includes('sluice_transfer_consumer_lag{topic="logs",partition="0"} 7'), true);
    const ok = await fetch(`http://${server.addr}/healthz`);
    assertEquals([ok.status, await ok.json()], [200, { ok: true }]);
    problem = "search engine unreachable";
    const bad = await fetch(`http://${server.addr}/healthz`);
    assertEquals([bad.status, await bad.json()], [503, {
      ok: false,
      problem: "search engine unreachable",
    }]);
    const missing = await fetch(`http://${server.addr}/nope`);
    await missing.body?.cancel();
    assertEquals(missing.status, 404);
  } finally {
    await server.close();
  }
});

Deno.test("metrics: two transfers in one process do not share counters", () => {
  const a = new TransferMetrics();
  const b = new TransferMetrics();
  a.docsIndexed.inc(5);
  assertEquals(a.registry === b.registry, false);
});
