/**
 * A foreign writer puts events straight into etcd, past the config plane's checks: one that is
 * not JSON, one that is JSON but breaks the event schema. Then a good change is applied.
 */
import { sleep } from "../../../core/backoff.ts";
import { KEYS } from "../../../config_plane/keys.ts";
import { inPipeline, n, quote, scenario, SeqWriter, until } from "../rig.ts";

const RATE = 500;

await scenario({
  id: "etcd-garbage",
  order: 8,
  title: "malformed JSON and schema-invalid events written straight into etcd",
  done: `An agent runs source \`steady\` (written at ${n(RATE)} lines/s throughout). A foreign ` +
    "writer then moves the head itself (one etcd transaction each, as `config:apply` would) to " +
    "an event that is not JSON, and then to one that is JSON but breaks the event schema (a " +
    "source id with capitals and spaces, no paths). Then a good change is appended through the " +
    "config plane: a second source `after`, written from then on.",
  expected: "The agent refuses each bad revision and says so (an error in its log, " +
    "`sluice_agent_rejected_seq`, `rejected` in its etcd status, shown by `config:status`), " +
    "keeps running the last good revision — `steady` is not restarted and loses nothing — and " +
    "applies the next good one. The config plane itself reads past the bad events: " +
    "`config:status` and the next `config:apply` work, and the state skips the bad events " +
    "exactly as the agents do.",
}, async (r) => {
  await inPipeline("etcdgarbage", async (p) => {
    const steadyDir = await p.sourceDir("steady");
    const good = await p.put(p.source("steady"));
    p.transfer();
    const agent = await p.runningAgent();
    const steady = new SeqWriter(`${steadyDir}/app.log`, "steady", { rate: RATE });
    await sleep(2_000);

    const foreign = async (seq: number, value: string) => {
      const kv = p.plane.kv;
      const done = await kv.if(KEYS.head, "Value", "==", String(seq - 1))
        .then(kv.put(KEYS.event(seq)).value(value), kv.put(KEYS.head).value(String(seq)))
        .commit();
      if (!done.succeeded) throw new Error(`the head moved before the foreign write of ${seq}`);
    };
    const seen: string[] = [];
    const refused = async (seq: number, what: string) => {
      await until(
        `the agent refuses revision ${seq}`,
        async () => (await agent.metric("sluice_agent_rejected_seq")) === seq,
        15_000,
      );
      const [status] = await p.agents();
      seen.push(
        `${what}: /metrics sluice_agent_rejected_seq ${seq}, sluice_agent_applied_seq ${await agent
          .metric(
            "sluice_agent_applied_seq",
          )}; status key \`rejected: {seq: ${status?.rejected?.seq}, error: "${
          status?.rejected?.error.slice(0, 120)
        }"}\``,
      );
    };
    await foreign(good + 1, '{"seq": ' + (good + 1) + ', "ops": [ this is not JSON');
    await refused(good + 1, "not JSON");
    await foreign(
      good + 2,
      JSON.stringify({
        seq: good + 2,
        id: "intruder-1",
        at: new Date().toISOString(),
        author: "intruder",
        message: "bypassed the checks",
        base: good + 1,
        ops: [{ op: "put_source", source: { id: "Not A Valid Id!", paths: [] } }],
      }),
    );
    await refused(good + 2, "schema-invalid");
    // Exit 1 is right here (the agent does not run the head); a crash would print no agents.
    const status = await p.configStatus();
    if (!status.stdout.includes(`refused revision ${good + 2}`)) {
      throw new Error(`config:status does not show the refused revision:\n${status.stdout}`);
    }

    const afterDir = await p.sourceDir("after");
    const next = await p.put(p.source("after"));
    const after = new SeqWriter(`${afterDir}/app.log`, "after", { rate: RATE });
    await until(
      "the agent applies the next good revision",
      async () => (await agent.metric("sluice_agent_applied_seq")) === next,
      15_000,
    );
    await sleep(3_000);
    const written = { steady: await steady.stop(), after: await after.stop() };
    for (const [source, count] of Object.entries(written)) {
      await p.waitIndexed(source, count);
      r.count(await p.tally(source, count));
    }
    const restarted = agent.grep(/restarted \[[^\]]*steady/);
    r.measured(
      `good revision ${good}, foreign revisions ${good + 1} (not JSON) and ${
        good + 2
      } (schema-invalid), next good revision ${next} appended with config:apply's code path and run`,
      `\`steady\` restarted ${restarted.length} times`,
    );
    r.headline(
      `ERR "config seq N is invalid and was not applied" ×2, sluice_agent_rejected_seq, ` +
        `config:status "refused revision ${good + 2}"; revision ${next} then ran`,
    );
    r.saw(
      ...seen,
      ...status.stdout.split("\n").filter((l) => /refused|converged/.test(l)).map((l) =>
        `config:status: \`${l.trim().slice(0, 200)}\``
      ),
      ...quote(agent.grep(/is invalid and was not applied/), 2, "agent"),
    );
    if (restarted.length > 0) throw new Error(`steady was restarted: ${restarted[0]}`);
  });
});
