/**
 * Scenario 4, config propagation: 100 agents run in one process (bench/fleet.ts: the real
 * `Agent` class, each with its own etcd connection, watch and leased status key). Each run
 * appends a revision that changes the one source every agent runs (so each restarts its tail
 * task) and measures, per agent, the time from just before the append to the moment its status
 * key in etcd reports the new seq (seen through an etcd watch).
 *
 * `propagation-cluster` does the same with 200 agents on the cluster variant of the stack
 * (3 etcd members; started when it is not running), and then again while one etcd member is
 * restarted during each apply: the one that leads the cluster, stopped just before the append
 * and started again once every agent runs the revision.
 * @module
 */
import type { IKeyValue, Watcher } from "etcd3";
import { openConfigPlane } from "../../config_plane/mod.ts";
import { ensureStack, startService, stopService } from "../../stack/mod.ts";
import { clusterClientEnv, clusterEndpoints } from "../../stack/cluster/topology.ts";
import { etcdLeader } from "../../stack/cluster/etcd.ts";
import type { AgentStatus, Source } from "../../config_plane/types.ts";
import type { BenchContext, Scenario } from "../context.ts";
import { MIB, sample } from "../procstat.ts";
import { assertRunning, spawnLogged, waitFor } from "../../core/child.ts";
import { REPO_ROOT, uniqueName } from "../programs.ts";
import { type BenchResult, buildResult, type Distribution, distribution } from "../stats.ts";

export const propagationScenario: Scenario = {
  name: "propagation",
  summary: "config apply → every agent runs the new revision",
  run: (ctx) =>
    measurePropagation(ctx, {
      scenario: "propagation",
      etcd: ctx.endpoints.etcd,
      agents: ctx.sizes.fleetAgents,
      runs: ctx.sizes.fleetRuns,
    }),
};

/** Agents of the fleet on the cluster (a full run; --quick keeps its own fleet size). */
const CLUSTER_FLEET = 200;

export const clusterPropagationScenario: Scenario = {
  name: "propagation-cluster",
  summary: "config apply → 200 agents on a 3-member etcd, also with its leader restarted",
  async run(ctx) {
    const cluster = { variant: "cluster" as const, progress: (l: string) => ctx.progress(l) };
    ctx.progress("propagation-cluster: the cluster variant of the stack (stack:up --cluster)");
    await ensureStack(cluster);
    const base = {
      scenario: "propagation-cluster",
      etcd: clusterEndpoints().etcd,
      env: clusterClientEnv(),
      agents: ctx.quick ? ctx.sizes.fleetAgents : CLUSTER_FLEET,
      runs: ctx.sizes.fleetRuns,
    };
    const steady = await measurePropagation(ctx, base);
    let stopped: string | undefined;
    const restarted = await measurePropagation(ctx, {
      ...base,
      disturbance: "the etcd leader restarted during each apply",
      async beforeApply() {
        stopped = await etcdLeader();
        if (!stopped) throw new Error("the etcd members agree on no leader");
        ctx.progress(`  stopping ${stopped} (the etcd leader) just before the append`);
        await stopService("etcd", { ...cluster, members: [stopped] });
      },
      async afterConverged() {
        if (stopped) await startService("etcd", { ...cluster, members: [stopped] });
        stopped = undefined;
      },
    });
    return [...steady, ...restarted];
  },
};

interface PropagationRun {
  scenario: string;
  etcd: string[];
  /** SLUICE_* of the fleet process (default: those of the bench). */
  env?: Record<string, string>;
  agents: number;
  runs: number;
  /** What happens during each apply, for the results' names. */
  disturbance?: string;
  beforeApply?: () => Promise<void>;
  afterConverged?: () => Promise<void>;
}

async function measurePropagation(ctx: BenchContext, how: PropagationRun): Promise<BenchResult[]> {
  const { agents, runs } = how;
  const work = await Deno.makeTempDir({ dir: ctx.tmp, prefix: "fleet-" });
  const prefix = `/${uniqueName("fleet")}`;
  const plane = openConfigPlane({ endpoints: how.etcd, prefix });
  const source = (rev: number): Source => ({
    id: "fleet-app",
    paths: [`${work}/logs/*.log`],
    topic: "bench-fleet-unused",
    fields: { rev: String(rev) },
  });
  let head = 0;
  // As an operator's retried config:apply would: the same idempotency id until it is appended
  // (an etcd member that goes away fails the calls that were on it; the client moves on).
  const apply = async (rev: number) => {
    const id = crypto.randomUUID();
    const deadline = Date.now() + 30_000;
    while (true) {
      try {
        const { event } = await plane.append({
          base: head,
          id,
          ops: [{ op: "put_source", source: source(rev) }],
          author: "bench",
          message: `propagation run ${rev}`,
        });
        head = event.seq;
        return head;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        retries++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  let retries = 0;
  // Latest seq reported per agent, and who waits for which seq.
  const reported = new Map<string, number>();
  let waiting: { seq: number; t0: number; times: Map<string, number> } | undefined;
  let watcher: Watcher | undefined;
  const perRun: Distribution[] = [];
  const p50s: number[] = [];
  const errors: string[] = [];
  let fleet: Awaited<ReturnType<typeof spawnLogged>> | undefined;
  let rssMib: number | undefined;
  try {
    await apply(0);
    watcher = await plane.kv.watch().prefix("agents/").create();
    watcher.on("put", (kv: IKeyValue) => {
      const at = performance.now();
      let status: AgentStatus;
      try {
        status = JSON.parse(kv.value.toString());
      } catch {
        return;
      }
      reported.set(status.agent_id, status.seq);
      if (waiting && status.seq >= waiting.seq && !waiting.times.has(status.agent_id)) {
        waiting.times.set(status.agent_id, at - waiting.t0);
      }
    });
    ctx.progress(`propagation: starting ${agents} agents in one process`);
    fleet = await spawnLogged("fleet", Deno.execPath(), [
      "run",
      "-A",
      `${REPO_ROOT}bench/fleet.ts`,
      "--agents",
      String(agents),
      "--prefix",
      prefix,
      "--dir",
      work,
    ], { log: `${work}/fleet.log`, env: { ...how.env, SLUICE_LOG_LEVEL: "warning" } });
    const f = fleet;
    await waitFor(
      `${agents} agents to report seq ${head}`,
      async () => {
        await assertRunning(f);
        return [...reported.values()].filter((s) => s >= head).length >= agents;
      },
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    for (let run = 1; run <= runs; run++) {
      // Let heartbeats and the previous restarts settle.
      await new Promise((r) => setTimeout(r, 1_000));
      const times = new Map<string, number>();
      await how.beforeApply?.();
      try {
        waiting = { seq: head + 1, t0: performance.now(), times };
        await apply(run);
        await waitFor(`all agents on seq ${head}`, () => times.size >= agents, {
          timeoutMs: 60_000,
          intervalMs: 20,
        });
      } catch (error) {
        errors.push(`run ${run}: ${times.size}/${agents} agents: ${(error as Error).message}`);
      } finally {
        await how.afterConverged?.();
      }
      const d = distribution([...times.values()]);
      perRun.push(d);
      p50s.push(d.p50);
      ctx.progress(
        `  apply ${run}/${runs}: ${times.size}/${agents} agents on the new revision; ` +
          `p50 ${d.p50.toFixed(0)} ms, p99 ${d.p99.toFixed(0)} ms, max ${d.max.toFixed(0)} ms`,
      );
    }
    rssMib = ((await sample(fleet.pid))?.rssBytes ?? NaN) / MIB;
  } catch (error) {
    errors.push((error as Error).message);
  } finally {
    waiting = undefined;
    await watcher?.cancel().catch(() => {});
    await fleet?.stop(30_000);
    await plane.kv.delete().all().catch(() => {});
    plane.close();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  const label = `${agents} agents in one process${how.disturbance ? `, ${how.disturbance}` : ""}`;
  const details = {
    agents,
    mode:
      "in-process (bench/fleet.ts: agents share one Deno process, each with its own etcd client)",
    per_run: perRun,
    labelrss_mib: rssMib,
  };
  const error = errors.length ? errors.join("\n") : undefined;
  const results: BenchResult[] = [
    buildResult({
      scenario: how.scenario,
      name: `config apply → agent runs it, p50, ${label}`,
      unit: "ms",
      direction: "lower",
      samples: p50s,
      details,
      error,
    }),
    buildResult({
      scenario: how.scenario,
      name: `config apply → agent runs it, p99, ${label}`,
      unit: "ms",
      direction: "lower",
      samples: perRun.map((d) => d.p99),
      error,
    }),
  ];
  return results;
}
