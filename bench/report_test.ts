import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  factsTable,
  formatNumber,
  GENERATED_END,
  GENERATED_START,
  markdownTable,
  programTable,
  resultsTable,
  spliceGenerated,
} from "./report.ts";
import { buildResult, failedResult } from "./stats.ts";

Deno.test("formatNumber: separators, precision, missing", () => {
  assertEquals(formatNumber(1234567.8), "1,234,568");
  assertEquals(formatNumber(150), "150");
  assertEquals(formatNumber(12.345), "12.3");
  assertEquals(formatNumber(0.5), "0.5");
  assertEquals(formatNumber(0), "0");
  assertEquals(formatNumber(null), "–");
  assertEquals(formatNumber(NaN), "–");
});

Deno.test("markdownTable: header, separator, escaped pipes", () => {
  assertEquals(
    markdownTable(["a", "b"], [["1", "x|y"]]),
    "| a | b |\n| --- | --- |\n| 1 | x\\|y |",
  );
});

Deno.test("resultsTable: one row per result with ratio and target state", () => {
  const met = buildResult({
    scenario: "agent-kafka",
    name: "1 file vs kcat",
    unit: "lines/s",
    direction: "higher",
    samples: [100_000],
    peer: "kcat",
    peerSamples: [250_000],
    target: { of: "ratio", op: ">=", bound: 0.5 },
  });
  const missed = buildResult({
    scenario: "latency",
    name: "p99",
    unit: "ms",
    direction: "lower",
    samples: [250],
    target: { of: "value", op: "<=", bound: 100 },
  });
  const table = resultsTable([met, missed, failedResult("memory", "memory", "boom")]);
  const lines = table.split("\n");
  assertEquals(lines.length, 5);
  assert(lines[2].includes("| 100,000 |") && lines[2].includes("| 0.40 |"), lines[2]);
  assert(lines[2].includes("ratio ≥ 0.5: **missed**"), lines[2]);
  assert(lines[3].includes("≤ 100: **missed**") && lines[3].includes("| – |"), lines[3]);
  assert(lines[4].includes("error: boom"), lines[4]);
});

Deno.test("programTable and factsTable", () => {
  const t = programTable([{
    variant: "1",
    program: "kcat",
    lines_per_s: 500_000,
    mib_per_s: 70.5,
    cpu_s_per_mline: 1.234,
    peak_rss_mib: null,
  }]);
  assert(t.endsWith("| 1 | kcat | 500,000 | 70.5 | 1.23 | – |"), t);
  assertEquals(factsTable({ cores: "2" }), "|  |  |\n| --- | --- |\n| cores | 2 |");
});

Deno.test("spliceGenerated replaces only between the markers", () => {
  const page =
    `# B\n\nintro\n\n${GENERATED_START}\nold table\n${GENERATED_END}\n\n## Findings\nkept\n`;
  const out = spliceGenerated(page, "new table\n");
  assertEquals(
    out,
    `# B\n\nintro\n\n${GENERATED_START}\nnew table\n${GENERATED_END}\n\n## Findings\nkept\n`,
  );
  // Again: idempotent.
  assertEquals(spliceGenerated(out, "new table"), out);
});

Deno.test("spliceGenerated appends the block to a page without markers", () => {
  assertEquals(
    spliceGenerated("# B\n", "t"),
    `# B\n\n${GENERATED_START}\nt\n${GENERATED_END}\n`,
  );
});
