/**
 * `deno task bench`: throughput, latency and memory of sluice next to a peer measured in the same
 * run (kcat, rsyslog, a direct bulk loader), against the real local stack. Writes
 * `bench/results/latest.json` (one object per measure), `bench/results/latest.md` and the plot,
 * and on a full run the generated part of `docs/BENCHMARKS.md`. Hold the stack lock while it runs:
 * `flock /tmp/sluice-stack.lock deno task bench`.
 * @module
 */
import { parseCommand, runMain } from "../core/cli.ts";
import { endpointsFromEnv } from "../core/endpoints.ts";
import { InvalidInputError } from "../core/errors.ts";
import { ensureStack, stopStack } from "../stack/mod.ts";
import { type BenchContext, FULL_SIZES, QUICK_SIZES, type Scenario } from "./context.ts";
import { ensurePeers, librdkafkaVersion } from "./peers.ts";
import { parseCompression } from "../kafka/producer.ts";
import {
  factsTable,
  type ProgramSummary,
  programTable,
  resultsTable,
  spliceGenerated,
} from "./report.ts";
import { agentKafka } from "./scenarios/agent_kafka.ts";
import { latencyScenario } from "./scenarios/latency.ts";
import { memoryScenario } from "./scenarios/memory.ts";
import { clusterPropagationScenario, propagationScenario } from "./scenarios/propagation.ts";
import { transferScenario } from "./scenarios/transfer.ts";
import { type BenchResult, failedResult } from "./stats.ts";
import { BenchTopics } from "./topics.ts";

const SCENARIOS: Scenario[] = [
  agentKafka,
  transferScenario,
  latencyScenario,
  propagationScenario,
  clusterPropagationScenario,
  memoryScenario,
];

const spec = {
  name: "deno task bench",
  summary: "Benchmark sluice against peers measured in the same run, on the local stack.",
  usage: "[--quick] [--only SCENARIO]...",
  options: {
    quick: {
      type: "boolean",
      description: "Small sizes and one run each: under 3 minutes, for CI-sized checks.",
    },
    only: {
      type: "string",
      multiple: true,
      arg: "SCENARIO",
      description: `Run only this scenario (repeatable): ${
        SCENARIOS.map((s) => s.name).join(", ")
      }.`,
    },
    profile: {
      type: "string",
      arg: "DIR",
      description: "Write V8 CPU profiles of the agent and transfer processes to DIR " +
        "(summarise with bench/profile_summary.ts). Slows them down: not for the report.",
    },
    compression: {
      type: "string",
      arg: "CODEC",
      description:
        "Codec of the agent and the peers (gzip, the default; zstd, lz4, snappy, none): " +
        "to compare codecs; write elsewhere than a full run's results (with --quick or --no-docs).",
    },
    render: {
      type: "boolean",
      description: "Run nothing: rewrite latest.md and docs/BENCHMARKS.md from latest.json.",
    },
    "no-docs": {
      type: "boolean",
      description: "Do not rewrite the generated part of docs/BENCHMARKS.md (a full run does).",
    },
  },
  epilog: [
    "Scenarios:",
    ...SCENARIOS.map((s) => `  ${s.name.padEnd(12)} ${s.summary}`),
    "",
    "Run it holding the stack lock (other tests stop and restart services):",
    "  flock /tmp/sluice-stack.lock deno task bench --quick",
    "The peers (Debian kcat, rsyslog, rsyslog-kafka) are installed with apt-get when missing.",
    "Output: bench/results/latest.json, latest.md, throughput.svg and docs/BENCHMARKS.md on full",
    "runs; quick.json, quick.md, quick-throughput.svg with --quick (a full run's results stay).",
    "Micro-benchmarks of pure code run with `deno bench` (e.g. bench/fold_bench.ts).",
  ].join("\n"),
} as const;

const ROOT = new URL("..", import.meta.url).pathname;
const RESULTS_DIR = `${ROOT}bench/results`;
const DOC = `${ROOT}docs/BENCHMARKS.md`;
const started = performance.now();

function progress(line: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  console.log(`[${s} s] ${line}`);
}

async function firstLine(path: string, pattern: RegExp): Promise<string | undefined> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return pattern.exec(text)?.[1]?.trim();
}

async function machineFacts(): Promise<Record<string, string>> {
  const memKb = Number(await firstLine("/proc/meminfo", /^MemTotal:\s+(\d+)/m));
  return {
    cpu: (await firstLine("/proc/cpuinfo", /^model name\s*:\s*(.+)$/m)) ?? "unknown",
    cores: String(navigator.hardwareConcurrency),
    memory: `${(memKb / 1024 / 1024).toFixed(1)} GiB`,
    os: (await firstLine("/etc/os-release", /^PRETTY_NAME="?([^"\n]+)"?/m)) ?? Deno.build.os,
    kernel: Deno.osRelease(),
  };
}

interface LatestFile {
  meta: Record<string, unknown>;
  results: BenchResult[];
}

function detailsTable(results: readonly BenchResult[]): string {
  const rows: (ProgramSummary & { variant: string })[] = [];
  for (const r of results) {
    const d = r.details as { files?: number; programs?: ProgramSummary[] } | undefined;
    if (r.scenario !== "agent-kafka" || !d?.programs) continue;
    for (const p of d.programs) rows.push({ ...p, variant: String(d.files) });
  }
  return rows.length ? programTable(rows) : "";
}

/** Which scenarios were measured when, if not all in one invocation. */
function measuredNote(measured: Record<string, string>): string {
  const byDate = new Map<string, string[]>();
  for (const [scenario, date] of Object.entries(measured)) {
    byDate.set(date, [...(byDate.get(date) ?? []), scenario]);
  }
  if (byDate.size <= 1) return "";
  return " Measured: " +
    [...byDate].sort().map(([date, list]) => `${list.join(", ")} on ${date}`).join("; ") + ".";
}

function renderMarkdown(latest: LatestFile): string {
  const meta = latest.meta as {
    date: string;
    measured?: Record<string, string>;
    quick: boolean;
    machine: Record<string, string>;
    versions: Record<string, string>;
    sizes: Record<string, unknown>;
    seconds: number;
  };
  const parts = [
    `Generated by \`deno task bench${meta.quick ? " --quick" : ""}\` on ${meta.date} ` +
    `(${Math.round(meta.seconds)} s).` + measuredNote(meta.measured ?? {}),
    "",
    "### Results",
    "",
    resultsTable(latest.results),
  ];
  const details = detailsTable(latest.results);
  if (details) {
    parts.push("", "### agent → Kafka, every program (medians)", "", details);
  }
  const failed = latest.results.filter((r) => r.error);
  if (failed.length) {
    parts.push("", "### Errors", "");
    for (const r of failed) parts.push(`- ${r.name}: ${r.error!.replaceAll("\n", "; ")}`);
  }
  parts.push(
    "",
    "### Machine",
    "",
    factsTable(meta.machine),
    "",
    "### Versions",
    "",
    factsTable(meta.versions),
  );
  return parts.join("\n") + "\n";
}

async function readLatest(base: string): Promise<LatestFile | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(`${RESULTS_DIR}/${base}.json`));
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const { values } = parseCommand(spec, Deno.args);
  const quick = values.quick === true;
  const only = (values.only as string[] | undefined) ?? [];
  for (const name of only) {
    if (!SCENARIOS.some((s) => s.name === name)) {
      throw new InvalidInputError(
        `unknown scenario '${name}'; choose from ${SCENARIOS.map((s) => s.name).join(", ")}`,
      );
    }
  }
  if (values.render) {
    const latest = await readLatest("latest");
    if (!latest) throw new InvalidInputError(`no ${RESULTS_DIR}/latest.json to render`);
    const markdown = renderMarkdown(latest);
    await Deno.writeTextFile(`${RESULTS_DIR}/latest.md`, markdown);
    const page = await Deno.readTextFile(DOC).catch(() => "# Benchmarks\n");
    await Deno.writeTextFile(DOC, spliceGenerated(page, markdown));
    progress(`rewrote ${RESULTS_DIR}/latest.md and ${DOC} from latest.json`);
    return 0;
  }
  const chosen = only.length ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
  const sizes = quick ? QUICK_SIZES : FULL_SIZES;
  const endpoints = endpointsFromEnv();

  progress(`sluice benchmarks${quick ? " (quick)" : ""}: ${chosen.map((s) => s.name).join(", ")}`);
  const stack = await ensureStack({ endpoints, progress: (line) => progress(`stack: ${line}`) });
  const peerVersions = await ensurePeers(progress);
  const librdkafka = await librdkafkaVersion();
  const versions: Record<string, string> = {
    sluice: JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).version,
    deno: `${Deno.version.deno} (V8 ${Deno.version.v8})`,
    ...Object.fromEntries(stack.statuses.map((s) => [s.name, s.version ?? "unknown"])),
    ...peerVersions,
    librdkafka: librdkafka ?? "unknown",
  };
  const tmp = await Deno.makeTempDir({ prefix: "sluice-bench-" });
  const topics = await BenchTopics.connect(endpoints.kafka);
  const leftovers = await topics.deleteLeftovers();
  if (leftovers.length) progress(`deleted ${leftovers.length} topics left by an interrupted run`);
  // Indices and templates of an interrupted run (every bench index prefix starts with "bench-").
  await fetch(`${endpoints.search}/bench-*?expand_wildcards=all`, { method: "DELETE" })
    .then((r) => r.body?.cancel()).catch(() => {});
  await fetch(`${endpoints.search}/_index_template/bench-*`, { method: "DELETE" })
    .then((r) => r.body?.cancel()).catch(() => {});
  const ctx: BenchContext = {
    endpoints,
    sizes,
    quick,
    tmp,
    topics,
    peerSettings: {
      compression: parseCompression((values.compression as string | undefined) ?? "gzip"),
      lingerMs: 10,
      batchBytes: 1_000_000,
    },
    versions,
    progress,
    artifacts: new Map(),
    profileDir: values.profile as string | undefined,
  };
  if (ctx.profileDir) await Deno.mkdir(ctx.profileDir, { recursive: true });
  const results: BenchResult[] = [];
  try {
    for (const scenario of chosen) {
      progress(`== ${scenario.name}: ${scenario.summary}`);
      try {
        results.push(...await scenario.run(ctx));
      } catch (error) {
        progress(`scenario ${scenario.name} failed: ${(error as Error).message}`);
        results.push(failedResult(scenario.name, scenario.summary, (error as Error).message));
      }
    }
  } finally {
    await topics.close();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    if (stack.started.length) await stopStack(stack);
  }

  // --only replaces its scenarios' rows in the previous results of the same kind (quick or full).
  const previous = only.length ? await readLatest(quick ? "quick" : "latest") : undefined;
  const kept = previous && previous.meta.quick === quick
    ? previous.results.filter((r) => !chosen.some((s) => s.name === r.scenario))
    : [];
  const order = (r: BenchResult) => SCENARIOS.findIndex((s) => s.name === r.scenario);
  const all = [...kept, ...results].sort((a, b) => order(a) - order(b));
  const now = new Date().toISOString();
  // When each scenario's rows were measured (rows kept from an earlier run keep its date).
  const measured: Record<string, string> = {};
  for (const r of kept) {
    const earlier = (previous?.meta.measured as Record<string, string> | undefined)?.[r.scenario];
    measured[r.scenario] = earlier ?? String(previous?.meta.date);
  }
  for (const s of chosen) measured[s.name] = now;
  const latest: LatestFile = {
    meta: {
      date: now,
      measured,
      quick,
      scenarios: chosen.map((s) => s.name),
      seconds: (performance.now() - started) / 1000,
      machine: await machineFacts(),
      versions,
      sizes,
      peer_producer_settings: ctx.peerSettings,
      sluice_agent_settings:
        "defaults of deno task agent (gzip, linger 10 ms, 1 request in flight)",
    },
    results: all,
  };
  console.log("\n" + resultsTable(results));
  if (ctx.profileDir) {
    // Profiled processes run slower: their numbers must not replace real results.
    progress(`CPU profiles in ${ctx.profileDir}; no results written`);
    return results.some((r) => r.error) ? 1 : 0;
  }
  // A quick run writes quick.* so that it never replaces the results of a full run.
  const base = quick ? "quick" : "latest";
  await Deno.mkdir(RESULTS_DIR, { recursive: true });
  await Deno.writeTextFile(`${RESULTS_DIR}/${base}.json`, JSON.stringify(latest, null, 2) + "\n");
  for (const [name, content] of ctx.artifacts) {
    await Deno.writeTextFile(`${RESULTS_DIR}/${quick ? `quick-${name}` : name}`, content);
  }
  const markdown = renderMarkdown(latest);
  await Deno.writeTextFile(`${RESULTS_DIR}/${base}.md`, markdown);
  if (!quick && !values["no-docs"] && !ctx.profileDir) {
    const page = await Deno.readTextFile(DOC).catch(() => "# Benchmarks\n");
    await Deno.writeTextFile(DOC, spliceGenerated(page, markdown));
    progress(`updated ${DOC}`);
  }
  progress(`wrote ${RESULTS_DIR}/${base}.json and ${base}.md`);
  return results.some((r) => r.error) ? 1 : 0;
}

if (import.meta.main) await runMain(main);
