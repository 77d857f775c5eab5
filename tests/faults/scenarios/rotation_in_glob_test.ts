/**
 * Rotated names inside the glob, both rotation modes at once, with a `kill -9` of the agent in
 * the middle: read back from the index, every line once.
 */
import { sleep } from "../../../core/backoff.ts";
import { RotatingWriter } from "../../support/rotating_writer.ts";
import { inPipeline, n, scenario } from "../rig.ts";

const TOTAL = 100_000;
const RATE = 5_000;
const ROTATE_EVERY = 10_000;

await scenario({
  id: "rotation-in-glob",
  order: 14,
  title: `rotated names in the glob: rename and copytruncate, ${n(TOTAL)} lines each, a kill -9`,
  done: "An agent follows two sources whose globs match the rotated files too (`app.log*`, as " +
    "docs/agent.md recommends). In `ren` a writer renames `app.log` to `app.log.1` (older ones " +
    "move up) after every " + `${n(ROTATE_EVERY)} lines; in \`cpt\` it copies \`app.log\` to ` +
    "`app.log-20240501-N` (logrotate's dateext) and truncates it in place (copytruncate). Each " +
    `writes ${n(TOTAL)} numbered lines at ${n(RATE)} lines/s. Half-way the agent gets SIGKILL ` +
    "and is started again at once.",
  expected: "Every line exactly once in the index. A renamed file is the same file (device + " +
    "inode) under its new name; a copytruncate copy has the same first bytes and the same bytes " +
    "before the checkpointed offset as what was read of the original, so it continues that " +
    "checkpoint under its file id (its lines keep their event ids) instead of being read again " +
    "as a new file. Kafka may hold re-sent records from the kill, under the same ids.",
}, (r) =>
  inPipeline("rotglob", async (p) => {
    const ids = ["ren", "cpt"];
    for (const id of ids) await p.sourceDir(id);
    await p.put(...ids.map((id) => p.source(id, { glob: "app.log*" })));
    p.transfer();
    let agent = await p.runningAgent();
    const started = Date.now();
    const writers = [
      new RotatingWriter(`${p.dir}/ren/app.log`, "ren", {
        rate: RATE,
        total: TOTAL,
        rotateEvery: ROTATE_EVERY,
        mode: "rename",
      }),
      new RotatingWriter(`${p.dir}/cpt/app.log`, "cpt", {
        rate: RATE,
        total: TOTAL,
        rotateEvery: ROTATE_EVERY,
        mode: "copytruncate",
        dateext: true,
      }),
    ];
    await sleep((TOTAL / RATE) * 500);
    await agent.kill9();
    const killedAt = writers[0].count;
    const t = Date.now();
    agent = await p.runningAgent();
    const restartMs = Date.now() - t;
    const written = await Promise.all(writers.map((w) => w.done));
    const writeSeconds = (Date.now() - started) / 1000;
    const copies = agent.grep(/continues .* \(a copy of it/).length;
    for (const [i, id] of ids.entries()) {
      await p.waitIndexed(id, written[i]);
      r.count(await p.tally(id, written[i]));
    }
    const records = await p.topicRecords();
    r.measured(
      `${writers.map((w) => `${w.rotations} rotations`).join(" and ")} in ${
        writeSeconds.toFixed(0)
      } s; killed at line ${n(killedAt)}, back in ${restartMs} ms`,
    );
    r.headline(
      `copytruncate copies continued the original's checkpoint ${copies} times after the restart ` +
        "(agent log); rotated names in the glob were never read a second time",
    );
    r.saw(
      `Kafka holds ${n(records)} records for ${n(written[0] + written[1])} lines (re-sent after ` +
        "the kill, same ids)",
      `agent log: ${copies} × "… continues … (a copy of it: the same first bytes and the same bytes before offset …)"`,
    );
  }));
