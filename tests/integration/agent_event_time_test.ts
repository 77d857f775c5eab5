/**
 * Event time and processing on the host, through a running agent (a process) and a transfer into
 * the index (real etcd, Kafka and search engine): a backfill of lines spanning three days lands in
 * three date shards with the lines' own times; an agent killed across a date change leaves every
 * line once; a secret is masked before the line leaves the host (never in Kafka, never in the
 * index); a line read again after a crash keeps the read time of its first send.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { openConfigPlane } from "../../config_plane/mod.ts";
import type { Source } from "../../config_plane/types.ts";
import { sleep } from "../../core/backoff.ts";
import { waitFor } from "../../core/child.ts";
import { partitionBounds } from "../../kafka/consumer.ts";
import { createEngine, type SearchEngine } from "../../transfer/engine.ts";
import { startTransfer } from "../../transfer/transfer.ts";
import {
  type Diagnostics,
  documentsProbe,
  topicRecordsProbe,
  withDiagnostics,
} from "../support/diagnostics.ts";
import type { TestProcess } from "../support/process.ts";
import { cleanUpTest, testConfig, uniqueName } from "../support/transfer_rig.ts";
import { endpoints, rig, spawnAgent, test, TopicCollector, unique } from "./agent_support.ts";

interface Pipeline {
  dir: string;
  name: string;
  engine: SearchEngine;
  agent: TestProcess;
  restart(): TestProcess;
  put(source: Omit<Source, "topic">): Promise<void>;
  /** Documents now (after a refresh) in `<name>-<pattern>`. */
  count(pattern?: string): Promise<number>;
  indices(): Promise<string[]>;
  /** Every document's `_source` fields. */
  documents(fields: string[]): Promise<Record<string, unknown>[]>;
}

/** An agent process and an in-process transfer on fresh names; all removed afterwards. */
function withPipeline(label: string, body: (p: Pipeline) => Promise<void>) {
  return withDiagnostics(async (d: Diagnostics) => {
    const name = uniqueName(label);
    const dir = await Deno.makeTempDir({ prefix: `sluice-time-${label}-` });
    d.defer(() => Deno.remove(dir, { recursive: true }));
    const config = testConfig(name);
    const engine = await createEngine({ url: config.searchUrl });
    const transfer = await startTransfer(config);
    d.defer(() => cleanUpTest(config, engine));
    d.defer(() => transfer.stop());
    const prefix = `/${name}`;
    const plane = openConfigPlane({ endpoints: endpoints.etcd, prefix });
    d.defer(async () => {
      await plane.kv.delete().all().catch(() => {});
      plane.close();
    });
    d.probe(`records in ${name}`, topicRecordsProbe({ brokers: endpoints.kafka }, name));
    d.probe(`documents in ${name}-*`, documentsProbe(engine, `${name}-*`));
    d.probe("status keys", async () => await plane.listAgents());
    const agentId = unique(label);
    const spawn = () =>
      d.track(spawnAgent({ prefix, checkpointDir: `${dir}/cp`, agentId, scanMs: 200 }));
    let head = 0;
    const p: Pipeline = {
      dir,
      name,
      engine,
      agent: spawn(),
      restart: () => p.agent = spawn(),
      async put(source) {
        const { event } = await plane.append({
          base: head,
          author: "test",
          message: "event time test",
          ops: [{ op: "put_source", source: { ...source, topic: name } }],
        });
        head = event.seq;
      },
      async count(pattern = "*") {
        await engine.refresh(`${name}-${pattern}`);
        return await engine.count(`${name}-${pattern}`);
      },
      indices: () => engine.listIndices(`${name}-*`),
      async documents(fields) {
        await engine.refresh(`${name}-*`);
        const r = await engine.search(`${name}-*`, { size: 10_000, _source: fields });
        return r.hits.map((h) => h._source);
      },
    };
    await body(p);
  });
}

/** JSON lines of an app, one every `stepMs` from `start`, with a number in each. */
function jsonLines(start: number, count: number, stepMs: number, from = 0): string {
  let out = "";
  for (let i = from; i < from + count; i++) {
    const time = new Date(start + i * stepMs).toISOString().replace("Z", "+00:00");
    out += `{"time":"${time}","level":"info","n":${i},"msg":"order ${i} paid"}\n`;
  }
  return out;
}

const JSON_TIME: Omit<Source, "id" | "paths" | "topic"> = {
  start_at: "beginning",
  parser: { type: "json" },
  timestamp: { field: "time", formats: ["rfc3339"] },
};

test("event time: a backfill of lines spanning three days lands in three date shards, each line at its own time", () =>
  withPipeline("backfill", async (p) => {
    const COUNT = 3_000;
    // 2024-03-08 16:00 UTC + 3,000 × 50 s: three UTC days.
    const start = Date.parse("2024-03-08T16:00:00Z");
    await Deno.writeTextFile(`${p.dir}/app.log`, jsonLines(start, COUNT, 50_000));
    await p.put({ id: "app", paths: [`${p.dir}/*.log`], ...JSON_TIME });
    await waitFor(`${COUNT} documents`, async () => (await p.count()) >= COUNT, {
      timeoutMs: 90_000,
      intervalMs: 500,
      retryErrors: true,
    });
    assertEquals(await p.count(), COUNT);
    assertEquals(
      (await p.indices()).map((i) => i.slice(-10)),
      ["2024.03.08", "2024.03.09", "2024.03.10"],
    );
    const docs = await p.documents(["@timestamp", "parsed.n", "event.ingested"]);
    for (const doc of docs.slice(0, 200)) {
      const n = (doc.parsed as { n: number }).n;
      assertEquals(Date.parse(doc["@timestamp"] as string), start + n * 50_000, `line ${n}`);
      // The read time is kept beside it.
      const ingested = (doc.event as { ingested: string }).ingested;
      assert(Date.parse(ingested) > Date.parse("2025-01-01"), ingested);
    }
  }));

test("event time: an agent killed -9 while lines cross a date change leaves every line once in the index", () =>
  withPipeline("midnight", async (p) => {
    const COUNT = 4_000;
    const start = Date.parse("2024-06-30T23:59:00Z"); // one line a 30 ms: across midnight
    const path = `${p.dir}/app.log`;
    await p.put({ id: "app", paths: [`${p.dir}/*.log`], ...JSON_TIME });
    for (let i = 0; i < COUNT; i += 500) {
      await Deno.writeTextFile(path, jsonLines(start, 500, 30, i), { append: true });
      if (i === 1_500 || i === 2_500) {
        await sleep(100);
        await p.agent.kill9();
        p.restart();
      }
      await sleep(50);
    }
    await waitFor(`${COUNT} documents`, async () => (await p.count()) >= COUNT, {
      timeoutMs: 90_000,
      intervalMs: 500,
      retryErrors: true,
    });
    await sleep(1_000); // a copy in another shard would show up now
    assertEquals(await p.count(), COUNT, "every line once, in one shard");
    assertEquals((await p.indices()).map((i) => i.slice(-10)), ["2024.06.30", "2024.07.01"]);
    assertEquals(await p.count("*-2024.06.30"), 2_000, "lines before 00:00 on 30 June");
  }));

test("redaction: a secret in a line is masked on the host: never in Kafka, never in the index", () =>
  withPipeline("redact", async (p) => {
    const SECRET = "4111111111111111";
    const TOKEN = "tok_live_9f8e7d6c5b4a";
    await Deno.writeTextFile(
      `${p.dir}/app.log`,
      `{"time":"2024-05-01T10:00:00Z","msg":"paid with ${SECRET}","auth":"${TOKEN}"}\n` +
        `{"time":"2024-05-01T10:00:01Z","msg":"GET /healthz"}\n` +
        `plain line with ${SECRET} and no JSON\n`,
    );
    await p.put({
      id: "app",
      paths: [`${p.dir}/*.log`],
      ...JSON_TIME,
      processors: [
        { type: "drop", pattern: "/healthz" },
        { type: "redact", pattern: "\\b\\d{16}\\b", mask: "[CARD]" },
        { type: "redact", pattern: "tok_live_\\w+" },
      ],
    });
    await waitFor("2 documents", async () => (await p.count()) >= 2, {
      timeoutMs: 60_000,
      intervalMs: 500,
      retryErrors: true,
    });
    // Kafka: read every record of the topic, raw.
    const collector = await TopicCollector.start(p.name);
    try {
      const bounds = await partitionBounds({ brokers: endpoints.kafka }, p.name);
      const total = bounds.reduce((sum, b) => sum + Number(b.high), 0);
      await waitFor("every record", () => collector.envelopes.length >= total, {
        timeoutMs: 30_000,
      });
      const raw = JSON.stringify(collector.envelopes);
      assertEquals([raw.includes(SECRET), raw.includes(TOKEN)], [false, false], "in Kafka");
      assert(raw.includes("[CARD]") && raw.includes("[REDACTED]"), raw.slice(0, 500));
    } finally {
      await collector.stop();
    }
    const docs = await p.documents(["message", "parsed", "tags"]);
    assertEquals(docs.length, 2, "the /healthz line was dropped on the host");
    const indexed = JSON.stringify(docs);
    assertEquals(
      [indexed.includes(SECRET), indexed.includes(TOKEN)],
      [false, false],
      "in the index",
    );
    const plain = docs.find((d) => String(d.message).startsWith("plain line"))!;
    assertEquals(plain.tags, ["json_invalid", "timestamp_missing"], "flagged, not dropped");
  }));

test("read time: a line read again after a crash carries the read time of its first send", async () => {
  // The producer holds its batches 1.5 s: the checkpoint saved meanwhile lists the unacknowledged
  // sends with their read times, as a crash would leave it.
  const r = await rig({ lingerMs: 1_500 });
  try {
    const path = `${r.dir}/app.log`;
    const lines = Array.from({ length: 400 }, (_, i) => `resent line ${i}`).join("\n") + "\n";
    await Deno.writeTextFile(path, lines.slice(0, lines.length / 2));
    const first = r.task({ id: "src" });
    await sleep(400);
    await Deno.writeTextFile(path, lines.slice(lines.length / 2), { append: true });
    await sleep(600);
    // The checkpoints as they are now: sent, not yet acknowledged.
    const crashed = `${r.dir}/crashed-checkpoints`;
    await Deno.mkdir(crashed);
    const saved = JSON.parse(await Deno.readTextFile(`${r.checkpoints}/src.json`));
    assert(
      saved.files[0].sent?.length > 0,
      `no unacknowledged sends saved: ${JSON.stringify(saved)}`,
    );
    await Deno.writeTextFile(`${crashed}/src.json`, JSON.stringify(saved));
    await waitFor("the first run's 400 lines", () => r.collector.envelopes.length >= 400, {
      timeoutMs: 30_000,
    });
    await first.stop(5_000);
    // A second run from the crash-time checkpoints reads the unacknowledged lines again.
    const again = r.task({ id: "src" }, undefined, crashed);
    await waitFor("the lines read again", () => r.collector.envelopes.length >= 800, {
      timeoutMs: 30_000,
    });
    await again.stop(5_000);
    const byId = new Map<string, string[]>();
    for (const e of r.collector.envelopes) {
      byId.set(e.id, [...(byId.get(e.id) ?? []), e["@timestamp"]]);
    }
    const twice = [...byId.values()].filter((t) => t.length === 2);
    assertEquals(twice.length, 400, "every line was read again");
    const differ = twice.filter(([a, b]) => a !== b);
    assertEquals(
      differ.length,
      0,
      `re-sent with another read time: ${JSON.stringify(differ.slice(0, 3))}`,
    );
  } finally {
    await r.cleanup();
  }
});
