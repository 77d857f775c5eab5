/**
 * Every compression codec the agent offers goes through the real broker: the agent's producer
 * compresses a batch, Kafka 4 validates it (the broker decompresses compressed batches to check
 * them), and a consumer decompresses it back to the same records.
 * @module
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { SUPPORTED_COMPRESSION } from "../../kafka/codecs.ts";
import { createKafka, ensureTopic } from "../../kafka/connection.ts";
import { createLogProducer } from "../../kafka/producer.ts";

const { kafka: brokers } = endpointsFromEnv();

for (const compression of SUPPORTED_COMPRESSION) {
  Deno.test({
    name: `kafka codecs: ${compression} batches round-trip through the broker unchanged`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const topic = `sluice-codec-${compression}-${crypto.randomUUID().slice(0, 8)}`;
      const kafka = createKafka({ brokers, clientId: topic });
      await ensureTopic(kafka, topic, { partitions: 1 });
      // Repetitive lines, as logs are, so every codec really compresses.
      const sent = Array.from({ length: 2_000 }, (_, i) => ({
        key: "host/file",
        value: `{"seq":${i},"message":"GET /api/orders/${i % 50} HTTP/1.1 200 ${
          "x".repeat(i % 97)
        }"}`,
      }));
      const producer = createLogProducer({ brokers, clientId: topic, compression });
      const consumer = kafka.consumer({ groupId: topic });
      try {
        await producer.send(topic, sent);
        const received: string[] = [];
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`only ${received.length} back`)), 30_000);
          consumer.run({
            eachMessage: ({ message }) => {
              received.push(message.value?.toString() ?? "");
              if (received.length >= sent.length) {
                clearTimeout(timer);
                resolve();
              }
              return Promise.resolve();
            },
          }).catch(reject);
        });
        assertEquals(received, sent.map((r) => r.value));
      } finally {
        await consumer.disconnect().catch(() => {});
        await producer.close().catch(() => {});
        const admin = kafka.admin();
        await admin.connect();
        await admin.deleteTopics({ topics: [topic] }).catch(() => {});
        await admin.deleteGroups([topic]).catch(() => {});
        await admin.disconnect();
      }
    },
  });
}
