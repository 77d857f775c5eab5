import { deepStrictEqual as assertEquals, equal, match } from "node:assert/strict";
import { validateAgentStatus } from "../config_plane/mod.ts";
import type { SourceStatus } from "../config_plane/types.ts";
import type { SendProblem } from "../kafka/producer.ts";
import { agentHealth, buildStatus, withTopicProblem } from "./status.ts";

Deno.test("buildStatus produces a status the schema accepts", () => {
  const t = new Date("2024-05-01T00:00:00Z");
  const status = buildStatus({
    agentId: "web-1",
    host: "web-1.example",
    labels: { role: "web" },
    seq: 12,
    rejected: { seq: 13, error: "bad regex" },
    startedAt: t,
    now: t,
    sources: { nginx: { state: "running", files: 2, lag_bytes: 0 } },
    version: "0.1.0+git7.cc76f67",
  });
  assertEquals(status.seq, 12);
  assertEquals(status.version, "0.1.0+git7.cc76f67");
  assertEquals(status.rejected, { seq: 13, error: "bad regex" });
  const result = validateAgentStatus(status);
  assertEquals(result.ok, true, JSON.stringify(result));
});

Deno.test("before any config the seq is 0, not negative", () => {
  const t = new Date();
  assertEquals(
    buildStatus({
      agentId: "a",
      host: "a",
      labels: {},
      seq: -1,
      startedAt: t,
      now: t,
      sources: {},
      version: "0.1.0",
    }).seq,
    0,
  );
});

const refused: SendProblem = {
  kind: "refused",
  topic: "..",
  code: "INVALID_TOPIC_EXCEPTION",
  message: "The request attempted to perform an operation on an invalid topic.",
  since: new Date("2026-05-01T10:00:00Z"),
  attempts: 11,
};
const unreachable: SendProblem = {
  kind: "unreachable",
  code: "PLT_KFK_NETWORK",
  message: "Connection to 127.0.0.1:9092 failed.: connect ECONNREFUSED 127.0.0.1:9092",
  since: new Date("2026-05-01T10:00:00Z"),
  attempts: 1,
};

Deno.test("withTopicProblem: a refused topic turns its source to error, naming the topic", () => {
  const own: SourceStatus = { state: "running", files: 1, lag_bytes: 34_000 };
  const merged = withTopicProblem(own, "..", refused);
  equal(merged.state, "error");
  equal(merged.files, 1);
  equal(merged.lag_bytes, 34_000);
  equal(
    merged.last_error,
    'Kafka refuses topic "..": INVALID_TOPIC_EXCEPTION: The request attempted to perform an ' +
      "operation on an invalid topic. (since 2026-05-01T10:00:00.000Z, 11 attempts); its lines " +
      "wait in their files",
  );
  // The status key stays valid for the schema.
  const t = new Date();
  const status = buildStatus({
    agentId: "a",
    host: "a",
    labels: {},
    seq: 3,
    startedAt: t,
    now: t,
    sources: { app: merged },
    version: "0.1.0",
  });
  assertEquals(validateAgentStatus(status).ok, true);
});

Deno.test("withTopicProblem: Kafka out of reach only says so; no trouble leaves the status alone", () => {
  const own: SourceStatus = { state: "waiting", files: 0 };
  const merged = withTopicProblem(own, "logs", unreachable);
  equal(merged.state, "waiting");
  match(merged.last_error!, /^Kafka cannot be reached for topic "logs": PLT_KFK_NETWORK: /);
  equal(withTopicProblem(own, "logs", undefined), own);
  const stopped: SourceStatus = { state: "stopped", files: 0 };
  equal(withTopicProblem(stopped, "..", refused), stopped);
});

Deno.test("agentHealth: 503 naming the refused topic and its sources; the detail lists every troubled topic", () => {
  const report = agentHealth({
    agentId: "web-1",
    seq: 7,
    stopping: false,
    sources: {},
    topicOf: { app: "..", web: "logs", api: ".." },
    topics: new Map([["..", refused], ["logs", unreachable]]),
  });
  equal(report.ok, false);
  equal(
    report.problem,
    'Kafka refuses topic ".." (sources api, app): INVALID_TOPIC_EXCEPTION: The request attempted ' +
      "to perform an operation on an invalid topic. (since 2026-05-01T10:00:00.000Z, 11 attempts); " +
      "the other sources keep sending",
  );
  const topics = report.detail!.topics as Record<string, { kind: string; sources: string[] }>;
  assertEquals(Object.keys(topics), ["..", "logs"]);
  assertEquals(topics[".."].sources, ["api", "app"]);
  assertEquals([topics.logs.kind, topics.logs.sources], ["unreachable", ["web"]]);
  equal(report.detail!.seq, 7);
});

Deno.test("agentHealth: Kafka out of reach stays 200; starting and stopping are 503 as before", () => {
  const base = {
    agentId: "a",
    sources: {},
    topicOf: { web: "logs" },
    topics: new Map([["logs", unreachable]]),
  };
  assertEquals(
    [
      agentHealth({ ...base, seq: 2, stopping: false }).ok,
      agentHealth({ ...base, seq: 2, stopping: false }).problem,
    ],
    [true, undefined],
  );
  equal(
    agentHealth({ ...base, seq: -1, stopping: false }).problem,
    "no config applied yet: waiting for etcd",
  );
  equal(agentHealth({ ...base, seq: 2, stopping: true }).problem, "stopping");
  // A refused topic no source uses any more (the dead-letter topic) still shows.
  match(
    agentHealth({ ...base, seq: 2, stopping: false, topics: new Map([["dlq", refused]]) }).problem!,
    /^Kafka refuses topic "dlq" \(no source now\)/,
  );
});
