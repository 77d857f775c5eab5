/**
 * On the cluster: `kill -9` of one search node while the transfer indexes; the node is started
 * again 30 s later.
 */
import { sleep } from "../../../core/backoff.ts";
import { SEARCH_MEMBERS } from "../../../stack/cluster/topology.ts";
import { clusterSkip, searchHealth, signalMember, startMember, waitUntil } from "../cluster.ts";
import { n, sampler, scenario, SeqWriter, topMessages, withPipeline } from "../rig.ts";
import { peak } from "../series.ts";

const RATE = 2_000;
const DOWN_MS = 30_000;
/** The node that may be lost: a data node that is not the cluster manager (topology.ts). */
const VICTIM = SEARCH_MEMBERS.find((m) => !m.roles.includes("cluster_manager"))!;

await scenario({
  id: "cluster-search-node-kill",
  order: 105,
  title: "Cluster: kill -9 of one search node while indexing, back 30 s later",
  skip: await clusterSkip(),
  done: `On the cluster (2 OpenSearch nodes, every index with 1 replica), an agent and a ` +
    `transfer run and a writer appends numbered lines at ${n(RATE)} lines/s. After 8 s the ` +
    `data node ${VICTIM.id} (${VICTIM.nodeName}, not the cluster manager) gets SIGKILL; it is ` +
    "started again 30 s later; the writer stops 5 s after the cluster is green again.",
  expected: "Nothing lost, nothing duplicated: the replicas on the other node are promoted to " +
    "primaries, a bulk request that was on the dead node fails or times out and the transfer " +
    "sends it again (same document ids, so a request that half went through overwrites " +
    "itself), and offsets are committed only after a bulk is acknowledged. The transfer asks " +
    "the other node of its --search-url list while the first does not answer.",
}, (r) =>
  withPipeline({ label: "csearchkill" }, async (p, { dir, transfer, agent }) => {
    const writer = new SeqWriter(`${dir}/app.log`, "app", { rate: RATE });
    const lag = sampler(() => transfer.metric("sluice_transfer_consumer_lag"));
    await sleep(8_000);
    const before = await searchHealth();
    const retriesBefore = await transfer.metric("sluice_transfer_retries_total");
    await signalMember(VICTIM.id, "SIGKILL");
    const killedAt = Date.now();
    let during = before;
    const noticedMs = await waitUntil("the search cluster notices the lost node", async () => {
      during = await searchHealth();
      return during.nodes < before.nodes;
    }, DOWN_MS);
    await sleep(Math.max(0, killedAt + DOWN_MS - Date.now()));
    const restartMs = await startMember(VICTIM.id);
    const backAt = Date.now();
    const greenMs = await waitUntil(
      "the search cluster green again",
      async () => (await searchHealth()).status === "green",
      180_000,
    );
    await sleep(5_000);
    const written = await writer.stop();
    const indexed = await p.waitIndexed("app", written, { stallMs: 30_000 });
    await lag.stop();
    r.count(await p.tally("app", written));
    const retries = await transfer.metric("sluice_transfer_retries_total") - retriesBefore;
    r.measured(
      `${before.nodes} nodes (${before.status}) before; ${during.nodes} node, ${during.status}, ` +
        `${during.unassigned} unassigned shards ${(noticedMs / 1000).toFixed(1)} s after the ` +
        "SIGKILL",
      `${VICTIM.id} down ${((backAt - killedAt) / 1000).toFixed(0)} s (its start took ${
        (restartMs / 1000).toFixed(1)
      } s); green again ${(greenMs / 1000).toFixed(1)} s after it answered`,
      `${n(written)} lines written, ${n(indexed)} documents`,
    );
    r.headline(
      `cluster ${during.status} with ${during.nodes} node, green ${
        (greenMs / 1000).toFixed(0)
      } s after the restart; transfer: ${n(retries)} retries, lag up to ${
        n(peak(lag.points))
      } records`,
    );
    r.saw(
      `transfer /healthz after: ${(await transfer.health()).status}`,
      ...topMessages(transfer.problems(), 4, "transfer"),
      ...topMessages(agent.problems(), 2, "agent"),
    );
    if (indexed < written) r.measured(`only ${n(indexed)} documents after waiting`);
  }));
