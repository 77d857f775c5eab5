/**
 * Retention for real: a transfer started with `--retention-days 7` deletes the date shards of its
 * prefix older than that from the engine, and leaves the younger shards, today's, and every index
 * whose name is not a date shard. Runs against OpenSearch 2 and, a second time (tests/run.ts),
 * Elasticsearch 8, where a wildcard delete is refused by default (so names are deleted, not
 * patterns).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { createEngine } from "../../transfer/engine.ts";
import { applyRetention } from "../../transfer/retention.ts";
import {
  cleanUpTest,
  envelopeRecords,
  eventually,
  makeEnvelopes,
  produce,
  testConfig,
  uniqueName,
  waitForCount,
} from "../support/transfer_rig.ts";
import { documentsProbe, withDiagnostics } from "../support/diagnostics.ts";

const { kafka: brokers, search } = endpointsFromEnv();
const DAY = 86_400_000;

/** `<prefix>-<stream>-YYYY.MM.DD` of the UTC day `daysAgo` days before now. */
function shard(prefix: string, stream: string, daysAgo: number): string {
  const day = new Date(Date.now() - daysAgo * DAY).toISOString().slice(0, 10);
  return `${prefix}-${stream}-${day.replaceAll("-", ".")}`;
}

Deno.test({
  name: "transfer: --retention-days 7 deletes older date shards for real, and nothing else",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withDiagnostics(async (d) => {
      const name = uniqueName("retention");
      const config = testConfig(name);
      const engine = await createEngine({ url: config.searchUrl });
      d.defer(() => cleanUpTest(config, engine));
      d.probe(`documents in ${name}-*`, documentsProbe(engine, `${name}-*`));
      const http = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${search}${path}`, {
          method,
          headers: body ? { "content-type": "application/json" } : {},
          body: body ? JSON.stringify(body) : undefined,
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      };
      const expired = [shard(name, "web", 30), shard(name, "app", 8)];
      const kept = [shard(name, "web", 6), shard(name, "app", 0), `${name}-web-archive`];
      for (const index of [...expired, ...kept]) {
        await http("PUT", `/${index}`, { settings: { number_of_replicas: 0 } });
      }
      // A document in an expired shard: deleting a shard deletes what it holds.
      await http("PUT", `/${expired[0]}/_doc/x?refresh=true`, { message: "old" });

      // The transfer applies retention at start, then hourly; it also indexes as usual.
      await produce(
        brokers,
        name,
        envelopeRecords(makeEnvelopes({ count: 10, source: "live", start: Date.now(), stepMs: 1 })),
      );
      const transfer = d.spawn({
        name: "transfer",
        script: "transfer/main.ts",
        args: [
          ...["--topic", name, "--group", name, "--index-prefix", name],
          ...["--dead-letter-topic", `${name}-dlq`, "--metrics-addr", "", "--index-replicas", "0"],
          ...["--retention-days", "7", "--search-url", search],
        ],
      });
      await waitForCount(engine, `${name}-live-*`, (n) => n >= 10, 60_000);
      const left = await eventually("expired shards deleted", async () => {
        const now = await engine.listIndices(`${name}-*`);
        return expired.some((i) => now.includes(i)) ? undefined : now;
      }, 30_000);
      assertEquals(
        left.filter((i) => !i.startsWith(`${name}-live-`)),
        [...kept].sort(),
        transfer.lines.slice(-20).join("\n"),
      );
      assertEquals(
        transfer.lines.some((l) => l.includes("retention: deleted 2 date shards")),
        true,
        transfer.lines.slice(-20).join("\n"),
      );
      transfer.signal("SIGTERM");
      assertEquals((await transfer.exited).code, 0);

      // Once more through the library: nothing left to delete, and nothing else is touched.
      assertEquals(await applyRetention(engine, name, 7), []);
      assertEquals(
        (await engine.listIndices(`${name}-*`)).filter((i) => !i.startsWith(`${name}-live-`)),
        [...kept].sort(),
      );
    }),
});
