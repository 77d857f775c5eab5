/**
 * The fault suite's report: each scenario records one row (lines written, documents indexed,
 * lost, duplicated, what the operator saw) as JSON in a results directory, and `renderReport`
 * turns the rows into `docs/RELIABILITY.md`. Rendering is pure; reading and writing the files is
 * kept to the two small functions at the end.
 * @module
 */
import { join } from "node:path";
import { STACK_DIR } from "../../stack/mod.ts";

export type Outcome = "passed" | "failed" | "skipped";

/** What one scenario recorded. */
export interface ScenarioRow {
  /** File-name-safe id, e.g. `agent-kill`. */
  id: string;
  /** Position in the report. */
  order: number;
  title: string;
  outcome: Outcome;
  /** Lines written; null when the scenario did not get that far. */
  written: number | null;
  indexed: number | null;
  lost: number | null;
  duplicated: number | null;
  /** What an operator saw, in one line for the table. */
  headline?: string;
  /** What an operator saw: log messages, /metrics values, health, `config:status`. */
  saw: string[];
  /** What the scenario does. */
  done: string;
  /** What is expected, and why a non-zero count is acceptable where it is. */
  expected: string;
  /** Measured details (timings, re-sent records, dead letters). */
  measured: string[];
  /** Why it failed or was skipped. */
  error?: string;
  /** When it finished (ISO 8601). */
  finishedAt: string;
  seconds: number;
}

/** Where scenarios put their rows (git-ignored; `.stack/` holds everything local runs write). */
export const RESULTS_DIR: string = join(STACK_DIR, "faults");

/** Where the report goes. */
export const REPORT_PATH: string = new URL("../../docs/RELIABILITY.md", import.meta.url).pathname;

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function num(n: number | null): string {
  return n === null ? "–" : n.toLocaleString("en-US");
}

const MARK: Record<Outcome, string> = {
  passed: "passed",
  failed: "**FAILED**",
  skipped: "skipped",
};

/**
 * The Markdown report for `rows` (sorted by `order`).
 *
 * @example
 * ```ts
 * import { renderReport } from "./report.ts";
 * renderReport([]).startsWith("# Reliability"); // true
 * ```
 */
export function renderReport(rows: readonly ScenarioRow[]): string {
  const sorted = [...rows].sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : 1));
  const out: string[] = [];
  out.push("# Reliability: the fault and bad-input suite");
  out.push("");
  out.push(
    "Produced by `deno task test:faults` (also the last phase of `deno task test`); do not edit by",
    "hand. Each scenario writes lines numbered from 0 through the real pipeline — the agent and the",
    "transfer run as processes (`agent/main.ts`, `transfer/main.ts`), against the real etcd, Kafka",
    "and OpenSearch of `stack/` — breaks something the way an operator would, and then reads every",
    "document back from the index: **lost** = numbers written but not indexed, **duplicated** =",
    "documents beyond one per number. Expected: 0 and 0, unless the scenario says why not.",
    "Scenarios live in `tests/faults/scenarios/`, the shared rig in `tests/faults/rig.ts`. A",
    "scenario with random moments reports its seed; `SLUICE_FAULT_SEED=N deno task test:faults",
    "--filter TEXT` replays them.",
    "",
    "The rows titled **Cluster** ran with `deno task test:faults --cluster`, on the cluster variant",
    "of the stack (`deno task stack:up --cluster`: 3 etcd members, 3 Kafka brokers with",
    "replication factor 3 and `min.insync.replicas=2`, 2 OpenSearch nodes with a replica of every",
    "shard; `docs/stack.md`), from `tests/faults/cluster/` and `tests/faults/cluster.ts`. They are",
    "not part of `deno task test` (the README says why); the other rows are.",
  );
  out.push("");
  const finished = sorted.map((r) => r.finishedAt).sort();
  if (finished.length > 0) {
    const total = sorted.reduce((s, r) => s + r.seconds, 0);
    out.push(
      `Run: ${finished[0].slice(0, 16).replace("T", " ")} – ${
        finished.at(-1)!.slice(0, 16).replace("T", " ")
      } UTC, ${Math.round(total)} s of scenarios, ` +
        `${sorted.filter((r) => r.outcome === "passed").length} passed, ` +
        `${sorted.filter((r) => r.outcome === "failed").length} failed, ` +
        `${sorted.filter((r) => r.outcome === "skipped").length} skipped.`,
    );
    out.push("");
  }
  out.push(
    "| # | scenario | lines written | docs indexed | lost | duplicated | what the operator saw | result |",
  );
  out.push("|---|---|---:|---:|---:|---:|---|---|");
  sorted.forEach((r, i) => {
    const saw = r.headline ?? r.saw.slice(0, 3).join("; ") + (r.saw.length > 3 ? "; …" : "");
    out.push(
      `| ${i + 1} | [${cell(r.title)}](#${anchor(i + 1, r.title)}) | ${num(r.written)} | ${
        num(r.indexed)
      } | ${num(r.lost)} | ${num(r.duplicated)} | ${cell(saw) || "–"} | ${MARK[r.outcome]} |`,
    );
  });
  out.push("");
  sorted.forEach((r, i) => {
    out.push(`## ${i + 1}. ${r.title}`);
    out.push("");
    out.push(`**Done.** ${r.done}`);
    out.push("");
    out.push(`**Expected.** ${r.expected}`);
    out.push("");
    if (r.error) {
      out.push(`**${r.outcome === "skipped" ? "Skipped" : "Failed"}.** ${r.error}`);
      out.push("");
    }
    if (r.measured.length > 0) {
      out.push("**Measured.**");
      out.push("");
      for (const m of r.measured) out.push(`- ${m}`);
      out.push("");
    }
    if (r.saw.length > 0) {
      out.push("**What the operator saw.**");
      out.push("");
      for (const s of r.saw) out.push(`- ${s}`);
      out.push("");
    }
    out.push(
      `_${r.id}, ${MARK[r.outcome]} in ${r.seconds.toFixed(0)} s, ${
        r.finishedAt.slice(0, 19).replace("T", " ")
      } UTC._`,
    );
    out.push("");
  });
  return out.join("\n");
}

/** The GitHub anchor of a `## N. title` heading. */
export function anchor(n: number, title: string): string {
  return `${n}. ${title}`.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replaceAll(" ", "-");
}

/** Writes one scenario's row to the results directory. */
export async function saveRow(row: ScenarioRow, dir: string = RESULTS_DIR): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, `${row.id}.json`), JSON.stringify(row, null, 2) + "\n");
}

/** Every row in the results directory. */
export async function loadRows(dir: string = RESULTS_DIR): Promise<ScenarioRow[]> {
  const rows: ScenarioRow[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      rows.push(JSON.parse(await Deno.readTextFile(join(dir, entry.name))));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return rows;
}
