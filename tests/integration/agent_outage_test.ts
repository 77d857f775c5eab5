/**
 * Kafka stopped mid-stream and started again (the real broker, through stack/): reading stops
 * while it is gone (bounded in-flight bytes, memory flat), resumes by itself, nothing is lost.
 * Needs a Kafka run by `deno task stack:up`; ignored (with a note) when Kafka is run otherwise.
 */
import { ok as assert } from "node:assert/strict";
import { serviceStatus, startService, stopService } from "../../stack/mod.ts";
import { appendSeq, checkSeq, rig, waitFor } from "./agent_support.ts";

const kafka = await serviceStatus("kafka").catch(() => undefined);
const canStop = kafka?.pid !== undefined;
if (!canStop) {
  console.error(
    "agent outage test ignored: Kafka is not run by stack/ here, so it cannot be stopped",
  );
}

Deno.test({
  name: "agent outage: Kafka stopped 30 s mid-stream then started — nothing lost, memory flat",
  ignore: !canStop,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const r = await rig();
    const path = `${r.dir}/app.log`;
    let n = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await appendSeq(path, "out", n, n + 200);
        n += 200;
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    let stopped = false;
    try {
      const maxInflight = 2 * 1024 * 1024;
      r.task({}, { maxInflightBytes: maxInflight });
      await waitFor("lines flowing", () => r.collector.tagged("out").length > 2000, 30_000);
      assert(await stopService("kafka"), "stopService(kafka) stopped nothing");
      stopped = true;
      const downSince = Date.now();
      // Let the in-flight window fill up, then watch: reading must have stopped.
      await new Promise((res) => setTimeout(res, 4000));
      const readAt = await bytesRead(r.metrics);
      const rssAt = Deno.memoryUsage().rss;
      // Kafka stays down 30 s in all, as an operator's broker restart might.
      await new Promise((res) => setTimeout(res, Math.max(0, downSince + 30_000 - Date.now())));
      const readMore = (await bytesRead(r.metrics)) - readAt;
      const rssGrowth = Deno.memoryUsage().rss - rssAt;
      const written = n;
      assert(
        readMore <= 512 * 1024,
        `read ${readMore} bytes while Kafka was down (should have stopped)`,
      );
      assert(
        rssGrowth < 64 * 1024 * 1024,
        `memory grew by ${rssGrowth} bytes while Kafka was down`,
      );
      await startService("kafka");
      stopped = false;
      writing = false;
      await writer;
      const total = n;
      await waitFor(
        `all ${total} after Kafka came back`,
        () => checkSeq(r.collector.envelopes, "out", total).missing.length === 0,
        120_000,
      );
      const rep = checkSeq(r.collector.envelopes, "out", total);
      assert(rep.outOfOrder === 0, `${rep.outOfOrder} out of order`);
      console.log(
        `Kafka outage: ${total} lines (${written} written before restart), ${rep.duplicates} repeats (retried batches), read ${readMore} B and rss +${rssGrowth} B while down`,
      );
    } finally {
      writing = false;
      await writer;
      if (stopped) await startService("kafka");
      await r.cleanup();
    }
  },
});

async function bytesRead(metrics: import("../../agent/metrics.ts").AgentMetrics): Promise<number> {
  const m = await metrics.bytesRead.get();
  return m.values.reduce((sum, v) => sum + v.value, 0);
}
