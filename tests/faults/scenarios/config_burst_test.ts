/**
 * 1,000 config revisions in 10 s while lines flow: the agent must end on the last one without
 * restarting the source that did not change.
 */
import { sleep } from "../../../core/backoff.ts";
import { endpoints, inPipeline, n, type Pipeline, scenario, SeqWriter, until } from "../rig.ts";

const REVISIONS = 1_000;
const WITHIN_MS = 10_000;
const RATE = 500;

await scenario({
  id: "config-burst",
  order: 10,
  title: "1,000 config revisions in 10 s",
  done: `An agent runs \`steady\` and \`churn\`, both written at ${n(RATE)} lines/s. Then ` +
    `${n(REVISIONS)} revisions are appended through the config plane within ${
      WITHIN_MS / 1000
    } s (one every 10 ms, each a real compare-and-swap append), each changing \`churn\` ` +
    "(its extra field `rev`); `steady` is in none of them.",
  expected: "The agent coalesces the burst (far fewer reconciles than revisions), ends on the " +
    "last revision, and never restarts `steady`; `churn` is restarted some times, each time " +
    "from its checkpoint. Nothing lost or duplicated in either source, and the last documents " +
    "of `churn` carry the last revision's field.",
}, async (r) => {
  await inPipeline("configburst", async (p) => {
    const steadyDir = await p.sourceDir("steady");
    const churnDir = await p.sourceDir("churn");
    let head = await p.put(p.source("steady"), p.source("churn", { fields: { rev: "0" } }));
    p.transfer();
    const agent = await p.runningAgent();
    const steady = new SeqWriter(`${steadyDir}/app.log`, "steady", { rate: RATE });
    const churn = new SeqWriter(`${churnDir}/app.log`, "churn", { rate: RATE });
    await sleep(2_000);
    const reconcilesBefore = await agent.metric("sluice_agent_reconciles_total");
    const t0 = Date.now();
    for (let i = 1; i <= REVISIONS; i++) {
      const { event } = await p.plane.append({
        base: head,
        ops: [{ op: "put_source", source: p.source("churn", { fields: { rev: String(i) } }) }],
        author: "fault-suite",
        message: `burst ${i}`,
      });
      head = event.seq;
      await sleep(Math.max(0, t0 + (i * WITHIN_MS) / REVISIONS - Date.now()));
    }
    const appendS = (Date.now() - t0) / 1000;
    await until(
      "the agent runs the last revision",
      async () => (await agent.metric("sluice_agent_applied_seq")) === head,
      30_000,
    );
    const settledS = (Date.now() - t0) / 1000;
    const reconciles = await agent.metric("sluice_agent_reconciles_total") - reconcilesBefore;
    await sleep(3_000);
    const written = { steady: await steady.stop(), churn: await churn.stop() };
    for (const [source, count] of Object.entries(written)) {
      await p.waitIndexed(source, count);
      r.count(await p.tally(source, count));
    }
    const restarts = agent.grep(/restarted \[/);
    const steadyRestarts = restarts.filter((l) => /restarted \[[^\]]*steady/.test(l));
    const churnRestarts = restarts.filter((l) => /restarted \[[^\]]*churn/.test(l));
    const [status] = await p.agents();
    const last = await lastRev(p);
    r.measured(
      `${n(REVISIONS)} revisions appended in ${appendS.toFixed(1)} s; the agent ran the last ` +
        `(${head}) ${settledS.toFixed(1)} s after the first`,
      `${n(reconciles)} reconciles for ${
        n(REVISIONS)
      } revisions; \`churn\` restarted ${churnRestarts.length} times, \`steady\` ${steadyRestarts.length} times`,
      `the newest \`churn\` document carries rev ${last}`,
    );
    r.headline(
      `applied_seq ${head} after ${n(reconciles)} reconciles; steady never restarted`,
    );
    r.saw(
      `agent: sluice_agent_applied_seq ${head}, sluice_agent_reconciles_total +${n(reconciles)}`,
      `status key: runs revision ${status?.seq}, steady \`${status?.sources.steady?.state}\`, churn \`${status?.sources.churn?.state}\``,
    );
    if (steadyRestarts.length > 0) throw new Error(`steady was restarted: ${steadyRestarts[0]}`);
    if (last !== String(REVISIONS)) throw new Error(`the last churn document has rev ${last}`);
  });
});

/** `labels.rev` (the source's extra field `rev`) of the newest `churn` document. */
async function lastRev(p: Pipeline): Promise<string | undefined> {
  const response = await fetch(`${endpoints.search}/${p.indices("churn")}/_search`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      size: 1,
      sort: [{ "log.offset": "desc" }],
      _source: ["labels.rev"],
    }),
  });
  const body = await response.json();
  return body.hits?.hits?.[0]?._source?.labels?.rev;
}
