/**
 * `kill -9` of the agent five times at random moments while 200,000 lines are written with a
 * rename rotation every 20,000 lines; each time the agent is started again at once.
 */
import { sleep } from "../../../core/backoff.ts";
import { seededRandom } from "../../../demo/generate.ts";
import { n, scenario, SeqWriter, withPipeline } from "../rig.ts";

const TOTAL = 200_000;
const ROTATE_EVERY = 20_000;
const KILLS = 5;
/**
 * Lines/s: a file lives 4 s, longer than a restarted agent needs to look at its files again
 * (0.5–0.8 s on an idle 2-core machine, up to 2.8 s with two busy loops on its cores). A file
 * created and rotated away while no agent runs is never seen (docs/agent.md, Limits); that is not
 * what this scenario is about.
 */
const RATE = 5_000;
/**
 * A kill comes at least this long after the previous restart answered /healthz, so each agent
 * has scanned and saved its checkpoints (a crash loop faster than that is the same limit).
 */
const MIN_ALIVE_MS = 1_000;

await scenario({
  id: "agent-kill",
  order: 1,
  title: `kill -9 of the agent ×${KILLS} during ${n(TOTAL)} lines, rename rotation every ${
    n(ROTATE_EVERY)
  }`,
  done: `An agent follows \`app.log\` (the glob names only the live file, as with logrotate). A ` +
    `writer appends ${n(TOTAL)} numbered lines at ${n(RATE)} lines/s and renames the file to ` +
    `\`app.log.N\` after every ${n(ROTATE_EVERY)} lines (a new \`app.log\` follows). At ${KILLS} ` +
    "random moments (seeded, the seed is below; each at least " +
    `${MIN_ALIVE_MS / 1000} s after the previous restart) the agent gets SIGKILL and is started ` +
    "again at once with the same checkpoint directory. A transfer indexes the topic throughout.",
  expected: "Nothing lost: a restarted agent resumes every file at its checkpoint, and a file " +
    "rotated away while the agent was dead is found again by device + inode in its directory " +
    "and read to its end (an agent saves every file it finds within 0.2 s, acknowledged or " +
    "not). A file created and rotated away while no agent runs would not be seen: files live " +
    "longer than a restart takes here. Nothing duplicated in the index: what was sent but not yet " +
    "checkpointed is sent again after the restart with the same event ids, so Kafka holds a " +
    "few more records than lines but the index holds each line once.",
}, (r) =>
  withPipeline({
    label: "agentkill",
    sourceExtra: { glob: "app.log" },
  }, async (p, { dir, agent: first }) => {
    let agent = first;
    // SLUICE_FAULT_SEED replays the kill moments of a reported seed.
    const seed = Number(Deno.env.get("SLUICE_FAULT_SEED") ?? Date.now() % 100_000);
    const random = seededRandom(seed);
    const writeMs = (TOTAL / RATE) * 1000;
    const moments = Array.from({ length: KILLS }, () => (0.05 + 0.85 * random()) * writeMs)
      .sort((a, b) => a - b);
    const started = Date.now();
    const writer = new SeqWriter(`${dir}/app.log`, "app", {
      rate: RATE,
      total: TOTAL,
      rotateEvery: ROTATE_EVERY,
    });
    const kills: string[] = [];
    let recovered = 0, answeredAt = Date.now(), longestDown = 0;
    for (const at of moments) {
      await sleep(Math.max(0, started + at - Date.now(), answeredAt + MIN_ALIVE_MS - Date.now()));
      await agent.kill9();
      recovered += agent.grep(/while stopped; reading it to its end/).length;
      const line = writer.count;
      const t = Date.now();
      agent = await p.runningAgent();
      answeredAt = Date.now();
      longestDown = Math.max(longestDown, answeredAt - t);
      kills.push(`at line ${n(line)} (back in ${answeredAt - t} ms)`);
    }
    const written = await writer.done;
    const writeSeconds = (Date.now() - started) / 1000;
    const indexed = await p.waitIndexed("app", written);
    const indexedAfter = (Date.now() - started) / 1000 - writeSeconds;
    recovered += agent.grep(/while stopped; reading it to its end/).length;
    r.measured(
      `seed ${seed}; kills ${kills.join(", ")}`,
      `${writer.rotations} rotations; ${n(written)} lines written in ${
        writeSeconds.toFixed(0)
      } s ` +
        `(a file lived ~${((ROTATE_EVERY / written) * writeSeconds).toFixed(1)} s, the longest ` +
        `restart took ${longestDown} ms); all indexed ${
          indexedAfter.toFixed(1)
        } s after the last write`,
    );
    const records = await p.topicRecords();
    r.count(await p.tally("app", written));
    r.headline(
      `${recovered} files rotated away while the agent was dead were found again (agent log); ` +
        `Kafka holds ${n(records - written)} re-sent records, same ids`,
    );
    r.saw(
      `${recovered} × "… was rotated to app.log.N while stopped; reading it to its end" (agent log)`,
      `Kafka holds ${n(records)} records for ${n(written)} lines: ${
        n(records - written)
      } re-sent after the kills, same ids`,
      `final agent: sluice_agent_lines_acked_total ${
        n(await agent.metric("sluice_agent_lines_acked_total"))
      } since its start, /healthz ${(await agent.health()).status}`,
    );
    if (indexed < written) r.measured(`only ${n(indexed)} documents after waiting`);
  }));
