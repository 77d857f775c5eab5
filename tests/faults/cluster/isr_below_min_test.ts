/**
 * On the cluster: two of the three brokers down at once, so no partition can have the two
 * in-sync replicas that min.insync.replicas asks for.
 */
import { sleep } from "../../../core/backoff.ts";
import {
  allInSync,
  clusterSkip,
  OFFSETS_TOPIC,
  partitionStates,
  signalMember,
  startMember,
  waitUntil,
} from "../cluster.ts";
import { n, sampler, scenario, SeqWriter, topMessages, withPipeline } from "../rig.ts";
import { growth, peak, samplesIn } from "../series.ts";

const RATE = 2_000;
const DOWN_MS = 45_000;
/** Per-source bound on bytes read but not acknowledged. */
const INFLIGHT = 1024 * 1024;
/** The agent reads 256 KiB at a time; one read may pass the bound. */
const READ_CHUNK = 256 * 1024;
const DOWN = ["kafka-2", "kafka-3"];

await scenario({
  id: "cluster-isr-below-min",
  order: 103,
  title: "Cluster: two brokers down, the in-sync set below min.insync.replicas",
  skip: await clusterSkip(),
  done: `An agent (in-flight bound ${n(INFLIGHT)} B) and a transfer run on the cluster and a ` +
    `writer appends numbered lines at ${n(RATE)} lines/s. After 5 s two of the three brokers ` +
    `(${DOWN.join(", ")}) get SIGKILL; they stay down ${DOWN_MS / 1000} s while the writer ` +
    "goes on, then both are started again; the writer stops once every replica is back in sync.",
  expected: "Nothing lost: with one broker left no partition has two replicas in sync, so the " +
    "broker refuses every batch sent with acks=all (NOT_ENOUGH_REPLICAS) rather than take it on " +
    "one disk; the agent holds reading at its in-flight bound (the log file is the buffer), " +
    "names the refusal in its /healthz detail and in its sources' status, and sends again when " +
    "the brokers are back. Nothing duplicated in the index (re-sent lines keep their ids).",
}, (r) =>
  withPipeline({
    label: "cisrmin",
    agent: { extraArgs: ["--max-inflight-bytes", String(INFLIGHT)] },
  }, async (p, { dir, transfer, agent }) => {
    const writer = new SeqWriter(`${dir}/app.log`, "app", { rate: RATE });
    const read = sampler(() => agent.metric("sluice_agent_bytes_read_total"));
    const lag = sampler(() => agent.metric("sluice_agent_lag_bytes"));
    await sleep(5_000);
    await Promise.all(DOWN.map((m) => signalMember(m, "SIGKILL")));
    const downAt = Date.now();
    // The controller fences the two (their sessions expire) and shrinks the in-sync sets.
    let shrunk: string[] = [];
    const shrinkMs = await waitUntil("in-sync sets without the two brokers", async () => {
      const states = await partitionStates([p.topic]);
      shrunk = states.map((s) => `p${s.partition} [${s.isr.join(", ")}]`);
      return states.every((s) => s.isr.every((b) => b === 1));
    }, DOWN_MS).catch(() => -1);
    await sleep(Math.max(0, downAt + DOWN_MS - 4_000 - Date.now()));
    const health = await agent.health();
    const status = (await p.agents())[0];
    await sleep(Math.max(0, downAt + DOWN_MS - Date.now()));
    const readLate = growth(read.points, downAt + DOWN_MS - 15_000, downAt + DOWN_MS);
    const lateSamples = samplesIn(read.points, downAt + DOWN_MS - 15_000, downAt + DOWN_MS);
    const restartMs = Math.max(...await Promise.all(DOWN.map(startMember)));
    const backAt = Date.now();
    const syncMs = await waitUntil(
      "every replica in sync again",
      () => allInSync([p.topic, OFFSETS_TOPIC]),
      120_000,
    );
    await sleep(5_000);
    const written = await writer.stop();
    const indexed = await p.waitIndexed("app", written, { stallMs: 30_000 });
    const caughtUpS = (Date.now() - backAt) / 1000;
    await read.stop();
    await lag.stop();
    r.count(await p.tally("app", written));
    const records = await p.topicRecords();
    const sourceError = status?.sources?.app?.last_error ?? "";
    r.measured(
      `in-sync sets ${
        shrinkMs >= 0 ? `down to broker 1 alone ${(shrinkMs / 1000).toFixed(1)} s` : "not shrunk"
      } after the kill: ${shrunk.join(", ")}`,
      `agent read ${n(readLate)} bytes in the last 15 s of the outage (${lateSamples} samples; ` +
        `bound ${n(INFLIGHT)} B)`,
      `both brokers started in ${(restartMs / 1000).toFixed(1)} s, every replica in sync ${
        (syncMs / 1000).toFixed(1)
      } s later; ${n(written)} lines written, all indexed ${caughtUpS.toFixed(0)} s after the ` +
        "brokers were back",
      `Kafka holds ${n(records)} records for ${n(written)} lines (${
        n(records - written)
      } re-sent, same ids)`,
    );
    r.headline(
      `agent held reading at its bound (lag up to ${(peak(lag.points) / 1e6).toFixed(1)} MB); ` +
        `/healthz ${health.status} naming ${codeIn(health.body) ?? "no Kafka error"}; every ` +
        "line indexed once after the brokers returned",
    );
    r.saw(
      `agent /healthz during the outage: ${health.status} ${health.body.slice(0, 400)}`,
      `agent status key, source app: state ${status?.sources?.app?.state}, last_error ` +
        `\`${sourceError.slice(0, 300)}\``,
      ...topMessages(agent.problems(), 3, "agent"),
      ...topMessages(transfer.problems(), 3, "transfer"),
    );
    if (lateSamples < 20) throw new Error(`only ${lateSamples} samples of bytes read`);
    if (readLate > READ_CHUNK) throw new Error(`read ${readLate} bytes while no ISR could form`);
    if (!codeIn(health.body)) {
      throw new Error(`/healthz does not say why Kafka takes nothing: ${health.body}`);
    }
    if (!codeIn(sourceError)) {
      throw new Error(`the source's status does not say why: '${sourceError}'`);
    }
    if (indexed < written) r.measured(`only ${n(indexed)} documents after waiting`);
  }));

/** The Kafka error a text names for too few in-sync replicas (or a timeout waiting for them). */
function codeIn(text: string): string | undefined {
  return /NOT_ENOUGH_REPLICAS(_AFTER_APPEND)?|REQUEST_TIMED_OUT/.exec(text)?.[0];
}
