/**
 * The producer's own connections to Kafka (kafka/cluster.ts, kafka/broker_connection.ts) against
 * the real broker, and against sockets that are not Kafka: a port nobody listens on, a listener
 * that never answers, one that answers garbage. What the agent then does with each error is
 * decided by kafka/send_failure.ts (unit-tested); here the errors must be the right ones, name the
 * broker, and come within the timeouts set.
 * @module
 */
import { equal, match, ok, rejects } from "node:assert/strict";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { KafkaCluster } from "../../kafka/cluster.ts";
import { classifySendError } from "../../kafka/send_failure.ts";

const { kafka: brokers } = endpointsFromEnv();

function cluster(bootstrap: string[], requestTimeoutMs = 10_000): KafkaCluster {
  return new KafkaCluster({
    brokers: bootstrap,
    clientId: "sluice-cluster-test",
    security: {},
    connectTimeoutMs: 2000,
    requestTimeoutMs,
  });
}

Deno.test("KafkaCluster: a new topic is created, has a leader per partition, and producer ids are fresh", async () => {
  const kafka = cluster(brokers);
  try {
    const topic = `sluice-cluster-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 6)}`;
    const { topics } = await kafka.metadata({ topics: [topic] });
    const layout = topics.get(topic);
    ok(layout && layout.partitionsCount >= 1, `layout of ${topic}: ${JSON.stringify(layout)}`);
    for (const [index, p] of layout.partitions.entries()) ok(p.leader >= 0, `partition ${index}`);
    const again = await kafka.metadata({ topics: [topic], forceUpdate: true });
    equal(again.topics.get(topic)?.partitionsCount, layout.partitionsCount);
    const leaders = [...new Set(layout.partitions.map((p) => p.leader))];
    const connections = await kafka.connectToBrokers(leaders);
    equal(connections.size, leaders.length);
    const first = await kafka.initIdempotentProducer();
    const second = await kafka.initIdempotentProducer();
    ok(
      first.producerId >= 0n && first.producerEpoch >= 0,
      JSON.stringify(String(first.producerId)),
    );
    ok(second.producerId !== first.producerId, "each call gets its own producer id");
  } finally {
    await kafka.close();
  }
});

Deno.test("KafkaCluster: a connection that failed is replaced on next use", async () => {
  const kafka = cluster(brokers);
  try {
    const topic = `sluice-cluster-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 6)}`;
    const { topics } = await kafka.metadata({ topics: [topic] });
    const leader = topics.get(topic)!.partitions[0].leader;
    const before = (await kafka.connectToBrokers([leader])).get(leader)!;
    before.close();
    ok(before.closed);
    const after = (await kafka.connectToBrokers([leader])).get(leader)!;
    ok(after !== before && !after.closed, "a fresh connection");
    ok((await kafka.initIdempotentProducer()).producerId >= 0n);
  } finally {
    await kafka.close();
  }
  await rejects(kafka.initIdempotentProducer(), /the Kafka client is closed/);
});

Deno.test("KafkaCluster: nobody listening is connection trouble naming every broker tried", async () => {
  const kafka = cluster(["127.0.0.1:1", "127.0.0.1:2"]);
  try {
    const error = await kafka.metadata({ topics: ["t"] }).then(() => undefined, (e) => e);
    ok(error instanceof AggregateError, String(error));
    match(error.message, /No Kafka broker answered \(127\.0\.0\.1:1, 127\.0\.0\.1:2\)/);
    match(error.message, /Connection to 127\.0\.0\.1:1 failed: .*refused/i);
    equal(classifySendError(error).kind, "unreachable");
  } finally {
    await kafka.close();
  }
});

/** A TCP listener on a free port that does `serve` with every connection. */
function listener(serve: (conn: Deno.Conn) => Promise<void>): { address: string; close(): void } {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of server) {
      conns.push(conn);
      serve(conn).catch(() => {});
    }
  })().catch(() => {});
  return {
    address: `127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    close() {
      server.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed by the client */ }
      }
    },
  };
}

Deno.test("KafkaCluster: a broker that never answers times the request out, and the connection is dropped", async () => {
  const silent = listener(async (conn) => {
    for await (const _ of conn.readable) { /* reads and never answers */ }
  });
  const kafka = cluster([silent.address], 400);
  try {
    const started = Date.now();
    const error = await kafka.initIdempotentProducer().then(() => undefined, (e) => e);
    const took = Date.now() - started;
    match(
      String(error?.message),
      /Request \(API 22\) to 127\.0\.0\.1:\d+ was not answered within 400 ms/,
    );
    ok(took >= 390 && took < 5000, `failed after ${took} ms`);
    equal(classifySendError(error).kind, "unreachable");
  } finally {
    await kafka.close();
    silent.close();
  }
});

Deno.test("KafkaCluster: an answer that is not Kafka's is a framing error, not a value", async () => {
  const garbage = listener(async (conn) => {
    for await (const _ of conn.readable) {
      // A size of 2: shorter than any answer's header.
      await conn.write(new Uint8Array([0, 0, 0, 2, 1, 1]));
    }
  });
  const kafka = cluster([garbage.address]);
  try {
    const error = await kafka.metadata({ topics: ["t"] }).then(() => undefined, (e) => e);
    match(String(error?.message), /Connection to 127\.0\.0\.1:\d+ failed: an answer of 2 bytes/);
    equal(classifySendError(error).kind, "unreachable");
  } finally {
    await kafka.close();
    garbage.close();
  }
});
