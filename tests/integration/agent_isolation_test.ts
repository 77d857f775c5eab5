/**
 * One source cannot stop another (issue 18), against the real etcd and Kafka with the agent as a
 * process: a topic Kafka refuses holds only its own source (the other's lines arrive in full and
 * on time), the refusal shows with its topic in the status key, /healthz, /metrics and the log,
 * and once the topic can exist every held line arrives, each exactly once. A record over the
 * topic's `max.message.bytes` splits its batch or goes to the dead-letter topic with its reason,
 * and the source moves on. A topic name Kafka refuses, written into etcd past the CLI's checks,
 * is refused by the agent too, and a config file naming one is refused with exit 2.
 *
 * The refusals are Kafka's own, not simulated: the local broker creates topics on demand, so the
 * held topic is one it refuses to create (`<name>_held` while `<name>.held` exists: the names
 * collide, as '.' and '_' are alike to Kafka), and the small topic is created with
 * `max.message.bytes=4096`.
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type ConfigPlane, openConfigPlane } from "../../config_plane/mod.ts";
import { KEYS } from "../../config_plane/keys.ts";
import type { Op, Source, SourceStatus } from "../../config_plane/types.ts";
import { type Envelope, eventId } from "../../core/envelope.ts";
import { freePort } from "../../core/child.ts";
import { createKafka } from "../../kafka/connection.ts";
import type { DeadLetterValue } from "../../agent/dead_letter.ts";
import {
  assertExactlyOnce,
  checkSeq,
  endpoints,
  jsonValue,
  seqOf,
  spawnAgent,
  type SteadyWriter,
  steadyWriter,
  test,
  TopicCollector,
  unique,
  waitFor,
} from "./agent_support.ts";
import { type Diagnostics, topicRecordsProbe, withDiagnostics } from "../support/diagnostics.ts";
import type { TestProcess } from "../support/process.ts";

const kafka = createKafka({ brokers: endpoints.kafka, clientId: "agent-isolation-test" });

/** One test's agent, config plane and clean-ups. */
interface Run {
  d: Diagnostics;
  dir: string;
  base: string;
  plane: ConfigPlane;
  agentId: string;
  agent: TestProcess;
  writers: SteadyWriter[];
  apply(ops: Op[], message: string): Promise<number>;
  /** Its status for source `id` in its status key. */
  sourceStatus(id: string): Promise<SourceStatus | undefined>;
  health(): Promise<{ status: number; body: Record<string, unknown> }>;
  topics: string[];
}

function withRun(
  label: string,
  extraArgs: (base: string) => string[],
  body: (r: Run) => Promise<void>,
) {
  return withDiagnostics(async (d) => {
    const dir = await Deno.makeTempDir({ prefix: `sluice-isolation-${label}-` });
    d.defer(() => Deno.remove(dir, { recursive: true }));
    const base = unique(`iso-${label}`);
    const prefix = `/${unique("sluice-isolation")}`;
    const plane = openConfigPlane({ endpoints: endpoints.etcd, prefix });
    d.defer(async () => {
      await plane.kv.delete().all().catch(() => {});
      plane.close();
    });
    const topics: string[] = [];
    d.defer(async () => {
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics }).catch(() => {});
      await admin.disconnect();
    });
    const writers: SteadyWriter[] = [];
    d.defer(async () => {
      for (const w of writers) await w.stop();
    });
    const agentId = unique(label);
    const metricsAddr = `127.0.0.1:${freePort()}`;
    const agent = d.track(spawnAgent({
      agentId,
      prefix,
      checkpointDir: `${dir}/cp`,
      metricsAddr,
      args: extraArgs(base),
    }));
    d.probe("status keys", async () => await plane.listAgents());
    let head = 0;
    const run: Run = {
      d,
      dir,
      base,
      plane,
      agentId,
      agent,
      writers,
      topics,
      async apply(ops, message) {
        const { event } = await plane.append({ base: head, ops, author: "test", message });
        head = event.seq;
        return head;
      },
      async sourceStatus(id) {
        const me = (await plane.listAgents()).find((a) => a.agent_id === agentId);
        return me?.sources[id];
      },
      async health() {
        const { status, body } = await agent.health();
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(body);
        } catch {
          // not answering yet: status 0
        }
        return { status, body: parsed };
      },
    };
    await body(run);
  });
}

/** A collector of `topic` (created with 3 partitions if missing), stopped at the end. */
async function collect(r: Run, topic: string, json = false): Promise<TopicCollector> {
  const c = await TopicCollector.start(topic, json ? jsonValue : undefined);
  r.topics.push(topic);
  r.d.defer(() => c.stop());
  r.d.probe(`records in ${topic}`, topicRecordsProbe({ brokers: endpoints.kafka }, topic));
  return c;
}

test("agent isolation: a topic Kafka refuses holds only its source; the other's lines arrive in full and on time; once it exists every line arrives once", () =>
  withRun("held", () => [], async (r) => {
    const { dir, base } = r;
    const okTopic = `${base}-ok`;
    // Kafka refuses to create `<base>_held` while `<base>.held` exists (the names collide).
    const heldTopic = `${base}_held`;
    const collider = `${base}.held`;
    const admin = kafka.admin();
    await admin.connect();
    r.d.defer(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: collider, numPartitions: 1 }] });
    r.topics.push(collider, heldTopic);
    const ok = await collect(r, okTopic);
    r.d.probe("ok collector", () => ok.describe());
    await Deno.mkdir(`${dir}/ok`);
    await Deno.mkdir(`${dir}/held`);
    const sources: Source[] = [
      { id: "ok", paths: [`${dir}/ok/*.log`], topic: okTopic, start_at: "beginning" },
      { id: "held", paths: [`${dir}/held/*.log`], topic: heldTopic, start_at: "beginning" },
    ];
    const wOk = steadyWriter(`${dir}/ok/app.log`, "ok", 10, 20); // ≈ 500 lines/s
    const wHeld = steadyWriter(`${dir}/held/app.log`, "held", 10, 50);
    r.writers.push(wOk, wHeld);
    await r.apply(sources.map((source) => ({ op: "put_source", source })), "two sources");

    // The refusal shows, naming the topic: status key, /healthz, /metrics, the log.
    await waitFor("the held source reports its topic refused", async () => {
      const s = await r.sourceStatus("held");
      return s?.state === "error" && (s.last_error ?? "").includes(heldTopic);
    }, 30_000);
    const held = (await r.sourceStatus("held"))!;
    assert(held.last_error!.includes("UNKNOWN_TOPIC_OR_PARTITION"), held.last_error);
    const okStatus = (await r.sourceStatus("ok"))!;
    assertEquals([okStatus.state, okStatus.last_error], ["running", undefined]);
    const health = await r.health();
    assertEquals(health.status, 503);
    const problem = String(health.body.problem);
    assert(
      problem.startsWith(`Kafka refuses topic "${heldTopic}" (source held): `) &&
        problem.endsWith("the other sources keep sending"),
      problem,
    );
    assertEquals(await r.agent.metric("sluice_agent_kafka_topic_refused", { topic: heldTopic }), 1);
    assert(
      await r.agent.metric("sluice_agent_kafka_errors_total", {
        topic: heldTopic,
        kind: "topic_refused",
      }) > 0,
    );
    assertEquals(await r.agent.metric("sluice_agent_kafka_topic_refused", { topic: okTopic }), 0);
    const logged = r.agent.grep(/sources .*held.*Kafka refuses topic/);
    assert(logged.length > 0 && logged[0].includes(heldTopic), "the log names source and topic");

    // Meanwhile the other source flows in full and on time; the held one's reading holds.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const okCount = await wOk.stop();
    const stoppedAt = Date.now();
    await waitFor(
      `all ${okCount} ok lines while the other topic is refused`,
      () => checkSeq(ok.envelopes, "ok", okCount).missing.length === 0,
      15_000,
    );
    const okLatency = Date.now() - stoppedAt;
    assertExactlyOnce(ok.envelopes, "ok", okCount);
    assert(okLatency < 10_000, `the last ok line took ${okLatency} ms after the writer stopped`);
    const heldLag = (await r.sourceStatus("held"))!.lag_bytes ?? 0;
    assert(heldLag > 0, `the held source's lines wait in its file (lag ${heldLag})`);

    // The topic can exist now: the held lines arrive, each once, and the error clears.
    await admin.deleteTopics({ topics: [collider] });
    await waitFor(
      "the colliding topic is gone",
      async () => !(await admin.listTopics()).includes(collider),
    );
    const heldRecords = await collect(r, heldTopic);
    r.d.probe("held collector", () => heldRecords.describe());
    const heldCount = await wHeld.stop();
    await waitFor(
      `all ${heldCount} held lines once the topic exists`,
      () => checkSeq(heldRecords.envelopes, "held", heldCount).missing.length === 0,
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assertExactlyOnce(heldRecords.envelopes, "held", heldCount);
    await waitFor("the held source runs again", async () => {
      const s = await r.sourceStatus("held");
      return s?.state === "running" && s.last_error === undefined;
    });
    assertEquals((await r.health()).status, 200);
    assertEquals(await r.agent.metric("sluice_agent_kafka_topic_refused", { topic: heldTopic }), 0);
    // Nothing went to the wrong topic.
    assertEquals(ok.tagged("held").length, 0);
    assertEquals(heldRecords.tagged("ok").length, 0);
    console.log(
      `held topic: ${okCount} ok lines in ${okLatency} ms after their writer stopped, ` +
        `${heldCount} held lines (lag ${heldLag} bytes while refused) delivered once it existed`,
    );
  }));

/**
 * `tag seq=N` lines for n in [from, to) whose n % files is `file`; every `every`-th one is
 * `bigChars` characters of hard-to-compress text.
 */
function mixedLines(
  tag: string,
  from: number,
  to: number,
  file: number,
  files: number,
  every: number,
  bigChars: number,
): string {
  let out = "";
  for (let n = from; n < to; n++) {
    if (n % files !== file) continue;
    let body = "x".repeat(40);
    if (n % every === every - 1) {
      body = "";
      while (body.length < bigChars) body += Math.random().toString(36).slice(2);
    }
    out += `${tag} seq=${String(n).padStart(6, "0")} ${body}\n`;
  }
  return out;
}

test("agent isolation: a line over its topic's max.message.bytes goes to the dead-letter topic with its reason; batches over it are split; every line arrives once", () =>
  withRun(
    "large",
    (base) => ["--dead-letter-topic", `${base}-dlq`],
    async (r) => {
      const { dir, base } = r;
      const topic = `${base}-small`;
      const dlqTopic = `${base}-dlq`;
      const admin = kafka.admin();
      await admin.connect();
      r.d.defer(() => admin.disconnect());
      await admin.createTopics({
        topics: [{
          topic,
          numPartitions: 3,
          configEntries: [{ name: "max.message.bytes", value: "4096" }],
        }],
      });
      const small = await collect(r, topic);
      const letters = await collect(r, dlqTopic, true);
      r.d.probe("small collector", () => small.describe());
      await r.apply([{
        op: "put_source",
        source: { id: "small", paths: [`${dir}/*.log`], topic, start_at: "beginning" },
      }], "a topic with a small record limit");
      // 1,000 lines in bursts over 4 files (so over several partitions, and a request's batches
      // can be taken by some partitions and refused by others); every 40th line is ~12,000
      // characters, over 4 KiB even compressed.
      const total = 1_000;
      const every = 40;
      const files = 4;
      for (let n = 0; n < total; n += 100) {
        for (let f = 0; f < files; f++) {
          const lines = mixedLines("small", n, n + 100, f, files, every, 12_000);
          await Deno.writeTextFile(`${dir}/app-${f}.log`, lines, { append: true });
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const big = total / every;
      await waitFor(
        `${total - big} lines in ${topic} and ${big} letters in ${dlqTopic}`,
        () => small.tagged("small").length >= total - big && letters.envelopes.length >= big,
        30_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const letterValues = letters.envelopes as unknown as DeadLetterValue[];
      // Every line exactly once: in the topic (in order per file), or (the big ones) as a letter.
      const asEnvelopes = letterValues.map((l) => ({ message: l.prefix, file_id: l.file_id }));
      const all = checkSeq([...small.envelopes, ...asEnvelopes as Envelope[]], "small", total);
      assertEquals(
        [all.missing, all.duplicates],
        [[], 0],
        "every line once, in the topic or a letter",
      );
      assertEquals(checkSeq(small.envelopes, "small", total).outOfOrder, 0);
      assert(new Set(small.keys).size === files, "the lines of each file under one key");
      for (const l of letterValues) {
        const n = seqOf(l.prefix);
        assertEquals(n % every, every - 1, `line ${n} is not one of the big ones`);
        assertEquals([l.code, l.topic, l.source, l.host], [
          "MESSAGE_TOO_LARGE",
          topic,
          "small",
          r.agentId,
        ]);
        assertEquals(l.path, `${dir}/app-${n % files}.log`);
        assertEquals(l.id, eventId(r.agentId, l.file_id!, l.offset!), "the line's event id");
        assert(l.prefix_truncated && l.prefix.length <= 1024 && l.value_bytes > 12_000);
      }
      assertEquals(small.tagged("small").filter((e) => seqOf(e.message) % every === every - 1), []);
      // Batches over the limit were split rather than retried as they were.
      assert(
        await r.agent.metric("sluice_agent_kafka_errors_total", { topic, kind: "record_refused" }) >
          big,
        "every refused batch (split) and record (dead-lettered) is counted",
      );
      assertEquals(
        await r.agent.metric("sluice_agent_dead_letters_total", { source: "small" }),
        big,
      );
      // The checkpoint moved on past the dead-lettered lines; the topic is not reported refused.
      await waitFor("its files read and acknowledged to their end", async () => {
        const s = await r.sourceStatus("small");
        return s?.state === "running" && s.files === files && s.lag_bytes === 0;
      });
      const status = (await r.sourceStatus("small"))!;
      assertEquals(status.state, "running");
      assert(status.last_error?.includes("dead-letter topic"), status.last_error);
      assertEquals((await r.health()).status, 200);
      assert(
        r.agent.grep(/source small: a line of \d+ bytes \(.*app-\d\.log at offset \d+/).length >
          0,
        "the log names the source, the file and the offset",
      );
      console.log(
        `small topic: ${total - big} lines in the topic, ${big} dead-lettered, ` +
          `${await r.agent.metric("sluice_agent_kafka_errors_total", {
            topic,
          })} refused batches or records`,
      );
    },
  ));

test("agent isolation: a topic name Kafka refuses is refused by config:validate (exit 2) and, written into etcd past the CLI, by the agent, which keeps running", () =>
  withRun("name", () => [], async (r) => {
    const { dir, base } = r;
    const topic = `${base}-ok`;
    const ok = await collect(r, topic);
    const seq = await r.apply([{
      op: "put_source",
      source: { id: "ok", paths: [`${dir}/*.log`], topic, start_at: "beginning" },
    }], "one source");
    const w = steadyWriter(`${dir}/app.log`, "ok", 10, 20);
    r.writers.push(w);
    await waitFor("lines flowing", () => ok.tagged("ok").length > 100, 30_000);

    // config:validate names the field and the value, exit 2.
    const file = `${dir}/bad.yaml`;
    await Deno.writeTextFile(file, `sources:\n  - id: odd\n    paths: [/x]\n    topic: ".."\n`);
    const validate = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "config_plane/main.ts", "validate", file],
      cwd: new URL("../..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(validate.stderr) +
      new TextDecoder().decode(validate.stdout);
    assertEquals(validate.code, 2, said);
    assert(/sources\[0\]\.topic string "\.\." is not allowed here/.test(said), said);

    // An old CLI writes it straight into etcd: the agent refuses that revision and runs its own.
    const bad = seq + 1;
    const event = {
      seq: bad,
      id: `foreign-${bad}`,
      at: new Date().toISOString(),
      author: "old-cli",
      message: "a topic Kafka refuses",
      base: seq,
      ops: [{ op: "put_source", source: { id: "odd", paths: [`${dir}/*.log`], topic: ".." } }],
    };
    const kv = r.plane.kv;
    const done = await kv.if(KEYS.head, "Value", "==", String(seq))
      .then(
        kv.put(KEYS.event(bad)).value(JSON.stringify(event)),
        kv.put(KEYS.head).value(String(bad)),
      )
      .commit();
    assert(done.succeeded, "the foreign write went in");
    await waitFor("the agent refuses the revision", async () => {
      const me = (await r.plane.listAgents()).find((a) => a.agent_id === r.agentId);
      return me?.rejected?.seq === bad;
    });
    const me = (await r.plane.listAgents()).find((a) => a.agent_id === r.agentId)!;
    assert(
      /ops\[0\]\.source\.topic string "\.\." is not allowed/.test(me.rejected!.error),
      me.rejected!.error,
    );
    assertEquals([me.seq, Object.keys(me.sources)], [seq, ["ok"]]);
    const before = ok.tagged("ok").length;
    await waitFor("the running source keeps sending", () => ok.tagged("ok").length > before + 100);
    const count = await w.stop();
    await waitFor(`all ${count}`, () => checkSeq(ok.envelopes, "ok", count).missing.length === 0);
    assertExactlyOnce(ok.envelopes, "ok", count);
    assertEquals(await r.agent.metric("sluice_agent_kafka_topics"), 1, "no producer for '..'");
  }));
