/**
 * On the cluster: `kill -9` of the etcd leader while two writers append 200 config changes at
 * once; the member is started again 20 s later.
 */
import { sleep } from "../../../core/backoff.ts";
import { ConflictError } from "../../../core/errors.ts";
import { type ConfigPlane, openConfigPlane, type Source } from "../../../config_plane/mod.ts";
import { clusterSkip, etcdLeader, signalMember, startMember, waitUntil } from "../cluster.ts";
import {
  endpoints,
  inPipeline,
  n,
  type Pipeline,
  type Proc,
  sampler,
  scenario,
  SeqWriter,
  topMessages,
  until,
} from "../rig.ts";
import { longestStall } from "../series.ts";

const APPLIES = 200;
const WRITERS = 2;
const RATE = 250;
const DOWN_MS = 20_000;
/** Longest an unchanged source may go without a line acknowledged (samples every 250 ms). */
const MAX_STALL_MS = 3_000;
/** How long one apply may keep retrying (the cluster elects a new leader within seconds). */
const APPLY_DEADLINE_MS = 60_000;

/** What one writer saw: the seq of each change it was told was appended, by its id. */
interface WriterResult {
  accepted: Map<string, number>;
  /** Attempts refused because the other writer moved the head first (planned again). */
  conflicts: number;
  /** Attempts that failed otherwise (etcd unreachable, no leader), retried with the same id. */
  failures: number;
  /** The first few of those failures. */
  errors: string[];
}

/**
 * Appends `count` changes of source `churn-<w>`, each with its own idempotency id kept across
 * retries: a failed attempt whose write went through is returned as the first event when the
 * same id is sent again, never appended twice. `started()` is called after each acceptance.
 */
async function writeChanges(
  p: Pipeline,
  w: number,
  count: number,
  source: Source,
  started: () => void,
): Promise<WriterResult> {
  const plane: ConfigPlane = openConfigPlane({ endpoints: endpoints.etcd, prefix: p.prefix });
  const result: WriterResult = { accepted: new Map(), conflicts: 0, failures: 0, errors: [] };
  try {
    for (let i = 0; i < count; i++) {
      const id = crypto.randomUUID();
      const deadline = Date.now() + APPLY_DEADLINE_MS;
      while (true) {
        try {
          const base = await plane.head();
          const { event } = await plane.append({
            base,
            id,
            author: `writer-${w}`,
            message: `change ${i} of writer ${w}`,
            ops: [{ op: "put_source", source: { ...source, fields: { change: String(i) } } }],
          });
          result.accepted.set(id, event.seq);
          started();
          break;
        } catch (error) {
          const message = (error as Error).message.split("\n")[0];
          if (error instanceof ConflictError) result.conflicts++;
          else if (++result.failures <= 3) result.errors.push(message.slice(0, 200));
          if (Date.now() > deadline) throw error;
          await sleep(50 + Math.random() * 100);
        }
      }
    }
  } finally {
    plane.close();
  }
  return result;
}

await scenario({
  id: "cluster-etcd-leader-kill",
  order: 104,
  title: `Cluster: kill -9 of the etcd leader during ${APPLIES} applies from two writers`,
  skip: await clusterSkip(),
  done: `Two agents run on the cluster (3 etcd members), each tailing a \`steady-*\` source ` +
    `written at ${n(RATE)} lines/s and a \`churn-*\` source of an empty directory. Two writers ` +
    `append ${APPLIES} changes at once (${APPLIES / WRITERS} each, every one changing its ` +
    "writer's `churn-*` source), each on the head it just read, retrying a refused or failed " +
    "append with the same idempotency id. When a quarter of them are in, the etcd leader gets " +
    "SIGKILL; it is started again 20 s later. The writers of lines stop 5 s after both agents " +
    "run the head.",
  expected: "Every accepted apply is exactly one event: the history holds each id once, at " +
    "the seq its writer was told, and nothing else; no seq is missing or doubled. Both agents " +
    "converge on the head. The `steady-*` sources are never restarted and never stall; their " +
    "lines are indexed once each.",
}, (r) =>
  inPipeline("cetcdkill", async (p) => {
    const ids = ["a1", "a2"];
    const sources: Source[] = [];
    const writers: SeqWriter[] = [];
    for (const id of ids) {
      const sid = `steady-${id}`;
      const dir = await p.sourceDir(sid);
      sources.push(p.source(sid, { hosts: { names: [`${p.name}-${id}`] } }));
      writers.push(new SeqWriter(`${dir}/app.log`, sid, { rate: RATE }));
    }
    const churn: Source[] = [];
    for (let w = 1; w <= WRITERS; w++) {
      await p.sourceDir(`churn-${w}`);
      churn.push(p.source(`churn-${w}`));
    }
    await p.put(...sources, ...churn);
    p.transfer();
    const agents: Proc[] = await Promise.all(ids.map((id) => p.runningAgent({ id })));
    const acked = ids.map((id, i) =>
      sampler(() => agents[i].metric("sluice_agent_lines_acked_total", { source: `steady-${id}` }))
    );
    await sleep(3_000);
    const headBefore = await p.plane.head();
    p.releaseEtcd(); // the test's own client holds no idle session to the member that dies

    let accepted = 0;
    let quarter!: () => void;
    const quarterIn = new Promise<void>((resolve) => (quarter = resolve));
    const t0 = Date.now();
    const running = churn.map((source, k) =>
      writeChanges(p, k + 1, APPLIES / WRITERS, source, () => {
        if (++accepted === APPLIES / 4) quarter();
      })
    );
    await quarterIn;
    const leader = await etcdLeader();
    if (!leader) throw new Error("no etcd leader agreed on by the members");
    await signalMember(leader, "SIGKILL");
    const killedAt = Date.now();
    let newLeader: string | undefined;
    const electedMs = await waitUntil("a new etcd leader", async () => {
      newLeader = await etcdLeader();
      return newLeader !== undefined && newLeader !== leader;
    }, DOWN_MS);
    const acceptedAtKill = accepted;
    await sleep(Math.max(0, killedAt + DOWN_MS - Date.now()));
    const restartMs = await startMember(leader);
    const results = await Promise.all(running);
    const appliedS = (Date.now() - t0) / 1000;

    const head = await p.plane.head();
    const history = await p.plane.eventsBetween(headBefore, head);
    await until("both agents converge on the head", async () => {
      const status = await p.agents();
      return status.length === 2 && status.every((a) => a.seq === head);
    }, 60_000);
    await sleep(5_000);
    // Stalls count up to here: once the writers stop, the counters stay flat by design.
    const writing = Date.now();
    const written = await Promise.all(writers.map((w) => w.stop()));
    const series = await Promise.all(acked.map((s) => s.stop()));
    for (const [i, w] of writers.entries()) {
      await p.waitIndexed(w.tag, written[i]);
      r.count(await p.tally(w.tag, written[i]));
    }

    // Every accepted apply exactly once, at the seq its writer was told; nothing else.
    const told = new Map<string, number>();
    for (const result of results) for (const [id, seq] of result.accepted) told.set(id, seq);
    const seen = new Map<string, number[]>();
    for (const e of history) seen.set(e.id, [...(seen.get(e.id) ?? []), e.seq]);
    const problems: string[] = [];
    for (const [id, seq] of told) {
      const at = seen.get(id) ?? [];
      if (at.length !== 1 || at[0] !== seq) {
        problems.push(`change ${id} was accepted as ${seq}, the history has it at [${at}]`);
      }
    }
    for (const [id, at] of seen) if (!told.has(id)) problems.push(`unaccepted ${id} at ${at}`);
    const seqs = history.map((e) => e.seq);
    const gapless = seqs.every((s, i) => s === headBefore + 1 + i);
    const restarts = agents.flatMap((a) => a.grep(/restarted \[[^\]]/));
    const steadyRestarts = restarts.filter((l) => /restarted \[[^\]]*steady/.test(l));
    const stalls = series.map((points) => longestStall(points, -Infinity, writing));
    const conflicts = results.reduce((sum, x) => sum + x.conflicts, 0);
    const failures = results.reduce((sum, x) => sum + x.failures, 0);
    r.measured(
      `${told.size} applies accepted of ${APPLIES} in ${appliedS.toFixed(0)} s; ${
        n(conflicts)
      } attempts planned again after the other writer moved the head, ${
        n(failures)
      } sent again after a failure; the history holds ${history.length} events, seqs ${
        headBefore + 1
      }–${head}${gapless ? ", none missing or doubled" : ", NOT contiguous"}`,
      `etcd leader ${leader} killed after ${acceptedAtKill} accepted applies; ${newLeader} ` +
        `led ${(electedMs / 1000).toFixed(1)} s later; ${leader} restarted in ${
          (restartMs / 1000).toFixed(1)
        } s`,
      `reconciles that restarted a source: ${restarts.length}, of them a steady one: ${steadyRestarts.length}; longest stall of the steady sources' acknowledged lines: ${
        stalls.map((s) => `${s} ms`).join(", ")
      }`,
      ...results.flatMap((x, k) => x.errors.map((e) => `writer ${k + 1} sent again after: ${e}`)),
    );
    r.headline(
      `${told.size} applies, each one event (${
        n(failures)
      } sent again after a failure); new leader in ${
        (electedMs / 1000).toFixed(1)
      } s; both agents on revision ${head}`,
    );
    r.saw(...topMessages(agents.flatMap((a) => a.problems()), 4, "agents'"));
    if (told.size !== APPLIES) throw new Error(`only ${told.size} of ${APPLIES} accepted`);
    if (problems.length > 0) throw new Error(problems.slice(0, 5).join("\n"));
    if (!gapless) throw new Error(`the history's seqs are not contiguous: ${seqs.join(",")}`);
    if (steadyRestarts.length > 0) {
      throw new Error(`an unchanged source was restarted: ${steadyRestarts[0]}`);
    }
    const stalled = Math.max(...stalls);
    if (stalled > MAX_STALL_MS) throw new Error(`a steady source stalled ${stalled} ms`);
  }));
