/**
 * Dead letters against the real Kafka and OpenSearch: one document whose field type conflicts
 * with the mapping is dead-lettered alone with the engine's reason while the rest of its batch
 * is indexed; garbage records (not UTF-8, not JSON, not an envelope, empty) are dead-lettered
 * too, and the partition keeps moving past them.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { committedOffsets, partitionBounds } from "../../kafka/consumer.ts";
import { createEngine } from "../../transfer/engine.ts";
import {
  cleanUpTest,
  envelopeRecords,
  eventually,
  makeEnvelopes,
  produce,
  type RawRecord,
  readDeadLetters,
  testConfig,
  uniqueName,
  waitForCount,
} from "../support/transfer_rig.ts";
import { startTransfer } from "../../transfer/transfer.ts";

const { kafka: brokers } = endpointsFromEnv();

Deno.test({
  name:
    "transfer: a conflicting document alone and garbage records are dead-lettered; the partition moves on",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const name = uniqueName("dlq");
    const config = testConfig(name);
    const engine = await createEngine({ url: config.searchUrl });
    const start = Date.parse("2024-05-01T12:00:00Z");
    const envelopes = makeEnvelopes({ count: 300, source: "app", start, stepMs: 1000 });
    // parsed.status is a number everywhere except in one document, where it is an object.
    envelopes.forEach((e, i) => (e.parsed = { status: 200 + (i % 5) }));
    const conflicting = envelopes[150];
    conflicting.parsed = { status: { code: "teapot" } };
    const records = envelopeRecords(envelopes).map((r) => ({ ...r, partition: 0 }));
    const garbage: RawRecord[] = [
      { value: "plain text line, not JSON", partition: 0 },
      { value: new Uint8Array([0xc3, 0x28, 0xff]), partition: 0 },
      { value: JSON.stringify({ message: "JSON but no envelope" }), partition: 0 },
      { value: null, partition: 0 },
    ];
    try {
      // The first hundred fix parsed.status as a long before the conflicting one arrives.
      await produce(brokers, name, records.slice(0, 100), 1);
      const transfer = await startTransfer(config);
      try {
        assertEquals(await waitForCount(engine, `${name}-*`, (n) => n >= 100), 100);
        await produce(brokers, name, [...garbage.slice(0, 2), ...records.slice(100, 200)], 1);
        await produce(brokers, name, [...garbage.slice(2), ...records.slice(200)], 1);
        const total = records.length + garbage.length;

        // Everything but the conflicting document is indexed…
        assertEquals(await waitForCount(engine, `${name}-*`, (n) => n >= 299), 299);
        const { total: found } = await engine.search(`${name}-*`, {
          query: { ids: { values: [conflicting.id] } },
        });
        assertEquals(found, 0);

        // …and the partition's committed offset reaches its end: nothing is stuck.
        const [{ high }] = await partitionBounds({ brokers }, name);
        assertEquals(Number(high), total);
        await eventually("offset committed to the end", async () => {
          const [c] = await committedOffsets({ brokers }, name, name);
          return c && Number(c.offset) === total ? true : undefined;
        }, 15_000);
        assertEquals(transfer.stats().deadLettered, 5);
      } finally {
        await transfer.stop();
      }

      const letters = await readDeadLetters(brokers, `${name}-dlq`, 5);
      assertEquals(letters.length, 5);
      const rejected = letters.filter((l) => l.cause === "rejected");
      assertEquals(rejected.length, 1);
      assertEquals(rejected[0].id, conflicting.id);
      assertEquals(rejected[0].status, 400);
      // OpenSearch 2 names it mapper_parsing_exception, Elasticsearch 8 document_parsing_exception.
      assertEquals(
        /^(mapper|document)_parsing_exception$/.test(rejected[0].error_type ?? ""),
        true,
        rejected[0].error_type,
      );
      assertEquals(rejected[0].reason.includes("parsed.status"), true);
      // The rejected document itself, under its ECS names.
      assertEquals(JSON.parse(rejected[0].value!).event.id, conflicting.id);
      const reasons = letters.filter((l) => l.cause === "not_envelope").map((l) => l.reason).sort();
      assertEquals(reasons.length, 4);
      assertEquals(reasons[0], "empty record value");
      assertEquals(reasons[1], "not JSON: " + reasons[1].slice("not JSON: ".length));
      assertEquals(reasons[2].startsWith("not an envelope: missing or mistyped @timestamp"), true);
      assertEquals(reasons[3], "record value is not valid UTF-8");
      const binary = letters.find((l) => l.reason === "record value is not valid UTF-8")!;
      assertEquals([binary.value, binary.value_encoding], ["wyj/", "base64"]);
    } finally {
      await cleanUpTest(config, engine);
    }
  },
});
