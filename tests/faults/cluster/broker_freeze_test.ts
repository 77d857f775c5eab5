/**
 * On the cluster: a broker frozen with SIGSTOP for 90 s (longer than any client timeout), then
 * SIGCONT: a leader that stops answering without closing a connection, and comes back believing
 * it still leads.
 */
import { sleep } from "../../../core/backoff.ts";
import {
  allInSync,
  brokerMember,
  brokersExcept,
  busiestPartition,
  clusterSkip,
  OFFSETS_TOPIC,
  partitionStates,
  signalMember,
  waitUntil,
} from "../cluster.ts";
import { n, sampler, scenario, SeqWriter, topMessages, withPipeline } from "../rig.ts";
import { longestStall, peak } from "../series.ts";

const RATE = 2_000;
const FROZEN_MS = 90_000;

await scenario({
  id: "cluster-broker-freeze",
  order: 104,
  title: "Cluster: a broker frozen with SIGSTOP for 90 s, then SIGCONT",
  skip: await clusterSkip(),
  done:
    `An agent and a transfer run on the cluster and a writer appends numbered lines at ${
      n(RATE)
    } lines/s. After 8 s the broker leading the busiest partition gets SIGSTOP: its sockets stay ` +
    "open but nothing answers. 90 s later (past the clients' request timeouts and the broker's " +
    "9 s session with the controllers) it gets SIGCONT; the writer stops once every replica is " +
    "in sync again.",
  expected: "Nothing lost, nothing duplicated in the index: requests to the frozen broker time " +
    "out instead of failing at once, the controllers fence it and move its leaderships to the " +
    "in-sync followers, and clients find the new leaders; when it wakes up its leadership epoch " +
    "is stale, so it cannot acknowledge a write, and it rejoins as a follower.",
}, (r) =>
  withPipeline({ label: "cfreeze" }, async (p, { dir, transfer, agent }) => {
    const writer = new SeqWriter(`${dir}/app.log`, "app", { rate: RATE });
    const lag = sampler(() => agent.metric("sluice_agent_lag_bytes"));
    const docs = sampler(() => p.count("app"), 1_000);
    const acked = sampler(() => agent.metric("sluice_agent_lines_acked_total"));
    const consumed = sampler(() => transfer.metric("sluice_transfer_records_consumed_total"));
    await sleep(8_000);
    const victim = await busiestPartition(p.topic);
    const member = brokerMember(victim.leader);
    const errorsBefore = await agent.metric("sluice_agent_kafka_errors_total");
    await signalMember(member, "SIGSTOP");
    const frozenAt = Date.now();
    let resumed = false;
    try {
      let newLeader = -1;
      const failoverMs = await waitUntil(
        "a new leader for the frozen broker's partition",
        async () => {
          const now = (await partitionStates([p.topic], brokersExcept(member)))
            .find((s) => s.partition === victim.partition);
          newLeader = now?.leader ?? -1;
          return newLeader >= 0 && newLeader !== victim.leader;
        },
        FROZEN_MS,
      ).catch(() => -1);
      await sleep(Math.max(0, frozenAt + FROZEN_MS - Date.now()));
      await signalMember(member, "SIGCONT");
      resumed = true;
      const thawedAt = Date.now();
      const syncMs = await waitUntil(
        "every replica in sync after SIGCONT",
        () => allInSync([p.topic, OFFSETS_TOPIC]),
        120_000,
      );
      await sleep(5_000);
      const written = await writer.stop();
      const indexed = await p.waitIndexed("app", written, { stallMs: 30_000 });
      const caughtUpS = (Date.now() - thawedAt) / 1000;
      await lag.stop();
      const indexing = await docs.stop();
      const sent = await acked.stop();
      const read = await consumed.stop();
      r.count(await p.tally("app", written));
      const records = await p.topicRecords();
      const errors = await agent.metric("sluice_agent_kafka_errors_total") - errorsBefore;
      // How long each stage gained nothing while the broker was frozen.
      const stalls = [
        `agent acknowledged lines ${seconds(longestStall(sent, frozenAt, thawedAt))}`,
        `transfer consumed records ${seconds(longestStall(read, frozenAt, thawedAt))}`,
        `index documents ${seconds(longestStall(indexing, frozenAt, thawedAt))}`,
      ];
      r.measured(
        `broker ${victim.leader} (${member}) led partition ${victim.partition} (${
          n(victim.records)
        } records); ${
          failoverMs >= 0
            ? `broker ${newLeader} led it ${(failoverMs / 1000).toFixed(1)} s after the SIGSTOP`
            : "no other broker took the partition over while it was frozen"
        }`,
        `longest stretch without progress while frozen: ${stalls.join(", ")}`,
        `every replica in sync ${(syncMs / 1000).toFixed(1)} s after SIGCONT; ${
          n(written)
        } lines written, all indexed ${caughtUpS.toFixed(0)} s after SIGCONT`,
        `Kafka holds ${n(records)} records for ${n(written)} lines (${
          n(records - written)
        } re-sent, same ids)`,
      );
      r.headline(
        `leader moved in ${(failoverMs / 1000).toFixed(1)} s; agent: ${n(errors)} Kafka errors, ` +
          `lag up to ${(peak(lag.points) / 1e6).toFixed(1)} MB; every line indexed once`,
      );
      r.saw(
        `agent: sluice_agent_kafka_errors_total +${n(errors)} while the broker was frozen`,
        `agent /healthz after: ${(await agent.health()).status}`,
        ...topMessages(agent.problems(), 3, "agent"),
        ...topMessages(transfer.problems(), 3, "transfer"),
      );
      if (indexed < written) r.measured(`only ${n(indexed)} documents after waiting`);
    } finally {
      if (!resumed) await signalMember(member, "SIGCONT").catch(() => {});
    }
  }));

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(0)} s`;
}
