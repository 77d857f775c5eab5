/**
 * Creating a topic while someone else creates it too: the transfer calls `ensureTopic` for its
 * topic and its dead-letter topic at start, often while an agent's first send is auto-creating the
 * same topic. On a busy machine the broker did not know a topic the controller had just created,
 * kafkajs gave up with UNKNOWN_TOPIC_OR_PARTITION, and the transfer exited at start (issue 16:
 * the secure pipeline test's transfer exited 1, so no document ever arrived).
 * @module
 */
import { equal, ok } from "node:assert/strict";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { createKafka, ensureTopic } from "../../kafka/connection.ts";
import { createLogProducer } from "../../kafka/producer.ts";

const { kafka: brokers } = endpointsFromEnv();
const TOPICS = 8;

Deno.test({
  name:
    "ensureTopic: racing a producer's auto-creation and two other callers, every call returns with a leader per partition",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const run = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 6)}`;
    const topics = Array.from({ length: TOPICS }, (_, i) => `sluice-race-${run}-${i}`);
    const kafka = createKafka({ brokers, clientId: `sluice-race-${run}` });
    const producer = createLogProducer({ brokers, lingerMs: 0 });
    const admin = kafka.admin();
    try {
      const outcomes = await Promise.allSettled(topics.flatMap((topic) => [
        producer.send(topic, [{ key: "k", value: "auto-created by the first send" }]),
        ensureTopic(kafka, topic),
        ensureTopic(kafka, topic),
        ensureTopic(kafka, topic),
      ]));
      const failed = outcomes.flatMap((o, i) =>
        o.status === "rejected" ? [`${topics[Math.floor(i / 4)]} call ${i % 4}: ${o.reason}`] : []
      );
      equal(failed.join("\n"), "", "every send and every ensureTopic succeeded");
      await admin.connect();
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      equal(meta.length, TOPICS);
      for (const t of meta) {
        ok(t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0), JSON.stringify(t));
      }
    } finally {
      await producer.close({ timeoutMs: 5_000 }).catch(() => {});
      await admin.deleteTopics({ topics }).catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  },
});
