/**
 * The agent as a process (`agent/main.ts`) against the real etcd and Kafka: sources added,
 * changed and removed live through the config plane (an unchanged source shows no gap and no
 * repeat), the leased status key, SIGTERM ending in exit 0, and `kill -9` + restart losing
 * nothing (repeats only from the unacknowledged window).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type ConfigPlane, openConfigPlane } from "../../config_plane/mod.ts";
import type { Op, Source } from "../../config_plane/types.ts";
import {
  type AgentProcessOptions,
  agentTaskFlags,
  assertExactlyOnce,
  checkSeq,
  endpoints,
  spawnAgent,
  type SteadyWriter,
  steadyWriter,
  test,
  TopicCollector,
  unique,
  waitFor,
} from "./agent_support.ts";
import { topicRecordsProbe, withDiagnostics } from "../support/diagnostics.ts";
import type { TestProcess } from "../support/process.ts";

/** What one test's agent run is made of; `withAgentRun` sets it up and tears it down. */
interface AgentRun {
  dir: string;
  prefix: string;
  /** Collected from its start. */
  topic: string;
  collector: TopicCollector;
  plane: ConfigPlane;
  agentId: string;
  checkpoints: string;
  /** The agent process now running; `restart` replaces it (every one is stopped at the end). */
  child: TestProcess;
  /** Starts a new agent process with the same id and checkpoints (`etcd`: other endpoints). */
  restart(etcd?: string[]): TestProcess;
  /** A writer stopped at the end whatever happens. */
  writer(path: string, tag: string, linesPerTick?: number, tickMs?: number): SteadyWriter;
  /** Appends one event on the head; returns its seq (the new head). */
  apply(ops: Op[], message: string): Promise<number>;
  /** The seq of the last event `apply` appended (0 before the first). */
  readonly head: number;
}

/**
 * A temp directory, an etcd prefix, a collected topic, a config plane client and an agent
 * process (`label` names them); runs `body`, then stops the writers and the agent and deletes
 * all of it. A failure shows the agent's log, what was collected and the status keys.
 */
function withAgentRun(
  label: string,
  body: (run: AgentRun) => Promise<void>,
  agent: Pick<AgentProcessOptions, "denoFlags" | "logLevel"> = {},
) {
  return withDiagnostics(async (d) => {
    const dir = await Deno.makeTempDir({ prefix: `sluice-agent-${label}-` });
    d.defer(() => Deno.remove(dir, { recursive: true }));
    const prefix = `/${unique("sluice-agent-test")}`;
    const topic = unique(`agent-${label}`);
    const collector = await TopicCollector.start(topic);
    d.defer(() => collector.stop());
    const plane = openConfigPlane({ endpoints: endpoints.etcd, prefix });
    d.defer(async () => {
      await plane.kv.delete().all().catch(() => {});
      plane.close();
    });
    const agentId = unique(label);
    const checkpoints = `${dir}/cp`;
    const writers: SteadyWriter[] = [];
    d.defer(async () => {
      for (const w of writers) await w.stop();
    });
    d.probe(`records in ${topic}`, topicRecordsProbe({ brokers: endpoints.kafka }, topic));
    d.probe("the test's collector", () => collector.describe());
    d.probe("status keys", async () => await plane.listAgents());
    let head = 0;
    const spawn = (etcd?: string[]) =>
      d.track(spawnAgent({ prefix, checkpointDir: checkpoints, agentId, etcd, ...agent }));
    const run: AgentRun = {
      dir,
      prefix,
      topic,
      collector,
      plane,
      agentId,
      checkpoints,
      child: spawn(),
      restart(etcd) {
        return run.child = spawn(etcd);
      },
      writer(path, tag, linesPerTick, tickMs) {
        const w = steadyWriter(path, tag, linesPerTick, tickMs);
        writers.push(w);
        return w;
      },
      async apply(ops, message) {
        const { event } = await plane.append({ base: head, ops, author: "test", message });
        head = event.seq;
        return head;
      },
      get head() {
        return head;
      },
    };
    await body(run);
  });
}

test("agent process: sources added, changed and removed live; the unchanged one loses and repeats nothing", () =>
  withAgentRun("live", async (run) => {
    const { dir, topic, collector, plane, agentId } = run;
    const a: Source = { id: "steady", paths: [`${dir}/a/*.log`], topic, start_at: "beginning" };
    const b: Source = { id: "extra", paths: [`${dir}/b/*.log`], topic, start_at: "beginning" };
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b`);
    const wa = run.writer(`${dir}/a/app.log`, "steady");
    await run.apply([{ op: "put_source", source: a }], "add steady");
    await waitFor("steady lines", () => collector.tagged("steady").length > 100, 30_000);
    // Add a second source while the first keeps going.
    const wb = run.writer(`${dir}/b/app.log`, "extra", 10, 20);
    await run.apply([{ op: "put_source", source: b }], "add extra");
    const t0 = Date.now();
    await waitFor("extra lines", () => collector.tagged("extra").length > 50);
    const followMs = Date.now() - t0;
    // Change the second (restart), then a burst of changes, then remove it.
    await run.apply([{ op: "put_source", source: { ...b, fields: { v: "2" } } }], "change extra");
    await waitFor(
      "changed extra",
      () => collector.tagged("extra").some((e) => e.fields?.v === "2"),
    );
    for (let i = 3; i < 6; i++) {
      await run.apply([{ op: "put_source", source: { ...b, fields: { v: String(i) } } }], "burst");
    }
    await waitFor("v=5", () => collector.tagged("extra").some((e) => e.fields?.v === "5"));
    // The status key shows the seq the agent runs.
    await waitFor("status seq", async () => {
      const agents = await plane.listAgents();
      const me = agents.find((x) => x.agent_id === agentId);
      return me?.seq === run.head && me.sources.steady?.state === "running";
    });
    const bCount = await wb.stop();
    await waitFor(
      "extra complete",
      () => checkSeq(collector.envelopes, "extra", bCount).missing.length === 0,
    );
    await run.apply([{ op: "delete_source", id: "extra" }], "remove extra");
    await waitFor("extra gone from status", async () => {
      const me = (await plane.listAgents()).find((x) => x.agent_id === agentId);
      return me?.seq === run.head && me.sources.extra === undefined;
    });
    const total = await wa.stop();
    await waitFor(`steady ${total}`, () => collector.tagged("steady").length >= total);
    await new Promise((r) => setTimeout(r, 300));
    assertExactlyOnce(collector.envelopes, "steady", total);
    const extra = checkSeq(collector.envelopes, "extra", bCount);
    assertEquals(extra.missing, [], "a restarted source resumes at its checkpoint");
    assertEquals(extra.outOfOrder, 0);
    assert(followMs < 5000, `a new source took ${followMs} ms to show up`);

    // SIGTERM: exit 0, quickly, and the status key is gone.
    const t1 = Date.now();
    run.child.signal("SIGTERM");
    const status = await run.child.exited;
    assertEquals(status.code, 0);
    assert(Date.now() - t1 < 10_000, "stopped within the bound");
    assertEquals(
      (await plane.listAgents()).find((x) => x.agent_id === agentId),
      undefined,
      "deregistered",
    );
  }));

test("agent process: kill -9 and restart loses nothing; repeats only from the unacknowledged window", () =>
  withAgentRun("kill", async (run) => {
    const { dir, topic, collector } = run;
    const w = run.writer(`${dir}/app.log`, "k9", 20, 10); // ≈ 2,000 lines/s
    await run.apply([{
      op: "put_source",
      source: { id: "k9", paths: [`${dir}/*.log`], topic, start_at: "beginning" },
    }], "kill test");
    await waitFor("lines flowing", () => collector.tagged("k9").length > 4000, 30_000);
    await run.child.kill9();
    const atKill = w.count;
    await new Promise((r) => setTimeout(r, 500));
    run.restart();
    await waitFor("after restart", () => collector.tagged("k9").length > atKill + 1000, 30_000);
    const total = await w.stop();
    await waitFor(
      `all ${total}`,
      () => checkSeq(collector.envelopes, "k9", total).missing.length === 0,
      30_000,
    );
    const r = checkSeq(collector.envelopes, "k9", total);
    assertEquals(r.outOfOrder, 0);
    // The unacknowledged window: what was sent but not yet checkpointed (the checkpoint trails
    // acks by ≤ 0.2 s, plus a batch in flight): well under a second of lines at this rate.
    // Anything near the whole file (> 4,000) would mean the checkpoint was not used.
    assert(r.duplicates < 1500, `${r.duplicates} duplicates`);
    console.log(`kill -9: ${total} lines, ${r.duplicates} repeated from the unacknowledged window`);
  }));

test("agent process: restarted while etcd is unreachable, it runs its saved config and loses nothing", () =>
  withAgentRun("saved", async (run) => {
    const { dir, prefix, topic, collector, checkpoints } = run;
    const w = run.writer(`${dir}/app.log`, "sv", 10, 20);
    const seq = await run.apply([{
      op: "put_source",
      source: { id: "sv", paths: [`${dir}/*.log`], topic, start_at: "beginning" },
    }], "saved config test");
    await waitFor("lines flowing", () => collector.tagged("sv").length > 200, 30_000);
    run.child.signal("SIGTERM");
    assertEquals((await run.child.exited).code, 0);
    const saved = JSON.parse(await Deno.readTextFile(`${checkpoints}/_applied-config.json`));
    assertEquals([saved.prefix, saved.seq, saved.state.sources[0].id], [prefix, seq, "sv"]);
    // Nothing listens on port 1: this agent never hears from etcd.
    const atRestart = w.count;
    run.restart(["http://127.0.0.1:1"]);
    await waitFor(
      "lines written since the restart",
      () => collector.tagged("sv").length > atRestart + 200,
      30_000,
    );
    const total = await w.stop();
    await waitFor(`all ${total}`, () => collector.tagged("sv").length >= total, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    assertExactlyOnce(collector.envelopes, "sv", total);
    run.child.signal("SIGTERM");
    assertEquals((await run.child.exited).code, 0, "stops cleanly without ever reaching etcd");
  }));

test("agent process: run as `deno task agent` runs it, it gives memory back once reading stops, and reads on", async () =>
  withAgentRun("idle", async (run) => {
    const { dir, topic, collector } = run;
    const source = { id: "idle", paths: [`${dir}/*.log`], topic, start_at: "beginning" as const };
    await run.apply([{ op: "put_source", source }], "idle memory test");
    const before = run.writer(`${dir}/a.log`, "before", 20, 20);
    await waitFor("lines flowing", () => collector.tagged("before").length > 1000, 30_000);
    const n = await before.stop();
    await waitFor(`all ${n} lines before`, () => collector.tagged("before").length >= n, 30_000);
    // Quiet for 5 s after reading: one memory-reducing collection (agent/idle_memory.ts).
    await waitFor(
      "the agent's debug line 'idle: memory given back'",
      () => run.child.grep(/memory given back/).length > 0,
      30_000,
    );
    const line = run.child.grep(/memory given back/)[0];
    const m = line.match(/RSS (\d+) → (\d+) MiB/);
    assert(m, `no RSS figures in: ${line}`);
    assert(Number(m[2]) <= Number(m[1]), `RSS grew over the release: ${line}`);
    // Reading goes on after the release, every line once.
    const after = run.writer(`${dir}/b.log`, "after", 20, 20);
    await waitFor("lines after the release", () => collector.tagged("after").length > 500, 30_000);
    const total = await after.stop();
    await waitFor(
      `all ${total} lines after`,
      () => collector.tagged("after").length >= total,
      30_000,
    );
    assertExactlyOnce(collector.envelopes, "before", n);
    assertExactlyOnce(collector.envelopes, "after", total);
  }, { denoFlags: await agentTaskFlags(), logLevel: "debug" }));
