/**
 * Starting the programs under test as real processes: the sluice agent (`agent/main.ts`, given
 * its sources through a throwaway config-plane prefix in etcd), the transfer
 * (`transfer/main.ts`), `kcat -P` (fed through a FIFO so it stays alive until the bench has
 * read its CPU time and memory) and a foreground rsyslogd with imfile → omkafka.
 * @module
 */
import type { Endpoints } from "../core/endpoints.ts";
import { openConfigPlane } from "../config_plane/mod.ts";
import type { Source } from "../config_plane/types.ts";
import { kcatArgs, type PeerProducerSettings, rsyslogConfig } from "./peers.ts";
import {
  answers200,
  assertRunning,
  type Child,
  freePort,
  spawnLogged,
  waitFor,
} from "../core/child.ts";

export const REPO_ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();

/**
 * The `deno run` flags of a deno.json task that runs `entry` (e.g. V8 flags of `deno task agent`),
 * so the bench starts the program as the task does.
 *
 * @example
 * ```ts
 * import { taskRunFlags } from "./programs.ts";
 * taskRunFlags("deno run -A --v8-flags=--max-semi-space-size=1 agent/main.ts", "agent/main.ts");
 * // ["-A", "--v8-flags=--max-semi-space-size=1"]
 * ```
 */
export function taskRunFlags(task: string, entry: string): string[] {
  const words = task.trim().split(/\s+/);
  const run = words.indexOf("run");
  const at = words.indexOf(entry);
  if (words[0] !== "deno" || run < 0 || at < run) {
    throw new Error(`the task '${task}' does not run ${entry} with deno run`);
  }
  return words.slice(run + 1, at);
}

/** The `deno run` flags of this repository's deno.json task `name`, which runs `entry`. */
export async function taskFlags(name: string, entry: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`));
  return taskRunFlags(config.tasks[name], entry);
}

/** deno flags writing a CPU profile named after `what` into `dir` (none without a dir). */
function profileFlags(dir: string | undefined, what: string): string[] {
  if (!dir) return [];
  return [
    "--cpu-prof",
    `--cpu-prof-dir=${dir}`,
    `--cpu-prof-name=${what}-${Date.now()}.cpuprofile`,
  ];
}

/**
 * Starts `<task>/main.ts` as its deno.json task runs it (its deno flags included) with `args`, its
 * metrics on a free port, then `extraArgs`; output goes to `<workDir>/<task>.log`. Resolves once
 * its /healthz answers 200; otherwise stops it (SIGKILL after `graceMs`) and throws.
 */
async function startProgram(
  task: "agent" | "transfer",
  args: string[],
  options: { workDir: string; extraArgs?: string[]; profileDir?: string },
  graceMs: number,
): Promise<{ child: Child; metricsPort: number }> {
  const entry = `${task}/main.ts`;
  const metricsPort = freePort();
  const child = await spawnLogged(`sluice ${task}`, DENO, [
    "run",
    ...await taskFlags(task, entry),
    ...profileFlags(options.profileDir, task),
    `${REPO_ROOT}${entry}`,
    ...args,
    "--metrics-addr",
    `127.0.0.1:${metricsPort}`,
    ...(options.extraArgs ?? []),
  ], { log: `${options.workDir}/${task}.log`, env: { SLUICE_LOG_LEVEL: "warning" } });
  try {
    await waitFor(`the ${task}'s /healthz to answer 200`, async () => {
      await assertRunning(child);
      return await answers200(`http://127.0.0.1:${metricsPort}/healthz`);
    }, { timeoutMs: 60_000 });
  } catch (error) {
    await child.stop(graceMs);
    throw error;
  }
  return { child, metricsPort };
}

/** A name unique to this run (lowercase, safe for topics, prefixes and indices). */
export function uniqueName(label: string): string {
  return `bench-${label}-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 6)}`;
}

export interface RunningAgent {
  child: Child;
  metricsPort: number;
  /** The etcd prefix holding its config. */
  prefix: string;
  /** Appends a new desired state (all sources replaced). */
  apply(sources: Source[], message: string): Promise<number>;
  /** Stops the process and deletes its config prefix. */
  stop(): Promise<void>;
}

/**
 * Starts `agent/main.ts` with its config (the sources) in a fresh etcd prefix, and waits until
 * its /healthz says the config runs.
 */
export async function startAgent(options: {
  endpoints: Endpoints;
  workDir: string;
  sources: Source[];
  agentId?: string;
  extraArgs?: string[];
  /** Where to write a V8 CPU profile of the process (deno --cpu-prof), if anywhere. */
  profileDir?: string;
}): Promise<RunningAgent> {
  const prefix = `/${uniqueName("cfg")}`;
  const plane = openConfigPlane({ endpoints: options.endpoints.etcd, prefix });
  let head = 0;
  const apply = async (sources: Source[], message: string) => {
    const state = { sources };
    const { event } = await plane.append({
      base: head,
      ops: [{ op: "replace", state }],
      author: "bench",
      message,
    });
    head = event.seq;
    return head;
  };
  await apply(options.sources, "benchmark sources");
  const forget = async () => {
    await plane.kv.delete().all().catch(() => {});
    plane.close();
  };
  const { child, metricsPort } = await startProgram(
    "agent",
    [
      "--agent-id",
      options.agentId ?? "bench-agent",
      "--prefix",
      prefix,
      "--etcd",
      options.endpoints.etcd.join(","),
      "--kafka",
      options.endpoints.kafka.join(","),
      "--checkpoint-dir",
      `${options.workDir}/checkpoints`,
    ],
    options,
    15_000,
  ).catch(async (error) => {
    await forget(); // startProgram stopped the process; its config prefix is left
    throw error;
  });
  const stop = async () => {
    await child.stop();
    await forget();
  };
  return { child, metricsPort, prefix, apply, stop };
}

/** A sluice source reading every `*.log` of `dir` from the start into `topic`. */
export function benchSource(id: string, dir: string, topic: string): Source {
  return { id, paths: [`${dir}/*.log`], topic, start_at: "beginning" };
}

/**
 * Starts `kcat -P -l FILE`: kcat reads the lines, sends them and exits once every one is
 * acknowledged. (kcat reads its input in blocks, so a pipe or FIFO kept open would hold the last
 * lines back: it gets a plain file.)
 */
export async function startKcat(options: {
  workDir: string;
  brokers: string[];
  topic: string;
  file: string;
  settings: PeerProducerSettings;
}): Promise<Child> {
  return await spawnLogged(
    "kcat",
    "kcat",
    kcatArgs(options.brokers, options.topic, options.file, options.settings),
    { log: `${options.workDir}/kcat.log` },
  );
}

export interface RunningRsyslog {
  child: Child;
  stop(): Promise<void>;
}

/** Starts `rsyslogd -n` with its own config, pid file and imfile state dir under `workDir`. */
export async function startRsyslog(options: {
  workDir: string;
  files: string;
  brokers: string[];
  topic: string;
  settings: PeerProducerSettings;
}): Promise<RunningRsyslog> {
  const state = `${options.workDir}/rsyslog-state`;
  await Deno.mkdir(state, { recursive: true });
  const conf = `${options.workDir}/rsyslog.conf`;
  const pidFile = `${options.workDir}/rsyslog.pid`;
  await Deno.writeTextFile(
    conf,
    rsyslogConfig({
      workDir: state,
      files: options.files,
      brokers: options.brokers,
      topic: options.topic,
      settings: options.settings,
    }),
  );
  const child = await spawnLogged("rsyslogd", "rsyslogd", ["-n", "-f", conf, "-i", pidFile], {
    log: `${options.workDir}/rsyslog.log`,
  });
  const stop = async () => {
    await child.stop(15_000);
  };
  try {
    await waitFor("rsyslogd's pid file", async () => {
      await assertRunning(child);
      return await Deno.stat(pidFile).then(() => true, () => false);
    }, { timeoutMs: 15_000 });
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, stop };
}

/**
 * Starts `bench/line_writer.ts`: `rate` lines/s for `seconds`, dealt over `files` files in `dir`,
 * each line tagged `tag` (and every `probeEvery`-th a search probe), logging to `log`.
 */
export function startLineWriter(options: {
  dir: string;
  files: number;
  rate: number;
  seconds: number;
  tag: string;
  probeEvery?: number;
  log: string;
}): Promise<Child> {
  const { dir, files, rate, seconds, tag, probeEvery, log } = options;
  return spawnLogged("line writer", Deno.execPath(), [
    "run",
    "-A",
    `${REPO_ROOT}bench/line_writer.ts`,
    ...["--dir", dir, "--files", String(files), "--rate", String(rate)],
    ...["--seconds", String(seconds), "--tag", tag],
    ...(probeEvery ? ["--probe-every", String(probeEvery)] : []),
  ], { log });
}

/**
 * Starts `transfer/main.ts` on `topic` with its own group and index prefix; resolves once its
 * /healthz answers 200.
 */
export async function startTransfer(options: {
  endpoints: Endpoints;
  workDir: string;
  topic: string;
  group: string;
  indexPrefix: string;
  extraArgs?: string[];
  profileDir?: string;
}): Promise<{ child: Child; metricsPort: number; stop(): Promise<void> }> {
  const { child, metricsPort } = await startProgram(
    "transfer",
    [
      "--topic",
      options.topic,
      "--group",
      options.group,
      "--index-prefix",
      options.indexPrefix,
      "--dead-letter-topic",
      `${options.topic}-dlq`,
      "--brokers",
      options.endpoints.kafka.join(","),
      "--search-url",
      options.endpoints.search,
      "--index-replicas",
      "0",
    ],
    options,
    20_000,
  );
  const stop = async () => {
    await child.stop(20_000);
  };
  return { child, metricsPort, stop };
}

/** One counter's value from a Prometheus text page (summed over its label sets), or 0. */
export function metricValue(page: string, name: string): number {
  let sum = 0;
  for (const line of page.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** GET /metrics of a local process; "" when it does not answer. */
export async function scrape(port: number): Promise<string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
      signal: AbortSignal.timeout(2_000),
    });
    return await response.text();
  } catch {
    return "";
  }
}
