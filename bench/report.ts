/**
 * The benchmark report as text: the markdown tables of docs/BENCHMARKS.md (results, the per-program
 * detail of the agent runs, the machine and versions) and the splice of that generated part into
 * the hand-written page between two marker comments. Pure.
 * @module
 */
import type { BenchResult } from "./stats.ts";

/**
 * A number for a table: thousands separated, about three significant digits below 100.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./report.ts";
 * formatNumber(123456.7); // "123,457"
 * formatNumber(0.01234); // "0.0123"
 * formatNumber(null); // "–"
 * ```
 */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  const abs = Math.abs(x);
  if (abs >= 100) return Math.round(x).toLocaleString("en-US");
  if (abs === 0) return "0";
  return Number(x.toPrecision(3)).toString();
}

/** A markdown table; cells are escaped for `|`. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]) {
  const esc = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
  const lines = [
    `| ${header.map(esc).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ];
  return lines.join("\n");
}

function metText(r: BenchResult): string {
  if (r.error) return `error: ${r.error.split("\n")[0].slice(0, 120)}`;
  if (r.target === null) return "";
  if (r.target_met === null) return `${r.target}: not measured`;
  return `${r.target}: ${r.target_met ? "met" : "**missed**"}`;
}

/**
 * The main results table: one row per result.
 *
 * @example
 * ```ts
 * import { resultsTable } from "./report.ts";
 * import { buildResult } from "./stats.ts";
 * resultsTable([buildResult({ scenario: "s", name: "n", unit: "docs/s", direction: "higher", samples: [1] })]);
 * ```
 */
export function resultsTable(results: readonly BenchResult[]): string {
  return markdownTable(
    ["scenario", "measure", "runs", "sluice", "unit", "peer", "peer value", "ratio", "target"],
    results.map((r) => [
      r.scenario,
      r.name,
      String(r.runs),
      formatNumber(r.value),
      r.unit,
      r.peer ?? "–",
      formatNumber(r.peer_value),
      r.ratio === null ? "–" : r.ratio.toFixed(2),
      metText(r),
    ]),
  );
}

/** Per-program medians of one agent → Kafka variant, as stored in a result's details. */
export interface ProgramSummary {
  program: string;
  lines_per_s: number | null;
  mib_per_s: number | null;
  cpu_s_per_mline: number | null;
  peak_rss_mib: number | null;
}

/** The detail table of the agent → Kafka scenario: every metric of every program. */
export function programTable(rows: readonly (ProgramSummary & { variant: string })[]): string {
  return markdownTable(
    ["files", "program", "lines/s", "MiB/s", "CPU s / M lines", "peak RSS MiB"],
    rows.map((r) => [
      r.variant,
      r.program,
      formatNumber(r.lines_per_s),
      formatNumber(r.mib_per_s),
      formatNumber(r.cpu_s_per_mline),
      formatNumber(r.peak_rss_mib),
    ]),
  );
}

/** Key/value lines (machine, versions) as a two-column table. */
export function factsTable(facts: Record<string, string>): string {
  return markdownTable(["", ""], Object.entries(facts).map(([k, v]) => [k, v]));
}

export const GENERATED_START = "<!-- bench:generated:start -->";
export const GENERATED_END = "<!-- bench:generated:end -->";

/**
 * `page` with the text between the markers replaced by `generated` (markers kept); the markers
 * and `generated` are appended when the page has none.
 *
 * @example
 * ```ts
 * import { spliceGenerated } from "./report.ts";
 * spliceGenerated("a\n<!-- bench:generated:start -->\nold\n<!-- bench:generated:end -->\nb", "new");
 * // "a\n<!-- bench:generated:start -->\nnew\n<!-- bench:generated:end -->\nb"
 * ```
 */
export function spliceGenerated(page: string, generated: string): string {
  const start = page.indexOf(GENERATED_START);
  const end = page.indexOf(GENERATED_END);
  const block = `${GENERATED_START}\n${generated.trim()}\n${GENERATED_END}`;
  if (start < 0 || end < start) return `${page.trimEnd()}\n\n${block}\n`;
  return page.slice(0, start) + block + page.slice(end + GENERATED_END.length);
}
