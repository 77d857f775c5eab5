/**
 * The search engine (OpenSearch, or Elasticsearch when SLUICE_SEARCH_URL points at the local
 * one) stopped for 60 s in the middle of the stream, then started again.
 */
import { sleep } from "../../../core/backoff.ts";
import {
  cannotStop,
  engine,
  n,
  outage,
  sampler,
  scenario,
  SeqWriter,
  topMessages,
  withPipeline,
} from "../rig.ts";
import { peak } from "../series.ts";

const RATE = 1_000;
const DOWN_MS = 60_000;

await scenario({
  id: `${engine.service}-outage`,
  order: engine.service === "opensearch" ? 5 : 5.5,
  title: `${engine.label} stopped 60 s mid-stream, then restarted`,
  skip: await cannotStop(engine.service),
  done: `An agent and a transfer run; a writer appends numbered lines at ${n(RATE)} lines/s ` +
    `throughout. After 5 s ${engine.label} is stopped, kept down 60 s while the writer goes on, ` +
    `and started again; the writer stops once ${engine.label} answers again.`,
  expected: "Nothing lost: the transfer retries its bulk requests with backoff, commits no " +
    "offset past what was indexed, pauses consumption while the engine is behind, and reports " +
    "itself unhealthy; the agent is not affected at all (Kafka keeps the records). When the " +
    "engine is back the backlog is indexed. Nothing duplicated: a retried bulk request carries " +
    "the same `_id`s.",
}, (r) =>
  withPipeline({ label: "osoutage" }, async (p, { dir, transfer, agent }) => {
    const writer = new SeqWriter(`${dir}/app.log`, "app", { rate: RATE });
    const lag = sampler(() => transfer.metric("sluice_transfer_consumer_lag"), 500);
    const agentLag = sampler(() => agent.metric("sluice_agent_lag_bytes"), 500);
    await sleep(5_000);
    const down = Date.now();
    let health = { status: 0, body: "" };
    let retries = 0;
    const { restartMs } = await outage(engine.service, DOWN_MS, async () => {
      await sleep(DOWN_MS - 5_000);
      health = await transfer.health();
      retries = await transfer.metric("sluice_transfer_retries_total", { kind: "request" });
    });
    const up = Date.now();
    const written = await writer.stop();
    const indexed = await p.waitIndexed("app", written, { stallMs: 30_000 });
    const caughtUpS = (Date.now() - up) / 1000;
    await lag.stop();
    await agentLag.stop();
    r.count(await p.tally("app", written));
    r.measured(
      `${engine.label} down ${((up - down - restartMs) / 1000).toFixed(0)} s, its restart took ${
        (restartMs / 1000).toFixed(0)
      } s; ${n(written)} lines written, all indexed ${caughtUpS.toFixed(0)} s after it answered`,
    );
    r.headline(
      `transfer /healthz ${health.status} "search engine failing", ${n(retries)} retried ` +
        `bulks, lag up to ${n(peak(lag.points))} records; agent unaffected`,
    );
    r.saw(
      `transfer /healthz during the outage: ${health.status} \`${health.body.slice(0, 120)}\``,
      `transfer: sluice_transfer_retries_total{kind="request"} ${n(retries)} during the outage`,
      `transfer: sluice_transfer_consumer_lag up to ${n(peak(lag.points))} records, back to ${
        n(await transfer.metric("sluice_transfer_consumer_lag"))
      }; /healthz after: ${(await transfer.health()).status}`,
      `agent: sluice_agent_lag_bytes never above ${n(peak(agentLag.points))} B (not affected)`,
      ...topMessages(transfer.problems(), 3, "transfer"),
    );
    if (health.status !== 503) throw new Error(`transfer /healthz was ${health.status} while down`);
    if (indexed < written) r.measured(`only ${n(indexed)} documents after waiting`);
  }));
