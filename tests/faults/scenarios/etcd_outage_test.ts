/**
 * etcd stopped for 30 s in the middle of the stream; a config change is applied right after it
 * returns. Two agents must converge on it, and their unchanged sources must never pause.
 */
import { sleep } from "../../../core/backoff.ts";
import type { Source } from "../../../config_plane/mod.ts";
import {
  cannotStop,
  inPipeline,
  n,
  outage,
  type Proc,
  sampler,
  scenario,
  SeqWriter,
  topMessages,
  until,
} from "../rig.ts";
import { longestStallAt, longestStallBehind, samplesIn, type Stall } from "../series.ts";

const RATE = 250;
const DOWN_MS = 30_000;
/**
 * Longest an unchanged source may go without a line acknowledged while its lines wait (samples
 * every 250 ms). An outage that held the agents would stall them for all of its 30 s. With two
 * busy loops on the 2 cores, acknowledgements of both agents stopped for up to 2.5–3.3 s at the
 * same instant, with the agent of d9a61e7 and with that of abfb459, while the writers went on and no
 * agent logged anything then: the broker or the machine, not etcd (docs/RELIABILITY.md, row 4).
 */
const MAX_STALL_MS = 3_000;
/**
 * Warnings one agent may log while etcd is away: its retries back off to one every few
 * seconds (watch, heartbeat, lease), so a few dozen; thousands would bury everything else.
 */
const MAX_WARNINGS = 100;

await scenario({
  id: "etcd-outage",
  order: 4,
  title: "etcd stopped 30 s mid-stream; a config change applied just after it returns",
  skip: await cannotStop("etcd"),
  done: "Two agents run two sources each (`steady-*` and `changed-*`, selected by host name), " +
    `every source written at ${n(RATE)} lines/s throughout. After 5 s etcd is stopped for 30 s. ` +
    "As soon as it answers again a config change is appended that changes both `changed-*` " +
    "sources (a new extra field); the writers stop 5 s after both agents converged.",
  expected: "Nothing lost or duplicated in any of the four sources. While etcd is away the " +
    "agents keep tailing with the config they have (the watch and the heartbeat retry with " +
    "backoff); afterwards they resume the watch from the revision they applied, apply the " +
    "change, and `config:status` shows the fleet converged. The `steady-*` sources are never " +
    `restarted and never stall for more than ${MAX_STALL_MS / 1000} s. Each agent's log says ` +
    `what is wrong without flooding: at most ${MAX_WARNINGS} warnings for the whole outage.`,
}, async (r) => {
  await inPipeline("etcdoutage", async (p) => {
    const ids = ["a1", "a2"];
    const sources: Source[] = [];
    const writers: SeqWriter[] = [];
    for (const id of ids) {
      for (const kind of ["steady", "changed"]) {
        const sid = `${kind}-${id}`;
        const dir = await p.sourceDir(sid);
        sources.push(p.source(sid, { hosts: { names: [`${p.name}-${id}`] } }));
        writers.push(new SeqWriter(`${dir}/app.log`, sid, { rate: RATE }));
      }
    }
    await p.put(...sources);
    p.transfer();
    const agents: Proc[] = await Promise.all(ids.map((id) => p.runningAgent({ id })));
    const acked = ids.map((id, i) =>
      sampler(() => agents[i].metric("sluice_agent_lines_acked_total", { source: `steady-${id}` }))
    );
    // What the steady writers (this process) had written, sampled beside: a flat stretch of
    // acknowledgements while the writer was paused too is the machine's, not the agent's.
    const steadyWritten = ids.map((id) => {
      const writer = writers.find((w) => w.tag === `steady-${id}`)!;
      return sampler(() => Promise.resolve(writer.count));
    });
    await sleep(5_000);
    const t0 = Date.now();
    p.releaseEtcd(); // the test process keeps no etcd session through the outage
    const { restartMs } = await outage("etcd", DOWN_MS);
    const back = Date.now();
    const head = await p.put(
      ...sources.filter((s) => s.id.startsWith("changed-")).map((s) => ({
        ...s,
        fields: { change: "after-etcd-outage" },
      })),
    );
    const applied = Date.now();
    await until("both agents converge on the change", async () => {
      const status = await p.agents();
      return status.length === 2 && status.every((a) => a.seq === head);
    }, 30_000);
    const convergedS = (Date.now() - applied) / 1000;
    const status = await p.configStatus();
    await sleep(5_000);
    // Stalls count up to here: once the writers stop, the counters stay flat by design (the
    // samplers ran on for the ~3 s a busy machine took to stop four writers, read as a stall).
    const end = Date.now();
    const written = await Promise.all(writers.map((w) => w.stop()));
    const series = await Promise.all(acked.map((s) => s.stop()));
    const writtenSeries = await Promise.all(steadyWritten.map((s) => s.stop()));
    const stallsAt = series.map((points) => longestStallAt(points, -Infinity, end));
    // The agent's own stalls: acknowledgements flat while a quarter second of lines waited.
    const behindAt = series.map((points, i) =>
      longestStallBehind(points, writtenSeries[i], RATE / 4, -Infinity, end)
    );
    const stalls = behindAt.map((s) => s.ms);
    const pauses = writtenSeries.map((points) => longestStallAt(points, -Infinity, end));
    /** A time on the scenario's clock: seconds from the moment etcd was stopped. */
    const since = (t: number) => `${t < t0 ? "−" : "+"}${(Math.abs(t - t0) / 1000).toFixed(1)} s`;
    const stallList = (list: Stall[]) =>
      list.map((s) => `${s.ms} ms${s.at === undefined ? "" : ` from ${since(s.at)}`}`).join(", ");
    const fewest = Math.min(...series.map((points) => samplesIn(points, t0, end)));
    for (const [i, w] of writers.entries()) {
      await p.waitIndexed(w.tag, written[i]);
      r.count(await p.tally(w.tag, written[i]));
    }
    const restarts = agents.flatMap((a) => a.grep(/restarted \[[^\]]/));
    const steadyRestarts = restarts.filter((l) => /restarted \[[^\]]*steady/.test(l));
    r.measured(
      `etcd down ${((back - t0) / 1000).toFixed(0)} s (restart ${
        (restartMs / 1000).toFixed(1)
      } s); the change (revision ${head}) was appended ${
        ((applied - back) / 1000).toFixed(1)
      } s after etcd answered; both agents ran it ${convergedS.toFixed(1)} s later`,
      `longest stall of acknowledged lines of the unchanged sources while lines waited, over ${
        ((end - t0) / 1000).toFixed(0)
      } s (at least ${fewest} samples each): ${stallList(behindAt)}; any flat stretch: ${
        stallList(stallsAt)
      }; the writers' longest pause: ${stallList(pauses)} (etcd stopped at +0 s, back at ${
        since(back)
      }, the change appended at ${since(applied)}, the writers stopped at ${
        since(end)
      }; sampling began at ${since(Math.min(...series.map((points) => points[0]?.t ?? t0)))})`,
      `reconciles that restarted a source: ${restarts.length}, of them touching a steady source: ${steadyRestarts.length}`,
    );
    r.headline(
      `${
        agents.flatMap((a) => a.grep(/\[WRN\].*unreachable/)).length
      } "etcd … unreachable" warnings (agent logs); then config:status: fleet converged on ` +
        `revision ${head}`,
    );
    r.saw(
      ...status.stdout.split("\n").filter((l) => /converged|runs revision/.test(l)).map((l) =>
        `config:status: \`${l.trim()}\``
      ),
      ...topMessages(agents.flatMap((a) => a.problems()), 4, "agents'"),
    );
    const loudest = Math.max(...agents.map((a) => a.problems().length));
    if (loudest > MAX_WARNINGS) {
      throw new Error(`an agent logged ${loudest} warnings while etcd was away`);
    }
    if (steadyRestarts.length > 0) {
      throw new Error(`an unchanged source was restarted: ${steadyRestarts[0]}`);
    }
    if (fewest < 100) throw new Error(`only ${fewest} samples of the unchanged sources`);
    const stalled = Math.max(...stalls);
    if (stalled > MAX_STALL_MS) throw new Error(`an unchanged source stalled ${stalled} ms`);
    if (status.code !== 0) {
      throw new Error(`config:status exited ${status.code}:\n${status.stdout}`);
    }
  });
});
