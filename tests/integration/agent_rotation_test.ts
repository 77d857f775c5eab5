/**
 * The agent (a process, on the real etcd and Kafka) where real logs live: rotated names inside
 * the glob (`app.log*`, logrotate's dateext names), rename and copytruncate at 10,000 lines/s
 * with a rotation every 5,000 lines, the agent killed across two rotations, compressed rotations
 * beside the files, files created and renamed out of the globs within milliseconds, and 10,000
 * files under `ulimit -n 1024`. Every line number must arrive in Kafka exactly once, counting
 * distinct event ids (a re-send under the same id is one document in the index).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { openConfigPlane } from "../../config_plane/mod.ts";
import type { Source } from "../../config_plane/types.ts";
import { sleep } from "../../core/backoff.ts";
import { waitFor } from "../../core/child.ts";
import { type Diagnostics, topicRecordsProbe, withDiagnostics } from "../support/diagnostics.ts";
import {
  numberedLines,
  RotatingWriter,
  type RotatingWriterOptions,
} from "../support/rotating_writer.ts";
import type { TestProcess } from "../support/process.ts";
import { endpoints, EventIdCollector, spawnAgent, test, unique } from "./agent_support.ts";

/** How long the high-rate rotation test writes (the 60 s; shorter for a quick local run). */
const SECONDS = Number(Deno.env.get("SLUICE_TEST_ROTATION_SECONDS") ?? 60);

interface Run {
  dir: string;
  topic: string;
  /** The etcd prefix of its config plane. */
  prefix: string;
  collector: EventIdCollector;
  agent: TestProcess;
  /** Starts a new agent process with the same id and checkpoints. */
  restart(extra?: { wrapper?: string[] }): TestProcess;
  /** A source reading `<dir>/<id>/<glob>`, its directory created. */
  source(id: string, glob?: string, extra?: Partial<Source>): Promise<Source>;
  apply(...sources: Source[]): Promise<void>;
  /** Waits until the agent runs the config last applied. */
  ready(): Promise<void>;
}

/** An etcd prefix, a topic collected from its start, and an agent process; all removed after. */
function withAgent(label: string, body: (run: Run) => Promise<void>, scanMs = 200) {
  return withDiagnostics(async (d: Diagnostics) => {
    const dir = await Deno.makeTempDir({ prefix: `sluice-rotation-${label}-` });
    d.defer(() => Deno.remove(dir, { recursive: true }));
    const prefix = `/${unique("sluice-rotation")}`;
    const topic = unique(`rotation-${label}`);
    const collector = await EventIdCollector.start(topic);
    d.defer(() => collector.stop());
    const plane = openConfigPlane({ endpoints: endpoints.etcd, prefix });
    d.defer(async () => {
      await plane.kv.delete().all().catch(() => {});
      plane.close();
    });
    d.probe(`records in ${topic}`, topicRecordsProbe({ brokers: endpoints.kafka }, topic));
    d.probe("the test's collector", () => collector.describe());
    d.probe("status keys", async () => await plane.listAgents());
    const agentId = unique(label);
    const spawn = () =>
      d.track(spawnAgent({ prefix, checkpointDir: `${dir}/cp`, agentId, scanMs }));
    let head = 0;
    const run: Run = {
      dir,
      topic,
      prefix,
      collector,
      agent: spawn(),
      restart() {
        return run.agent = spawn();
      },
      async source(id, glob = "app.log*", extra = {}) {
        await Deno.mkdir(`${dir}/${id}`, { recursive: true });
        return { id, paths: [`${dir}/${id}/${glob}`], topic, start_at: "beginning", ...extra };
      },
      async apply(...sources) {
        const { event } = await plane.append({
          base: head,
          ops: sources.map((source) => ({ op: "put_source" as const, source })),
          author: "test",
          message: "rotation test",
        });
        head = event.seq;
      },
      async ready() {
        await waitFor(`the agent runs config seq ${head}`, async () => {
          const me = (await plane.listAgents()).find((a) => a.agent_id === agentId);
          return me?.seq === head;
        }, { timeoutMs: 30_000, intervalMs: 100, retryErrors: true });
      },
    };
    await body(run);
  });
}

/** Waits until `tag` has `count` distinct ids (or `timeoutMs`), then checks every line once. */
async function assertAllOnce(
  collector: EventIdCollector,
  tag: string,
  count: number,
  timeoutMs = 120_000,
): Promise<void> {
  // Until every number came, or nothing new came for 20 s (a duplicate under another id must not
  // end the wait early: the distinct ids would reach the count with numbers still missing).
  let last = -1, movedAt = Date.now();
  await waitFor(`every number of ${tag} below ${count}`, () => {
    const distinct = collector.distinct(tag);
    if (distinct !== last) [last, movedAt] = [distinct, Date.now()];
    return (distinct >= count && collector.check(tag, count).missing.length === 0) ||
      Date.now() - movedAt > 20_000;
  }, { timeoutMs, intervalMs: 500 }).catch(() => {});
  await sleep(500); // anything more (a duplicate under another id) would show up now
  const { missing, duplicated } = collector.check(tag, count);
  assertEquals(
    { missing: missing.length, duplicated: duplicated.length },
    { missing: 0, duplicated: 0 },
    `${tag}: of ${count} lines, missing ${missing.slice(0, 10).join(",")}${
      missing.length > 10 ? "…" : ""
    }; under two ids ${duplicated.slice(0, 10).join(",")}`,
  );
}

test(`agent rotation: rename and copytruncate, rotated names in the glob (app.log*, dateext), 10,000 lines/s, a rotation every 5,000 lines, ${SECONDS} s: every line once`, () =>
  withAgent("rate", async (run) => {
    const cases: [string, RotatingWriterOptions][] = [
      ["ren", { rate: 10_000, rotateEvery: 5_000, mode: "rename" }],
      ["cptde", { rate: 10_000, rotateEvery: 5_000, mode: "copytruncate", dateext: true }],
      ["rende", { rate: 1_000, rotateEvery: 500, mode: "rename", dateext: true }],
      ["cpt", { rate: 1_000, rotateEvery: 500, mode: "copytruncate" }],
    ];
    await run.apply(...await Promise.all(cases.map(([id]) => run.source(id))));
    const writers = cases.map(([id, options]) =>
      new RotatingWriter(`${run.dir}/${id}/app.log`, id, options)
    );
    await sleep(SECONDS * 1000);
    const written = await Promise.all(writers.map((w) => w.stop()));
    console.log(
      cases.map(([id], i) => `${id}: ${written[i]} lines, ${writers[i].rotations} rotations`)
        .join("; "),
    );
    for (const [i, [id]] of cases.entries()) {
      await assertAllOnce(run.collector, id, written[i]);
    }
  }));

test("agent rotation: killed (-9) across two rotations, rename and copytruncate with rotated names in the glob: every line once", () =>
  withAgent("stopped", async (run) => {
    const cases: [string, RotatingWriterOptions][] = [
      ["ren", { rate: 2_000, rotateEvery: 1_000, mode: "rename" }],
      ["cptde", { rate: 2_000, rotateEvery: 1_000, mode: "copytruncate", dateext: true }],
    ];
    await run.apply(...await Promise.all(cases.map(([id]) => run.source(id))));
    const writers = cases.map(([id, options]) =>
      new RotatingWriter(`${run.dir}/${id}/app.log`, id, options)
    );
    for (let round = 0; round < 3; round++) {
      await waitFor("lines flowing", () => run.collector.distinct("ren") > 1_000 * (round + 1), {
        timeoutMs: 30_000,
      });
      await run.agent.kill9();
      const at = writers.map((w) => w.rotations);
      await waitFor(
        "two rotations of each file while the agent is stopped",
        () => writers.every((w, i) => w.rotations >= at[i] + 2),
        { timeoutMs: 30_000 },
      );
      run.restart();
    }
    const written = await Promise.all(writers.map((w) => w.stop()));
    for (const [i, [id]] of cases.entries()) {
      await assertAllOnce(run.collector, id, written[i], 60_000);
    }
  }));

test("agent rotation: delaycompress + compress beside the rotated files: the .gz files are never read, nothing lost or doubled", () =>
  withAgent("compress", async (run) => {
    await run.apply(await run.source("gz"), await run.source("gzde"));
    // Compressed at once (no delaycompress), a rotated file is only read if the agent already
    // had it open: the agent must be running before the first rotation (docs/agent.md).
    await run.ready();
    const writers = [
      new RotatingWriter(`${run.dir}/gz/app.log`, "gz", {
        rate: 2_000,
        rotateEvery: 1_000,
        compress: "delaycompress",
        total: 12_000,
      }),
      new RotatingWriter(`${run.dir}/gzde/app.log`, "gzde", {
        rate: 2_000,
        rotateEvery: 1_000,
        compress: "compress",
        dateext: true,
        total: 12_000,
      }),
    ];
    const written = await Promise.all(writers.map((w) => w.done));
    const gz = [...Deno.readDirSync(`${run.dir}/gz`)].filter((e) => e.name.endsWith(".gz"));
    assert(gz.length >= 8, `compressed rotations made: ${gz.length}`);
    await assertAllOnce(run.collector, "gz", written[0], 60_000);
    await assertAllOnce(run.collector, "gzde", written[1], 60_000);
    assertEquals(run.agent.grep(/binary|\.gz/), [], "the agent never opened a .gz file");
  }));

test("agent rotation: files created and renamed out of the globs within milliseconds are read to their end", () =>
  withAgent("burst", async (run) => {
    await run.apply(await run.source("burst", "*.log"));
    await run.ready();
    let seq = 0;
    for (let i = 0; i < 20; i++) {
      const path = `${run.dir}/burst/burst-${i}.log`;
      await Deno.writeTextFile(path, numberedLines("burst", seq, seq + 100));
      seq += 100;
      await sleep(100 + (i % 5) * 20);
      await Deno.rename(path, `${run.dir}/burst/burst-${i}.done`);
    }
    await assertAllOnce(run.collector, "burst", seq, 30_000);
  }, 10_000));

test("agent rotation: 10,000 files under ulimit -n 1024 are all read once; the agent lives and says how many files are closed", async () => {
  const FILES = 10_000;
  await withDiagnostics(async (d) => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-many-" });
    d.defer(() => Deno.remove(dir, { recursive: true }));
    const prefix = `/${unique("sluice-many")}`;
    const topic = unique("many");
    const collector = await EventIdCollector.start(topic);
    d.defer(() => collector.stop());
    const plane = openConfigPlane({ endpoints: endpoints.etcd, prefix });
    d.defer(async () => {
      await plane.kv.delete().all().catch(() => {});
      plane.close();
    });
    d.probe("the test's collector", () => collector.describe());
    d.probe("status keys", async () => await plane.listAgents());
    await Deno.mkdir(`${dir}/logs`);
    for (let i = 0; i < FILES; i++) {
      await Deno.writeTextFile(`${dir}/logs/f${i}.log`, numberedLines("many", i, i + 1));
    }
    await plane.append({
      base: 0,
      author: "test",
      message: "many files",
      ops: [{
        op: "put_source",
        source: { id: "many", paths: [`${dir}/logs/*.log`], topic, start_at: "beginning" },
      }],
    });
    const agentId = unique("many");
    // The soft limit many hosts and systemd give a process.
    const agent = d.spawn({
      name: `agent ${agentId} (ulimit -n 1024)`,
      command: ["bash", "-c", 'ulimit -n 1024 && exec "$@"', "bash"],
      args: [
        Deno.execPath(),
        ...["run", "-A", "agent/main.ts", "--agent-id", agentId, "--label", "role=test"],
        ...["--prefix", prefix, "--checkpoint-dir", `${dir}/cp`, "--metrics-addr", ""],
        ...["--kafka", endpoints.kafka.join(","), "--etcd", endpoints.etcd.join(",")],
        ...["--poll-ms", "50", "--scan-ms", "1000", "--linger-ms", "5"],
      ],
      env: { SLUICE_LOG_LEVEL: "info" },
    });
    await waitFor(`${FILES} lines`, () => collector.distinct("many") >= FILES, {
      timeoutMs: 180_000,
      intervalMs: 500,
    }).catch(() => {});
    const { missing, duplicated } = collector.check("many", FILES);
    assertEquals(
      { missing: missing.length, duplicated: duplicated.length },
      { missing: 0, duplicated: 0 },
      `missing ${missing.slice(0, 10)}`,
    );
    assertEquals(agent.status, undefined, "the agent is still running");
    assertEquals(agent.grep(/Too many open files|out of file descriptors/), []);
    const status = await waitFor("a status with closed files", async () => {
      const me = (await plane.listAgents()).find((a) => a.agent_id === agentId);
      const s = me?.sources.many;
      return s && (s.files ?? 0) + (s.files_closed ?? 0) >= FILES ? s : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    assert((status.files_closed ?? 0) > 0 && status.files < 1024, JSON.stringify(status));
    // Its checkpoints were saved: every file is in them.
    const saved = JSON.parse(await Deno.readTextFile(`${dir}/cp/many.json`));
    assertEquals(saved.files.length, FILES);
  });
});

test("agent rotation: close_inactive closes an idle file (the status counts it) and reopens it when it grows; ignore_older leaves old files alone", () =>
  withAgent("inactive", async (run) => {
    const dir = `${run.dir}/idle`;
    await Deno.mkdir(dir);
    // An old file, not modified for two days: ignore_older 1d leaves it alone.
    await Deno.writeTextFile(`${dir}/old.log`, numberedLines("old", 0, 10));
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await Deno.utime(`${dir}/old.log`, twoDaysAgo, twoDaysAgo);
    await run.apply({
      ...(await run.source("idle", "*.log")),
      close_inactive: "1s",
      ignore_older: "1d",
    });
    await run.ready();
    await Deno.writeTextFile(`${dir}/app.log`, numberedLines("idle", 0, 100));
    await waitFor("the first lines", () => run.collector.distinct("idle") >= 100, {
      timeoutMs: 30_000,
    });
    const plane = openConfigPlane({ endpoints: endpoints.etcd, prefix: run.prefix });
    try {
      const closed = await waitFor("the idle file closed", async () => {
        const me = (await plane.listAgents())[0];
        const s = me?.sources.idle;
        return s && s.files === 0 && (s.files_closed ?? 0) >= 1 ? s : undefined;
      }, { timeoutMs: 30_000, intervalMs: 250, retryErrors: true });
      assertEquals(closed.files_closed, 1, "the old file is not followed at all");
      // It grows: reopened (its identity checked) and read on from its checkpoint.
      await Deno.writeTextFile(`${dir}/app.log`, numberedLines("idle", 100, 200), { append: true });
      await assertAllOnce(run.collector, "idle", 200, 30_000);
      assertEquals(run.collector.distinct("old"), 0, "ignore_older: never read");
    } finally {
      plane.close();
    }
  }));
