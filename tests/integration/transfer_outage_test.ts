/**
 * OpenSearch stopped 30 s mid-stream (via stack/'s stopService/startService): the
 * transfer retries, reports itself unhealthy, commits no offset past what was indexed, and once
 * the engine is back every record arrives exactly once.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { localEngineAt, serviceStatus, startService, stopService } from "../../stack/mod.ts";
import { createEngine } from "../../transfer/engine.ts";
import { decideBulk } from "../../transfer/retry.ts";
import {
  cleanUpTest,
  committedSum,
  envelopeRecords,
  eventually,
  makeEnvelopes,
  produce,
  testConfig,
  uniqueName,
  waitForCount,
} from "../support/transfer_rig.ts";
import { startTransfer } from "../../transfer/transfer.ts";
import { sleep } from "../../core/backoff.ts";

const { kafka: brokers } = endpointsFromEnv();

// The engine under test (SLUICE_SEARCH_URL: OpenSearch, or the local Elasticsearch when
// tests/run.ts runs this file a second time). Only an engine that stack/ runs can be stopped;
// otherwise the test is reported as skipped.
const engineService = localEngineAt(endpointsFromEnv().search) ?? "opensearch";
const engineLabel = engineService === "elasticsearch" ? "Elasticsearch" : "OpenSearch";
const running = await serviceStatus(engineService).catch(() => undefined);
const canStop = running?.pid !== undefined;
if (!canStop) {
  console.error(`transfer outage test ignored: ${engineLabel} is not run by stack/ here`);
}

Deno.test({
  name:
    `transfer: ${engineLabel} down 30 s mid-stream → nothing lost, no offset committed past an unindexed record`,
  ignore: !canStop,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const name = uniqueName("outage");
    const config = testConfig(name, { "bulk-max-docs": "300", "max-in-flight": "2" });
    const engine = await createEngine({ url: config.searchUrl });
    const start = Date.parse("2024-06-01T00:00:00Z");
    const envelopes = makeEnvelopes({ count: 5000, source: "web", start, stepMs: 10 });
    const records = envelopeRecords(envelopes);
    const N1 = 2000;
    let stopped = false;
    try {
      await produce(brokers, name, records.slice(0, N1));
      const transfer = await startTransfer(config);
      try {
        assertEquals(await waitForCount(engine, `${name}-*`, (n) => n >= N1), N1);
        await eventually(
          "first records committed",
          async () => (await committedSum(brokers, name, name)) === N1 ? true : undefined,
          15_000,
        );

        stopped = await stopService(engineService);
        if (!stopped) throw new Error(`stopService(${engineService}) stopped nothing`);
        const downSince = Date.now();
        // What the engine client gives back with nothing listening, and what retry.ts makes of it.
        const outcome = await engine.bulk('{"index":{"_index":"x"}}\n{}\n');
        assertEquals(outcome.kind, "error");
        assertEquals(decideBulk(outcome, 1, 0).action, "retry");

        await produce(brokers, name, records.slice(N1));
        // While the engine is down: reading goes on up to the bounds, committing does not.
        const downUntil = downSince + 30_000;
        while (Date.now() < downUntil) {
          assertEquals(await committedSum(brokers, name, name), N1);
          await sleep(500);
        }
        const health = await fetch(`http://${transfer.metricsAddr}/healthz`);
        assertEquals(health.status, 503);
        // The one /healthz contract (docs/health.md): JSON, the reason in `problem`.
        assertEquals((await health.json()).problem.startsWith("search engine failing"), true);
        const metrics = await (await fetch(`http://${transfer.metricsAddr}/metrics`)).text();
        assertEquals(/sluice_transfer_retries_total\{kind="request"\} [1-9]/.test(metrics), true);
        assertEquals(transfer.stats().indexed, N1);

        await startService(engineService);
        stopped = false;
        assertEquals(
          await waitForCount(engine, `${name}-*`, (n) => n >= envelopes.length, 90_000),
          envelopes.length,
        );
        await eventually(
          "all records committed",
          async () =>
            (await committedSum(brokers, name, name)) === envelopes.length ? true : undefined,
          15_000,
        );
        assertEquals((await fetch(`http://${transfer.metricsAddr}/healthz`)).status, 200);
      } finally {
        await transfer.stop();
      }
      // Exactly once: no document twice, none missing.
      assertEquals(await engine.count(`${name}-*`), envelopes.length);
    } finally {
      if (stopped) await startService(engineService);
      await cleanUpTest(config, engine);
    }
  },
});
