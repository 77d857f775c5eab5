/**
 * On the cluster: a rolling restart of the three brokers under load, each one back in sync
 * before the next goes.
 */
import { sleep } from "../../../core/backoff.ts";
import {
  allInSync,
  clusterSkip,
  OFFSETS_TOPIC,
  startMember,
  stopMember,
  waitUntil,
} from "../cluster.ts";
import { n, scenario, SeqWriter, topMessages, withPipeline } from "../rig.ts";
import { KAFKA_BROKERS } from "../../../stack/cluster/topology.ts";

const RATE = 2_000;

await scenario({
  id: "cluster-rolling-restart",
  order: 102,
  title: "Cluster: rolling restart of all three brokers under load",
  skip: await clusterSkip(),
  done:
    `An agent and a transfer run on the cluster and a writer appends numbered lines at ${
      n(RATE)
    } lines/s. Each broker in turn (kafka-1, kafka-2, kafka-3) is stopped as an operator does ` +
    "(SIGTERM: a controlled shutdown hands its leaderships over), started again, and the next " +
    "one goes only once every partition of the stream's topic and of the consumer offsets " +
    "topic has all three replicas in sync again. The writer stops 5 s after the last broker is " +
    "back in sync.",
  expected: "Nothing lost, nothing duplicated in the index: at every moment two brokers hold " +
    "each partition in sync, so min.insync.replicas=2 is met and every acknowledged batch " +
    "survives; requests that meet a broker going away are sent again to the new leader " +
    "(same event ids), and the transfer's group moves its coordinator with the brokers.",
}, (r) =>
  withPipeline({ label: "crolling" }, async (p, { dir, transfer, agent }) => {
    const writer = new SeqWriter(`${dir}/app.log`, "app", { rate: RATE });
    await sleep(5_000);
    const errorsBefore = await agent.metric("sluice_agent_kafka_errors_total");
    const steps: string[] = [];
    for (const broker of KAFKA_BROKERS) {
      const stopMs = await stopMember(broker.id);
      const startMs = await startMember(broker.id);
      const syncMs = await waitUntil(
        `every replica in sync after ${broker.id} restarted`,
        () => allInSync([p.topic, OFFSETS_TOPIC]),
        120_000,
      );
      steps.push(
        `${broker.id}: stopped in ${(stopMs / 1000).toFixed(1)} s, started in ${
          (startMs / 1000).toFixed(1)
        } s, all in sync ${(syncMs / 1000).toFixed(1)} s later`,
      );
    }
    await sleep(5_000);
    const written = await writer.stop();
    const indexed = await p.waitIndexed("app", written, { stallMs: 30_000 });
    r.count(await p.tally("app", written));
    const records = await p.topicRecords();
    const errors = await agent.metric("sluice_agent_kafka_errors_total") - errorsBefore;
    r.measured(
      ...steps,
      `${n(written)} lines written during the restarts; Kafka holds ${n(records)} records (${
        n(records - written)
      } re-sent, same ids)`,
    );
    r.headline(
      `3 brokers restarted one by one; agent: ${n(errors)} Kafka errors, ${
        n(records - written)
      } lines re-sent; every line indexed once`,
    );
    r.saw(
      `agent: sluice_agent_kafka_errors_total +${n(errors)} during the restarts`,
      `agent /healthz after: ${(await agent.health()).status}`,
      ...topMessages(agent.problems(), 3, "agent"),
      ...topMessages(transfer.problems(), 3, "transfer"),
    );
    if (indexed < written) r.measured(`only ${n(indexed)} documents after waiting`);
  }));
