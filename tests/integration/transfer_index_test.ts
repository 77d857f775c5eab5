/**
 * Transfer against the real Kafka and OpenSearch: N envelopes → exactly N documents, each in the
 * date shard of its UTC day (records on both sides of midnight), with the template's field types;
 * then a replay of the whole topic → still N, and the transfer group's offsets untouched.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { committedOffsets } from "../../kafka/consumer.ts";
import { createEngine } from "../../transfer/engine.ts";
import { runReplay } from "../../transfer/replay.ts";
import { indexFor } from "../../transfer/routing.ts";
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
import { startTransfer } from "../../transfer/transfer.ts";

const { kafka: brokers } = endpointsFromEnv();

Deno.test({
  name: "transfer: N envelopes → exactly N documents in their UTC date shards; replay → still N",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const name = uniqueName("index");
    const config = testConfig(name, { "bulk-max-docs": "500" });
    const engine = await createEngine({ url: config.searchUrl });
    // Three files on two hosts, all crossing midnight UTC of 2024-03-09 → 2024-03-10.
    const start = Date.parse("2024-03-09T23:58:00Z");
    const envelopes = [
      ...makeEnvelopes({ count: 1200, source: "web", host: "web-1", start, stepMs: 200 }),
      ...makeEnvelopes({ count: 1200, source: "web", host: "web-2", start, stepMs: 200 }),
      ...makeEnvelopes({
        count: 600,
        source: "app",
        host: "web-1",
        start: start + 60_000,
        stepMs: 200,
      }),
    ];
    const N = envelopes.length;
    const routing = { prefix: config.indexPrefix, stream: config.stream };
    const expected = new Map<string, number>();
    for (const e of envelopes) {
      const index = indexFor(e, name, routing)!;
      expected.set(index, (expected.get(index) ?? 0) + 1);
    }
    assertEquals(expected.size, 4); // web and app, each on both days
    try {
      await produce(brokers, name, envelopeRecords(envelopes));
      const transfer = await startTransfer(config);
      try {
        assertEquals(await waitForCount(engine, `${name}-*`, (n) => n >= N), N);
        assertEquals(await engine.listIndices(`${name}-*`), [...expected.keys()].sort());
        for (const [index, count] of expected) {
          assertEquals(await engine.count(index), count, index);
        }
        // The last line before midnight and the first after it, found by _id = event id.
        const before = envelopes.findLast((e) => e["@timestamp"] < "2024-03-10")!;
        const after = envelopes.find((e) => e["@timestamp"] >= "2024-03-10")!;
        for (const e of [before, after]) {
          const { hits } = await engine.search(`${name}-*`, { query: { ids: { values: [e.id] } } });
          assertEquals(hits.map((h) => h._index), [indexFor(e, name, routing)]);
          assertEquals(hits[0]._source.message, e.message);
          // Stored under ECS names (transfer/document.ts), which Kibana's log views read.
          const doc = hits[0]._source as {
            host: { name: string };
            event: { dataset: string; ingested: string };
            log: { offset: number; file: { path: string } };
          };
          assertEquals(
            [doc.host.name, doc.event.dataset, doc.log.offset, doc.log.file.path],
            [e.host, e.source, e.offset, e.path],
          );
          assertEquals(doc.event.ingested, e["@timestamp"]);
        }
        // The template's types: host is a keyword (exact match), message is full text.
        assertEquals(await engine.count(`${name}-*`, { term: { "host.name": "web-2" } }), 1200);
        assertEquals(await engine.count(`${name}-*`, { match: { message: "item" } }), N);
        // Every offset ends up committed, and only once everything is indexed.
        const committed = await eventually("all offsets committed", async () => {
          const offsets = await committedOffsets({ brokers }, name, name);
          const sum = offsets.reduce((s, o) => s + Number(o.offset), 0);
          return sum === N ? offsets : undefined;
        }, 15_000);
        assertEquals(committed.length > 0, true);
        assertEquals(transfer.stats().indexed, N);
        const metrics = await (await fetch(`http://${transfer.metricsAddr}/metrics`)).text();
        assertEquals(metrics.includes(`sluice_transfer_docs_indexed_total ${N}`), true);
      } finally {
        await transfer.stop();
      }
      const groupOffsets = await committedOffsets({ brokers }, name, name);

      const all = await runReplay(config, { topic: name, fromTime: 0 });
      assertEquals([all.total, all.read, all.indexed, all.deadLettered], [N, N, N, 0]);
      assertEquals(await waitForCount(engine, `${name}-*`, (n) => n === N, 5_000), N);
      // One partition from an offset on.
      const part = await runReplay(config, {
        topic: name,
        fromOffsets: [{ partition: groupOffsets[0].partition, offset: 10 }],
      });
      assertEquals(part.read, Number(groupOffsets[0].offset) - 10);
      assertEquals(await waitForCount(engine, `${name}-*`, (n) => n === N, 5_000), N);
      // Replay reads through its own throwaway group: the transfer's offsets did not move.
      assertEquals(await committedOffsets({ brokers }, name, name), groupOffsets);
    } finally {
      await cleanUpTest(config, engine);
    }
  },
});
