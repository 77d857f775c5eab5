/**
 * The agent's checkpoint directory becomes read-only, or full, while lines flow; later it is
 * writable again. Root ignores file permissions, so the suite uses what the kernel enforces for
 * root too: a read-only bind mount (or `chattr +i`) and a small tmpfs filled up.
 */
import { sleep } from "../../../core/backoff.ts";
import { waitFor } from "../../../core/child.ts";
import {
  inPipeline,
  n,
  type Proc,
  quote,
  type Recorder,
  sampler,
  scenario,
  SeqWriter,
  until,
} from "../rig.ts";
import { growth, samplesIn } from "../series.ts";
import { UNSAVED_PER_INFLIGHT } from "../../../agent/tail_task.ts";

const RATE = 1_000;
const FAULT_MS = 12_000;
const INFLIGHT = 256 * 1024;
/** The agent reads 256 KiB at a time; one read may pass the in-flight bound. */
const READ_CHUNK = 256 * 1024;

/** The last failure of `sh`, for the scenario's error message. */
let lastShError = "";

async function sh(...command: string[]): Promise<boolean> {
  const out = await new Deno.Command(command[0], {
    args: command.slice(1),
    stdout: "null",
    stderr: "piped",
  }).output().catch((error) => ({ success: false, stderr: new TextEncoder().encode(`${error}`) }));
  if (!out.success) {
    lastShError = `${command.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`;
  }
  return out.success;
}

/**
 * Makes the bind mount at `dir` read-only. The remount is refused ("mount point is busy") while a
 * file on it is open for writing, which is the case for the moment the agent saves a checkpoint
 * there (temp file, fsync, rename, every 200 ms): tried again for up to 2 s.
 */
function remountReadOnly(dir: string): Promise<boolean> {
  return waitFor(`a read-only remount of ${dir}`, () => sh("mount", "-o", "remount,bind,ro", dir), {
    timeoutMs: 2_000,
    intervalMs: 50,
  }).catch(() => false);
}

async function canWrite(dir: string): Promise<boolean> {
  try {
    await Deno.writeTextFile(`${dir}/.probe`, "x");
    await Deno.remove(`${dir}/.probe`);
    return true;
  } catch {
    return false;
  }
}

/** A way to make a directory read-only for root, and to undo it. */
interface Mechanism {
  name: string;
  apply(dir: string): Promise<boolean>;
  undo(dir: string): Promise<boolean>;
}

const READ_ONLY: Mechanism[] = [
  {
    name: "a read-only bind mount of the directory onto itself",
    apply: async (dir) =>
      await sh("mount", "--bind", dir, dir) &&
      (await remountReadOnly(dir) || (await sh("umount", dir), false)),
    undo: (dir) => sh("umount", dir),
  },
  {
    name: "`chattr +i` on the directory (immutable: no file can be created or renamed in it)",
    apply: (dir) => sh("chattr", "+i", dir),
    undo: (dir) => sh("chattr", "-i", dir),
  },
];

/** The first mechanism that works here (tried on a scratch directory), or undefined. */
async function readOnlyMechanism(): Promise<Mechanism | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-ro-probe-" });
  try {
    for (const m of READ_ONLY) {
      if (!(await m.apply(dir))) continue;
      const refused = !(await canWrite(dir));
      const undone = await m.undo(dir);
      if (refused && undone && await canWrite(dir)) return m;
    }
    return undefined;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function tmpfsWorks(): Promise<boolean> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-tmpfs-probe-" });
  try {
    if (!(await sh("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir))) return false;
    await sh("umount", dir);
    return true;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Offsets in the agent's checkpoint file of source `app`, by path. */
async function checkpointOffsets(dir: string): Promise<Record<string, number>> {
  const text = await Deno.readTextFile(`${dir}/app.json`);
  const parsed = JSON.parse(text) as { files: { path: string; offset: number }[] };
  return Object.fromEntries(parsed.files.map((f) => [f.path, f.offset]));
}

/**
 * The shared body: lines flow, `breakIt` takes the checkpoint directory away for FAULT_MS,
 * `fixIt` gives it back; what the agent showed meanwhile goes into the row.
 */
async function runFault(
  r: Recorder,
  label: string,
  prepare: (checkpoints: string) => Promise<void>,
  breakIt: (checkpoints: string) => Promise<void>,
  fixIt: (checkpoints: string) => Promise<void>,
  cleanup: (checkpoints: string) => Promise<void>,
): Promise<void> {
  await inPipeline(label, async (p) => {
    const checkpoints = `${p.dir}/checkpoints`;
    let broken = false;
    let writer: SeqWriter | undefined;
    try {
      await Deno.mkdir(checkpoints);
      await prepare(checkpoints);
      const dir = await p.sourceDir("app");
      await p.put(p.source("app"));
      p.transfer();
      const agent: Proc = await p.runningAgent({
        checkpointDir: checkpoints,
        extraArgs: ["--max-inflight-bytes", String(INFLIGHT)],
      });
      const path = `${dir}/app.log`;
      writer = new SeqWriter(path, "app", { rate: RATE });
      const read = sampler(() => agent.metric("sluice_agent_bytes_read_total"));
      await sleep(3_000);
      await breakIt(checkpoints);
      broken = true;
      const t0 = Date.now();
      await until(
        "a failed checkpoint save",
        async () => (await agent.metric("sluice_agent_checkpoint_errors_total")) > 0,
        10_000,
      );
      const held = (await checkpointOffsets(checkpoints))[path] ?? 0;
      await sleep(Math.max(0, t0 + FAULT_MS - Date.now()));
      const errors = await agent.metric("sluice_agent_checkpoint_errors_total");
      const heldAfter = (await checkpointOffsets(checkpoints))[path] ?? 0;
      const readBytes = await agent.metric("sluice_agent_bytes_read_total");
      const [me] = await p.agents();
      const source = me?.sources.app;
      const readLate = growth(read.points, t0 + FAULT_MS / 2, Date.now());
      const lateSamples = samplesIn(read.points, t0 + FAULT_MS / 2, Date.now());
      await fixIt(checkpoints);
      broken = false;
      const fixed = Date.now();
      await until(
        "the checkpoint moves again",
        async () => ((await checkpointOffsets(checkpoints))[path] ?? 0) > heldAfter,
        15_000,
      );
      const resumedS = (Date.now() - fixed) / 1000;
      await sleep(2_000);
      const written = await writer.stop();
      await read.stop();
      await p.waitIndexed("app", written);
      r.count(await p.tally("app", written));
      const after = (await p.agents())[0]?.sources.app;
      r.measured(
        `checkpoint offset while the directory was unusable: ${n(held)} → ${
          n(heldAfter)
        } (unchanged: ${held === heldAfter}); bytes read beyond it: ${
          n(readBytes - heldAfter)
        } (bound: ${n(INFLIGHT)} unacknowledged + ${
          n(INFLIGHT * UNSAVED_PER_INFLIGHT)
        } acknowledged and not saved + one ${n(READ_CHUNK)} read)`,
        `bytes read in the second half of the ${FAULT_MS / 1000} s fault: ${
          n(readLate)
        } (${lateSamples} samples)`,
        `checkpoint saved again ${resumedS.toFixed(1)} s after the directory was writable; ${
          n(written)
        } lines written in all`,
      );
      r.headline(
        `ERR "cannot save checkpoints …", checkpoint_errors_total ${n(errors)}, ` +
          `source \`${source?.state}\` in its status; checkpoint held`,
      );
      r.saw(
        `agent: sluice_agent_checkpoint_errors_total ${n(errors)} in ${
          FAULT_MS / 1000
        } s (retried at least every second)`,
        `etcd status key: source app \`${source?.state}\`, last_error \`${
          source?.last_error?.slice(0, 160)
        }\``,
        ...quote(agent.grep(/\[ERR\].*cannot save checkpoints/), 1, "agent"),
        `after the fix: status \`${after?.state}\`; ${
          agent.grep(/checkpoints are saved again/).length
        } × "checkpoints are saved again" (agent log)`,
      );
      if (lateSamples < 10) throw new Error(`only ${lateSamples} samples of bytes read`);
      if (readLate > READ_CHUNK) throw new Error(`read ${readLate} bytes late in the fault`);
      if (held !== heldAfter) throw new Error(`the checkpoint moved from ${held} to ${heldAfter}`);
      if (readBytes - heldAfter > INFLIGHT * (1 + UNSAVED_PER_INFLIGHT) + READ_CHUNK) {
        throw new Error(`read ${readBytes - heldAfter} bytes past the checkpoint`);
      }
      if (source?.state !== "error" || !source.last_error?.includes("cannot save checkpoints")) {
        throw new Error(`the status key did not show the error: ${JSON.stringify(source)}`);
      }
      if (after?.state !== "running") throw new Error(`state after the fix: ${after?.state}`);
    } finally {
      // A writer still running when the directory is removed would fail with an uncaught error
      // that hides the scenario's own.
      await writer?.stop().catch(() => {});
      if (broken) await fixIt(checkpoints).catch(() => {});
      await cleanup(checkpoints).catch(() => {});
    }
  });
}

const readOnly = await readOnlyMechanism();

await scenario({
  id: "checkpoint-read-only",
  order: 6,
  title: "the checkpoint directory becomes read-only for 12 s",
  skip: readOnly ? undefined : "neither a read-only bind mount nor `chattr +i` works here",
  done: `An agent (in-flight bound ${n(INFLIGHT)} B) tails a file written at ${n(RATE)} lines/s. ` +
    `After 3 s its checkpoint directory is made read-only (${
      readOnly?.name ?? "no mechanism"
    }) for ${FAULT_MS / 1000} s, then writable again; the writer goes on throughout.`,
  expected: "The agent says so loudly — an error in its log, " +
    "`sluice_agent_checkpoint_errors_total` rising, the source in state `error` with the " +
    "message in its etcd status — keeps retrying (at least every second), and does not advance: the " +
    "checkpoint stays where it was and reading stops at the in-flight bound. Once the directory " +
    "is writable it saves, reads on, and nothing is lost or duplicated.",
}, (r) =>
  runFault(
    r,
    "cpreadonly",
    () => Promise.resolve(),
    async (dir) => {
      if (!(await readOnly!.apply(dir))) {
        throw new Error(`could not apply ${readOnly!.name} (${lastShError})`);
      }
    },
    async (dir) => {
      if (!(await readOnly!.undo(dir))) throw new Error(`could not undo ${readOnly!.name}`);
    },
    () => Promise.resolve(),
  ));

const tmpfs = await tmpfsWorks();

await scenario({
  id: "checkpoint-full",
  order: 7,
  title: "the checkpoint disk is full for 12 s",
  skip: tmpfs ? undefined : "a tmpfs cannot be mounted here",
  done: "As above, but the checkpoint directory is a 256 KiB tmpfs, and after 3 s a filler " +
    `file takes all its free space for ${FAULT_MS / 1000} s (ENOSPC), then is deleted.`,
  expected: "As for a read-only directory: loud error, no checkpoint advance, reading held at " +
    "the in-flight bound, and afterwards nothing lost or duplicated.",
}, (r) =>
  runFault(
    r,
    "cpfull",
    async (dir) => {
      if (!(await sh("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir))) {
        throw new Error("could not mount a tmpfs");
      }
    },
    async (dir) => {
      const file = await Deno.open(`${dir}/filler`, { write: true, create: true });
      try {
        const block = new Uint8Array(4096);
        while (true) await file.write(block);
      } catch (error) {
        if (!String(error).includes("No space left")) throw error;
      } finally {
        file.close();
      }
    },
    (dir) => Deno.remove(`${dir}/filler`),
    async (dir) => {
      await sh("umount", dir);
    },
  ));
