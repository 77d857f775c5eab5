import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { serveMetrics } from "../core/metrics_server.ts";
import { AgentMetrics } from "./metrics.ts";

Deno.test("serves /metrics in Prometheus text and /healthz as JSON", async () => {
  const metrics = new AgentMetrics();
  metrics.linesRead.inc({ source: "nginx" }, 3);
  metrics.lagBytes.set({ source: "nginx", path: "/var/log/a.log" }, 42);
  let healthy = false;
  const server = serveMetrics({
    address: "127.0.0.1:0",
    metrics,
    health: () => ({ ok: healthy, detail: { seq: 7 } }),
  });
  try {
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert(text.includes('sluice_agent_lines_read_total{source="nginx"} 3'), text);
    assert(text.includes('sluice_agent_lag_bytes{source="nginx",path="/var/log/a.log"} 42'));
    let res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assertEquals([res.status, await res.json()], [503, { ok: false, seq: 7 }]);
    healthy = true;
    res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assertEquals(res.status, 200);
    await res.body?.cancel();
    metrics.forgetFile("nginx", "/var/log/a.log");
    assert(!(await metrics.text()).includes("/var/log/a.log"));
  } finally {
    await server.close();
  }
});

Deno.test("Kafka trouble is counted per topic and kind; a refused topic is a gauge while it lasts", async () => {
  const metrics = new AgentMetrics();
  metrics.kafkaErrors.inc({ topic: "..", kind: "topic_refused" });
  metrics.kafkaErrors.inc({ topic: "..", kind: "topic_refused" });
  metrics.topicRefused.set({ topic: ".." }, 1);
  metrics.deadLetters.inc({ source: "app", topic: "tiny" });
  let text = await metrics.text();
  assert(text.includes('sluice_agent_kafka_errors_total{topic="..",kind="topic_refused"} 2'), text);
  assert(text.includes('sluice_agent_kafka_topic_refused{topic=".."} 1'), text);
  assert(text.includes('sluice_agent_dead_letters_total{source="app",topic="tiny"} 1'), text);
  metrics.topicRefused.remove({ topic: ".." });
  text = await metrics.text();
  assert(!text.includes('sluice_agent_kafka_topic_refused{topic=".."}'), text);
});

Deno.test("the number of topics with a producer is read when /metrics is", async () => {
  const metrics = new AgentMetrics();
  let topics = 3;
  metrics.countKafkaTopics = () => topics;
  assert((await metrics.text()).includes("sluice_agent_kafka_topics 3"));
  topics = 1;
  assert((await metrics.text()).includes("sluice_agent_kafka_topics 1"));
});
