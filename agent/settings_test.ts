import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { InvalidInputError } from "../core/errors.ts";
import { readSettingsFile } from "../core/settings.ts";
import { resolveSettings } from "./settings.ts";

Deno.test("defaults: host name as id, standard endpoints, gzip", () => {
  const s = resolveSettings({}, { HOME: "/home/u" }, {}, "web-1");
  assertEquals(s.agentId, "web-1");
  assertEquals(s.etcd, ["http://127.0.0.1:2379"]);
  assertEquals(s.kafka, ["127.0.0.1:9092"]);
  assertEquals(s.prefix, "/sluice");
  assertEquals(s.checkpointDir, "/home/u/.local/state/sluice/agent");
  assertEquals(s.compression, "gzip");
  assertEquals(s.metricsAddress, "127.0.0.1:9464");
});

Deno.test("flags beat env beat file", () => {
  const file = {
    agent_id: "from-file",
    kafka: ["f:1"],
    labels: { zone: "a", role: "db" },
    checkpoint_dir: "~/cp",
    linger_ms: 50,
  };
  const env = { SLUICE_AGENT_ID: "from-env", SLUICE_KAFKA_BROKERS: "e:1,e:2", HOME: "/h" };
  let s = resolveSettings({}, env, file, "h");
  assertEquals([s.agentId, s.kafka, s.checkpointDir, s.lingerMs], [
    "from-env",
    ["e:1", "e:2"],
    "/h/cp",
    50,
  ]);
  assertEquals(s.labels, { zone: "a", role: "db" });
  s = resolveSettings(
    { "agent-id": "flag", kafka: "k:1", label: ["role=web"], "linger-ms": "0" },
    env,
    file,
    "h",
  );
  assertEquals([s.agentId, s.kafka, s.lingerMs], ["flag", ["k:1"], 0]);
  assertEquals(s.labels, { zone: "a", role: "web" });
  s = resolveSettings({}, { SLUICE_AGENT_LABELS: "a=1, b=2" }, {}, "h");
  assertEquals(s.labels, { a: "1", b: "2" });
});

Deno.test("bad values are InvalidInputError naming the fix", () => {
  throws(() => resolveSettings({ label: ["novalue"] }, {}, {}, "h"), InvalidInputError);
  throws(() => resolveSettings({ "poll-ms": "-1" }, {}, {}, "h"), /poll-ms/);
  throws(
    () => resolveSettings({ compression: "brotli" }, {}, {}, "h"),
    /supported: none, gzip, snappy, lz4, zstd/,
  );
});

Deno.test("settings file: YAML or JSON, must be a mapping", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/a.yaml`, "agent_id: y\nlabels:\n  role: web\n");
    assertEquals(await readSettingsFile(`${dir}/a.yaml`), {
      agent_id: "y",
      labels: { role: "web" },
    });
    await Deno.writeTextFile(`${dir}/b.json`, "[1]");
    await readSettingsFile(`${dir}/b.json`).then(() => {
      throw new Error("accepted");
    }, (e) => assertEquals(e instanceof InvalidInputError, true));
    assertEquals(await readSettingsFile(undefined), {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dead-letter topic: a default, settable, empty turns it off, a name Kafka refuses is refused", () => {
  assertEquals(resolveSettings({}, {}, {}, "h").deadLetterTopic, "sluice-agent-dead-letter");
  assertEquals(
    resolveSettings({ "dead-letter-topic": "dlq.agents" }, {}, {}, "h").deadLetterTopic,
    "dlq.agents",
  );
  assertEquals(
    resolveSettings({ "dead-letter-topic": "" }, {}, {}, "h").deadLetterTopic,
    "",
  );
  throws(
    () => resolveSettings({ "dead-letter-topic": ".." }, {}, {}, "h"),
    (e: Error) =>
      e instanceof InvalidInputError &&
      /dead-letter topic "\.\." '\.\.' is not allowed/.test(e.message),
  );
});
