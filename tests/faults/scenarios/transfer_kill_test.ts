/**
 * `kill -9` of the transfer while it indexes, then a restart.
 */
import { committedOffsets } from "../../../kafka/consumer.ts";
import { sleep } from "../../../core/backoff.ts";
import { endpoints, engine, n, scenario, SeqWriter, until, withPipeline } from "../rig.ts";

const TOTAL = 40_000;
const RATE = 4_000;

await scenario({
  // Run once per engine (tests/run.ts): the Elasticsearch row is its own.
  id: engine.service === "opensearch" ? "transfer-kill" : "transfer-kill-elasticsearch",
  order: engine.service === "opensearch" ? 2 : 2.5,
  title: "kill -9 of the transfer during indexing, then a restart" +
    (engine.service === "opensearch" ? "" : " (Elasticsearch)"),
  done: `An agent sends ${n(TOTAL)} numbered lines (${n(RATE)} lines/s). Once a quarter of them ` +
    "are indexed the transfer gets SIGKILL in the middle of its bulk requests; a new transfer " +
    "process is started a second later in the same consumer group (session timeout 6 s).",
  expected: "Nothing lost: offsets are committed only after the bulk request holding their " +
    "records succeeded, so the new transfer starts at or before the first record not yet " +
    "indexed. Nothing duplicated: records indexed before the kill but not committed are indexed " +
    "again under the same `_id` (the event id) and overwrite themselves.",
}, (r) =>
  withPipeline({ label: "transferkill" }, async (p, { dir, transfer: first }) => {
    let transfer = first;
    const writer = new SeqWriter(`${dir}/app.log`, "app", { rate: RATE, total: TOTAL });
    await until("a quarter indexed", async () => (await p.count("app")) >= TOTAL / 4, 60_000);
    await transfer.kill9();
    const atKill = await p.count("app");
    const committed = (await committedOffsets({ brokers: endpoints.kafka }, p.name, p.topic))
      .reduce((sum, o) => sum + Math.max(0, Number(o.offset)), 0);
    await sleep(1000);
    const restartedAt = Date.now();
    transfer = p.transfer();
    const written = await writer.done;
    const indexed = await p.waitIndexed("app", written);
    const resumeS = (Date.now() - restartedAt) / 1000;
    const byNew = await transfer.metric("sluice_transfer_docs_indexed_total");
    r.count(await p.tally("app", written));
    r.measured(
      `killed with ${n(atKill)} documents indexed and ${n(committed)} offsets committed ` +
        `(committed ≤ indexed: ${committed <= atKill})`,
      `the new transfer had everything indexed ${resumeS.toFixed(1)} s after its start`,
    );
    r.headline(
      `${n(Math.max(0, byNew - (written - atKill)))} documents indexed again under the same _id; ` +
        "lag back to 0",
    );
    r.saw(
      `new transfer: sluice_transfer_docs_indexed_total ${n(byNew)} for the ${
        n(written - atKill)
      } documents still missing at the kill: ${
        n(Math.max(0, byNew - (written - atKill)))
      } indexed twice under the same _id`,
      `new transfer /healthz ${(await transfer.health()).status}, consumer lag ${
        n(await transfer.metric("sluice_transfer_consumer_lag"))
      }`,
    );
    if (committed > atKill) throw new Error(`committed ${committed} > indexed ${atKill}`);
    if (indexed < written) r.measured(`only ${n(indexed)} documents after waiting`);
  }));
