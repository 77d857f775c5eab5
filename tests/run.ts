/**
 * The project's test command (`deno task test`): format, lint and type checks, unit tests, then
 * integration tests against the real local stack, which it starts when it is not running and
 * stops again afterwards. Its last line is `N passed, N failed`, the line CI reads.
 * @module
 */
import { parseCommand, runMain } from "../core/cli.ts";
import {
  ENGINE_PORTS,
  ensureStack,
  formatStatusTable,
  type StackHandle,
  stopStack,
} from "../stack/mod.ts";

const spec = {
  name: "deno task test",
  summary:
    "Run every check and test of sluice: fmt, lint, type check, unit tests and doc examples, integration.",
  usage: "[--unit | --integration | --faults] [--filter TEXT]",
  options: {
    unit: { type: "boolean", description: "Only the checks and the unit tests (no services)." },
    integration: {
      type: "boolean",
      description: "Only the integration tests (starts the local stack when needed).",
    },
    faults: {
      type: "boolean",
      description: "Only the fault suite (tests/faults/; writes docs/RELIABILITY.md).",
    },
    filter: { type: "string", arg: "TEXT", description: "Only tests whose name contains TEXT." },
    "keep-stack": {
      type: "boolean",
      description: "Leave a stack this run started running afterwards.",
    },
  },
  epilog: [
    "Integration tests run against etcd, Kafka and OpenSearch on their standard loopback ports,",
    "or where SLUICE_ETCD_ENDPOINTS, SLUICE_KAFKA_BROKERS and SLUICE_SEARCH_URL point; the tests",
    "that index or search, and the engine fault scenarios, run a second time against the local",
    "Elasticsearch 8 (127.0.0.1:9220), their names marked [elasticsearch].",
    "Exit code 0 when nothing failed, 1 otherwise.",
  ].join("\n"),
} as const;

interface Tally {
  passed: number;
  failed: number;
  /** Ignored tests: never counted as passed, always named in the summary. */
  skipped: string[];
  failures: Failure[];
}

/** A failed test or step, with the first lines of why (repeated in the summary). */
export interface Failure {
  name: string;
  reason: string;
}

/** Lines of a failure's reason the summary repeats: CI often shows only the end of the output. */
const REASON_LINES = 12;

const root = new URL("..", import.meta.url).pathname;
const deno = Deno.execPath();

/**
 * The tests that index or search, run a second time against the local Elasticsearch 8 (the first
 * run, with the rest, is against OpenSearch 2): each file once per engine, not the whole suite
 * twice. The transfer's index, replay, crash, outage, dead-letter, retention and upgrade tests,
 * event time's date shards, a search URL listing a node that does not answer, and the console's
 * log search (API, browser, live).
 */
export const ENGINE_INTEGRATION_TESTS = [
  "tests/integration/agent_event_time_test.ts",
  "tests/integration/search_nodes_test.ts",
  "tests/integration/transfer_upgrade_test.ts",
  "tests/integration/transfer_index_test.ts",
  "tests/integration/transfer_crash_test.ts",
  "tests/integration/transfer_outage_test.ts",
  "tests/integration/transfer_dead_letter_test.ts",
  "tests/integration/transfer_retention_test.ts",
  "tests/integration/console_api_test.ts",
  "tests/integration/console_browser_test.ts",
  "tests/integration/console_live_test.ts",
];

/** The fault scenarios that involve the engine, run once per engine likewise. */
export const ENGINE_FAULT_SCENARIOS = [
  "tests/faults/scenarios/opensearch_outage_test.ts",
  "tests/faults/scenarios/transfer_kill_test.ts",
];

/** SLUICE_SEARCH_URL of the second engine phase: the local stack's Elasticsearch. */
const ELASTICSEARCH_ENV = { SLUICE_SEARCH_URL: `http://127.0.0.1:${ENGINE_PORTS.elasticsearch}` };

/**
 * The longest a phase of `deno test` may take before it is stopped and counted as failed: a test
 * that hangs (a client waiting forever for a service that is not there) must not eat CI's whole
 * budget with no summary printed. Each is two to five times the phase's time in a full run
 * from a fresh clone on a 2-core machine with both cores kept busy (unit 1.5 min, integration
 * 11.5, Elasticsearch 2.5, faults 7.5, engine faults 2.5: 27 min in all).
 */
export const PHASE_LIMIT_MS = {
  unit: 10 * 60_000,
  integration: 30 * 60_000,
  engine: 12 * 60_000,
  faults: 20 * 60_000,
} as const;

interface RunResult {
  code: number;
  output: string;
  /** True when the child was stopped for passing its time limit. */
  timedOut: boolean;
}

async function run(
  args: string[],
  quiet = false,
  env?: Record<string, string>,
  limitMs?: number,
): Promise<RunResult> {
  const child = new Deno.Command(deno, {
    args,
    env,
    cwd: root,
    stdout: quiet ? "piped" : "inherit",
    stderr: quiet ? "piped" : "inherit",
    stdin: "null",
  }).spawn();
  let timedOut = false;
  let kill: ReturnType<typeof setTimeout> | undefined;
  const limit = limitMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    console.log(
      `\nstopping \`deno ${args.join(" ")}\`: still running after ${limitMs / 60_000} min`,
    );
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    kill = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 30_000);
  }, limitMs);
  try {
    if (!quiet) return { code: (await child.status).code, output: "", timedOut };
    const result = await child.output();
    const decoder = new TextDecoder();
    return {
      code: result.code,
      output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
      timedOut,
    };
  } finally {
    clearTimeout(limit);
    clearTimeout(kill);
  }
}

function section(title: string): void {
  console.log(`\n=== ${title} ${"=".repeat(Math.max(0, 70 - title.length))}`);
}

/** One pass/fail step (fmt, lint, check) counted like a test. */
async function check(tally: Tally, name: string, args: string[]): Promise<void> {
  section(name);
  const { code, output } = await run(args, true);
  if (code === 0) {
    tally.passed++;
    console.log(`ok: ${name}`);
  } else {
    tally.failed++;
    tally.failures.push({ name, reason: output });
    console.log(output.trimEnd());
    console.log(`FAILED: ${name}`);
  }
}

/**
 * Counts from a `deno test --junit-path` report. Steps are test cases of their own there; an
 * ignored test is `<skipped/>` and counts neither as passed nor as failed. A failure's reason is
 * its `message` attribute (the error and its message).
 */
export function countJunit(
  xml: string,
): { passed: number; failed: Failure[]; skipped: string[] } {
  const failed: Failure[] = [];
  const skipped: string[] = [];
  let total = 0;
  const caseRe = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(caseRe)) {
    total++;
    const body = m[3] ?? "";
    const name = unescapeXml(/\bname="([^"]*)"/.exec(m[1])?.[1] ?? "(unnamed)");
    const cls = /\bclassname="([^"]*)"/.exec(m[1])?.[1] ?? "";
    const failure = /<(?:failure|error)\b([^>]*)>/.exec(body);
    if (failure) {
      const reason = unescapeXml(/\bmessage="([^"]*)"/.exec(failure[1])?.[1] ?? "");
      failed.push({ name: `${cls} › ${name}`, reason });
    } else if (/<skipped\b/.test(body)) skipped.push(`${cls} › ${name}`);
  }
  return { passed: total - failed.length - skipped.length, failed, skipped };
}

/** `FAILED: name` and, indented, the first lines of its reason (colours removed). */
export function formatFailure(failure: Failure): string {
  // deno-lint-ignore no-control-regex -- ANSI colour codes, as deno test prints them
  const lines = failure.reason.replace(/\x1b\[[0-9;]*m/g, "").split("\n")
    .map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
  const shown = lines.slice(0, REASON_LINES).map((l) => `    ${l.slice(0, 240)}`);
  if (lines.length > REASON_LINES) {
    shown.push(`    … ${lines.length - REASON_LINES} more lines in the output above`);
  }
  return [`FAILED: ${failure.name}`, ...shown].join("\n");
}

function unescapeXml(s: string): string {
  return s.replaceAll("&quot;", '"').replaceAll("&apos;", "'").replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

/** Where a phase runs: extra environment, and the label its test names carry in the summary. */
interface Phase {
  /** Stopped and counted as a failure after this long. */
  limitMs: number;
  env?: Record<string, string>;
  /** e.g. "elasticsearch": names become `[elasticsearch] file › test`. */
  label?: string;
}

/** `[label] ` before every test name of a junit report, so two engines' runs are told apart. */
export function labelJunit(xml: string, label: string): string {
  return xml.replace(
    /(<testcase\b[^>]*?\bname=")([^"]*)"/g,
    (_, head: string, name: string) => `${head}[${label}] ${name}"`,
  );
}

async function tests(
  tally: Tally,
  name: string,
  args: string[],
  filter: string | undefined,
  phase: Phase,
): Promise<void> {
  section(name);
  const report = await Deno.makeTempFile({ prefix: "sluice-junit-", suffix: ".xml" });
  const extra = filter ? ["--filter", filter] : [];
  const { code, timedOut } = await run(
    ["test", "-A", "--junit-path", report, ...extra, ...args],
    false,
    phase.env,
    phase.limitMs,
  );
  const raw = await Deno.readTextFile(report).catch(() => "");
  await Deno.remove(report).catch(() => {});
  const xml = phase.label ? labelJunit(raw, phase.label) : raw;
  const counts = countJunit(xml);
  tally.passed += counts.passed;
  tally.failed += counts.failed.length;
  tally.failures.push(...counts.failed);
  tally.skipped.push(...counts.skipped);
  if (timedOut) {
    tally.failed++;
    tally.failures.push({
      name: `${name}: stopped after ${phase.limitMs / 60_000} min`,
      reason: "a test hung: the output above names it ('has been running for over')",
    });
  } else if (code !== 0 && counts.failed.length === 0) {
    // The runner itself failed (a module that does not load, a type error): count it.
    tally.failed++;
    tally.failures.push({
      name: `${name}: deno test exited ${code} without a failing test case`,
      reason: "",
    });
  }
}

async function main(): Promise<number> {
  const { values } = parseCommand(spec, Deno.args);
  const all = !values.unit && !values.integration && !values.faults;
  const filter = values.filter as string | undefined;
  const tally: Tally = { passed: 0, failed: 0, skipped: [], failures: [] };
  const started = Date.now();

  if (all || values.unit) {
    await check(tally, "deno fmt --check", ["fmt", "--check"]);
    await check(tally, "deno lint", ["lint"]);
    await check(tally, "deno check", ["check", "."]);
    // --doc: every example in the JSDoc and in docs/*.md is type-checked and run (those that
    // need the services are marked `ignore`), so an example cannot rot.
    await tests(
      tally,
      "unit tests and doc examples",
      ["--doc", "--ignore=tests/integration/,tests/faults/scenarios/,tests/faults/cluster/"],
      filter,
      { limitMs: PHASE_LIMIT_MS.unit },
    );
  }

  if (all || values.integration || values.faults) {
    section("local stack");
    let stack: StackHandle | undefined;
    try {
      stack = await ensureStack({ progress: (line) => console.log(line) });
      console.log(formatStatusTable(stack.statuses));
      if (stack.started.length > 0) {
        console.log(`started for this run: ${stack.started.join(", ")}`);
      }
    } catch (error) {
      tally.failed++;
      tally.failures.push({
        name: "local stack did not come up, integration tests not run",
        reason: String(error),
      });
      console.log(String(error));
    }
    if (stack) {
      try {
        if (all || values.integration) {
          // The secure stack is started and stopped here, each by a `stack` subprocess, never
          // by a process that keeps etcd TLS sessions: such a process dies inside Deno's HTTP/2
          // (nghttp2 assertion, or SIGSEGV) when the secure etcd goes away under an idle session
          // (denoland/deno#36788). withSecureStack in the tests stops only what it started.
          const up = await run(["run", "-A", "stack/main.ts", "up", "--secure"], true);
          console.log(up.output.trimEnd());
          const startedSecure = up.code === 0 && /^started: /m.test(up.output);
          try {
            await tests(tally, "integration tests", ["tests/integration/"], filter, {
              limitMs: PHASE_LIMIT_MS.integration,
            });
            await tests(
              tally,
              "integration tests that index or search, on Elasticsearch 8",
              ENGINE_INTEGRATION_TESTS,
              filter,
              { env: ELASTICSEARCH_ENV, label: "elasticsearch", limitMs: PHASE_LIMIT_MS.engine },
            );
          } finally {
            if (startedSecure) {
              console.log((await run(["run", "-A", "stack/main.ts", "down", "--secure"], true))
                .output.trimEnd());
            }
          }
        }
        if (all || values.faults) {
          // Its own phase: the scenarios stop and restart services (tests/faults/main.ts).
          await tests(tally, "fault tests", ["tests/faults/scenarios/"], filter, {
            limitMs: PHASE_LIMIT_MS.faults,
          });
          await tests(
            tally,
            "engine fault tests, on Elasticsearch 8",
            ENGINE_FAULT_SCENARIOS,
            filter,
            { env: ELASTICSEARCH_ENV, label: "elasticsearch", limitMs: PHASE_LIMIT_MS.engine },
          );
          await run(["run", "-A", "tests/faults/main.ts", "--render"]);
        }
      } finally {
        if (stack.started.length > 0 && !values["keep-stack"]) {
          section("local stack");
          console.log(`stopping what this run started: ${stack.started.join(", ")}`);
          await stopStack(stack);
        }
      }
    }
  }

  section("summary");
  for (const f of tally.skipped) console.log(`SKIPPED: ${f}`);
  for (const f of tally.failures) console.log(formatFailure(f));
  console.log(`took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const skipped = tally.skipped.length > 0 ? `, ${tally.skipped.length} skipped` : "";
  console.log(`${tally.passed} passed, ${tally.failed} failed${skipped}`);
  return tally.failed === 0 ? 0 : 1;
}

if (import.meta.main) await runMain(main);
