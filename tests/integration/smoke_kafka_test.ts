/**
 * Proves the Kafka of the stack is real and that kafkajs speaks to Kafka 4 (see
 * docs/decisions/0001-kafka-client.md): an idempotent producer with acks=-1 writes keyed records,
 * a consumer group reads them back in order per key, and commits its offsets.
 * Expects Kafka at SLUICE_KAFKA_BROKERS (default 127.0.0.1:9092); `deno task test` starts it.
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { createKafka, ensureTopic } from "../../kafka/connection.ts";

const endpoints = endpointsFromEnv();

Deno.test({
  name: "kafka: produce (idempotent, acks=-1) then consume round trip keeps order per key",
  // kafkajs leaves timers behind after disconnect(); the sanitizers would flag them.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const run = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
    const topic = `sluice-smoke-${run}`;
    const groupId = `sluice-smoke-${run}`;
    const kafka = createKafka({ brokers: endpoints.kafka, clientId: `sluice-smoke-${run}` });
    await ensureTopic(kafka, topic, { partitions: 3 });

    const keys = ["host-a/file-1", "host-a/file-2", "host-b/file-1"];
    const perKey = 50;
    const sent = keys.flatMap((key) =>
      Array.from({ length: perKey }, (_, i) => ({
        key,
        value: JSON.stringify({ key, seq: i, line: `line ${i} of ${key}` }),
        headers: { run },
      }))
    );

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000 });
    const admin = kafka.admin();
    try {
      await producer.connect();
      // Two batches, as the agent sends them.
      const half = sent.length / 2;
      for (const messages of [sent.slice(0, half), sent.slice(half)]) {
        const acks = await producer.send({ topic, acks: -1, messages });
        assert(acks.length > 0 && acks.every((a) => a.errorCode === 0), JSON.stringify(acks));
      }

      const received: { key: string; seq: number; partition: number; run: string }[] = [];
      let resolveAll: () => void;
      const all = new Promise<void>((resolve) => resolveAll = resolve);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message, partition }) => {
          const body = JSON.parse(message.value!.toString());
          received.push({
            key: message.key!.toString(),
            seq: body.seq,
            partition,
            run: message.headers?.run?.toString() ?? "",
          });
          if (received.length === sent.length) resolveAll();
          return Promise.resolve();
        },
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        all,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`received ${received.length} of ${sent.length} in 30 s`)),
            30_000,
          );
        }),
      ]).finally(() => clearTimeout(timer));

      assertEquals(received.length, sent.length);
      assert(received.every((r) => r.run === run), "every record carries its header");
      for (const key of keys) {
        const ofKey = received.filter((r) => r.key === key);
        assertEquals(ofKey.map((r) => r.seq), Array.from({ length: perKey }, (_, i) => i), key);
        assertEquals(new Set(ofKey.map((r) => r.partition)).size, 1, `${key} on one partition`);
      }

      // The group's committed offsets cover every record (autoCommit on stop).
      await consumer.stop();
      await admin.connect();
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      const total = committed[0].partitions.reduce(
        (sum, p) => sum + Math.max(0, Number(p.offset)),
        0,
      );
      assertEquals(total, sent.length);
    } finally {
      await consumer.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
      await admin.connect().catch(() => {});
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  },
});
