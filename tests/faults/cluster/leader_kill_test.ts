/**
 * On the cluster: `kill -9` of the broker that leads the busiest partition of the stream, in the
 * middle of it; the broker is started again 30 s later.
 */
import { sleep } from "../../../core/backoff.ts";
import {
  brokerMember,
  busiestPartition,
  clusterSkip,
  partitionStates,
  signalMember,
  startMember,
  waitUntil,
} from "../cluster.ts";
import { n, sampler, scenario, SeqWriter, topMessages, withPipeline } from "../rig.ts";
import { peak } from "../series.ts";

const RATE = 2_000;
const DOWN_MS = 30_000;

await scenario({
  id: "cluster-leader-kill",
  order: 101,
  title: "Cluster: kill -9 of the leader of the busiest partition mid-stream, back 30 s later",
  skip: await clusterSkip(),
  done: `On the cluster (3 brokers, replication factor 3, min.insync.replicas 2), an agent and a ` +
    `transfer run and a writer appends numbered lines at ${n(RATE)} lines/s. After 8 s the ` +
    "broker leading the partition that holds the most records gets SIGKILL; it is started " +
    "again 30 s later; the writer stops 5 s after it answers again.",
  expected: "Nothing lost: an acknowledged batch is on at least two brokers, so a follower in " +
    "sync takes over its partitions; the agent's requests that were in flight on the dead " +
    "broker fail and are sent again to the new leader (same event ids). Nothing duplicated in " +
    "the index: a re-sent line is a second record with the same id, which overwrites itself.",
}, (r) =>
  withPipeline({ label: "cleaderkill" }, async (p, { dir, transfer, agent }) => {
    const writer = new SeqWriter(`${dir}/app.log`, "app", { rate: RATE });
    const lag = sampler(() => agent.metric("sluice_agent_lag_bytes"));
    await sleep(8_000);
    const victim = await busiestPartition(p.topic);
    const member = brokerMember(victim.leader);
    const errorsBefore = await agent.metric("sluice_agent_kafka_errors_total");
    await signalMember(member, "SIGKILL");
    const killedAt = Date.now();
    // Who leads the partition once the controller has moved it (KRaft fences the dead broker).
    let newLeader = -1;
    const failoverMs = await waitUntil("a new leader for the partition", async () => {
      const now = (await partitionStates([p.topic])).find((s) => s.partition === victim.partition);
      newLeader = now?.leader ?? -1;
      return newLeader >= 0 && newLeader !== victim.leader;
    }, DOWN_MS);
    const isrDuring = (await partitionStates([p.topic]))
      .find((s) => s.partition === victim.partition)?.isr ?? [];
    await sleep(Math.max(0, killedAt + DOWN_MS - Date.now()));
    const restartMs = await startMember(member);
    const backAt = Date.now();
    await sleep(5_000);
    const written = await writer.stop();
    const indexed = await p.waitIndexed("app", written, { stallMs: 30_000 });
    const caughtUpS = (Date.now() - backAt) / 1000;
    await lag.stop();
    r.count(await p.tally("app", written));
    const records = await p.topicRecords();
    const errors = await agent.metric("sluice_agent_kafka_errors_total") - errorsBefore;
    r.measured(
      `partition ${victim.partition} (${n(victim.records)} records at the kill) was led by ` +
        `broker ${victim.leader} (${member}); broker ${newLeader} led it ${
          (failoverMs / 1000).toFixed(1)
        } s after the SIGKILL, in-sync set then [${isrDuring.join(", ")}]`,
      `the killed broker was down ${((backAt - killedAt - restartMs) / 1000).toFixed(0)} s, ` +
        `its start took ${(restartMs / 1000).toFixed(1)} s; ${n(written)} lines written, all ` +
        `indexed ${caughtUpS.toFixed(0)} s after it answered again`,
      `Kafka holds ${n(records)} records for ${n(written)} lines (${
        n(records - written)
      } re-sent after failed requests, same ids)`,
    );
    r.headline(
      `leader moved in ${(failoverMs / 1000).toFixed(1)} s; agent: ${n(errors)} Kafka errors, ` +
        `lag up to ${(peak(lag.points) / 1e6).toFixed(1)} MB, ${
          n(records - written)
        } lines re-sent`,
    );
    r.saw(
      `agent: sluice_agent_kafka_errors_total +${n(errors)} around the kill`,
      `agent /healthz after: ${(await agent.health()).status}`,
      ...topMessages(agent.problems(), 3, "agent"),
      ...topMessages(transfer.problems(), 3, "transfer"),
    );
    if (indexed < written) r.measured(`only ${n(indexed)} documents after waiting`);
  }));
