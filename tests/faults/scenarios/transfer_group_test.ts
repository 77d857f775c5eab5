/**
 * Two transfers of one consumer group from the start, a third joining mid-stream, one of the
 * first two killed with SIGKILL: rebalances while bulks are in flight. It runs in the fault suite
 * on one node and, pointed at the cluster (`deno task test:faults --cluster`), on the cluster.
 */
import { sleep } from "../../../core/backoff.ts";
import { partitionBounds } from "../../../kafka/consumer.ts";
import {
  endpoints,
  inPipeline,
  n,
  onCluster,
  type Proc,
  sampler,
  scenario,
  SeqWriter,
  topMessages,
} from "../rig.ts";

const RATE = 2_000;
/** Sources of one file each: their keys (host and file) spread the lines over the partitions. */
const SOURCES = 6;

/** The transfer's log line for each assignment it gets (transfer/transfer.ts). */
const ASSIGNED = /assigned \d+ partitions/;

await scenario({
  id: onCluster ? "cluster-transfer-group" : "transfer-group",
  order: onCluster ? 107 : 8,
  title: `${
    onCluster ? "Cluster: t" : "T"
  }wo transfers in one group, a third joining mid-stream, one killed -9`,
  done:
    `An agent tails ${SOURCES} sources of one file each, written at ${
      n(RATE)
    } lines/s in all, into a topic of 3 partitions (a file's lines keep to one partition, so the ` +
    "files spread them). Two transfers of one consumer group run from the start; after 10 s a " +
    "third joins the group; 10 s later the first gets SIGKILL as soon as it has a bulk in " +
    "flight; the writers stop 10 s after that.",
  expected: "Every line exactly once in the index. Each join and the kill move partitions " +
    "while bulks are in flight: a transfer commits a partition's offset only after the bulk " +
    "holding its records was acknowledged, so the member that takes a partition over starts " +
    "at or before the first record not yet indexed (lost 0), and the records it indexes a " +
    "second time carry the same document ids, which overwrite themselves (duplicated 0). A " +
    "commit past an unindexed record would show here as lost lines of the killed member's " +
    "partitions.",
}, (r) =>
  inPipeline("tgroup", async (p) => {
    const ids = Array.from({ length: SOURCES }, (_, i) => `app${i}`);
    const dirs = await Promise.all(ids.map((id) => p.sourceDir(id)));
    await p.put(...ids.map((id) => p.source(id)));
    const transfers: Proc[] = [p.transfer([], "transfer 1"), p.transfer([], "transfer 2")];
    const agent = await p.runningAgent();
    const writers = ids.map((id, i) =>
      new SeqWriter(`${dirs[i]}/app.log`, id, { rate: RATE / SOURCES })
    );
    const indexedSeries = transfers.map((t) =>
      sampler(() => t.metric("sluice_transfer_docs_indexed_total"))
    );
    await sleep(10_000);
    transfers.push(p.transfer([], "transfer 3"));
    await sleep(10_000);
    // Killed as soon as it is seen with a bulk in flight (5 s at most).
    let inFlight = 0;
    const looking = Date.now();
    while (Date.now() - looking < 5_000) {
      inFlight = await transfers[0].metric("sluice_transfer_bulks_in_flight");
      if (inFlight > 0) break;
      await sleep(20);
    }
    const killedIndexed = await transfers[0].metric("sluice_transfer_docs_indexed_total");
    await transfers[0].kill9();
    const killedAt = Date.now();
    await sleep(10_000);
    const written = await Promise.all(writers.map((w) => w.stop()));
    let indexed = 0;
    for (const [i, id] of ids.entries()) {
      indexed += await p.waitIndexed(id, written[i], { stallMs: 30_000 });
      r.count(await p.tally(id, written[i]));
    }
    const total = written.reduce((a, b) => a + b, 0);
    const caughtUpS = (Date.now() - killedAt) / 1000;
    const perPartition = (await partitionBounds({ brokers: endpoints.kafka }, p.topic))
      .map((b) => Number(b.high) - Number(b.low));
    for (const s of indexedSeries) await s.stop();
    const assignments = transfers.map((t) => t.grep(ASSIGNED).length);
    const survivors = await Promise.all(
      transfers.slice(1).map((t) => t.metric("sluice_transfer_docs_indexed_total")),
    );
    r.measured(
      `transfer 1 had indexed ${n(killedIndexed)} documents (${inFlight} bulks in flight) when ` +
        `it was killed; transfers 2 and 3 indexed ${survivors.map(n).join(" and ")}`,
      `records per partition: ${perPartition.map(n).join(", ")}`,
      `assignments logged per transfer: ${assignments.join(", ")} (each join and the kill ` +
        "rebalance the group)",
      `${n(total)} lines written, ${n(indexed)} documents, all indexed ${
        caughtUpS.toFixed(0)
      } s after the kill`,
    );
    r.headline(
      `${assignments.reduce((a, b) => a + b, 0)} partition assignments over 3 transfers; ` +
        `transfer 1 killed with ${inFlight} bulks in flight`,
    );
    r.saw(
      ...transfers.slice(1).flatMap((t) =>
        t.grep(ASSIGNED).slice(-1).map((l) => `${t.name}: ${l}`)
      ),
      ...topMessages(transfers.slice(1).flatMap((t) => t.problems()), 3, "transfers'"),
      ...topMessages(agent.problems(), 2, "agent"),
    );
    if (indexed < total) r.measured(`only ${n(indexed)} documents after waiting`);
  }));
