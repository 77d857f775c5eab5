import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { anchor, loadRows, renderReport, saveRow, type ScenarioRow } from "./report.ts";

function row(over: Partial<ScenarioRow>): ScenarioRow {
  return {
    id: "x",
    order: 1,
    title: "Kafka stopped 30 s",
    outcome: "passed",
    written: 60_000,
    indexed: 60_000,
    lost: 0,
    duplicated: 0,
    saw: ["agent: 12 Kafka errors", "transfer healthz 200"],
    done: "Stops Kafka.",
    expected: "Nothing lost.",
    measured: ["down 30 s"],
    finishedAt: "2025-01-02T03:04:05.000Z",
    seconds: 61.4,
    ...over,
  };
}

Deno.test("renderReport: one table row per scenario in order, then a section each", () => {
  const text = renderReport([
    row({ id: "b", order: 2, title: "OpenSearch | down", outcome: "failed", error: "boom" }),
    row({ id: "a", order: 1, saw: ["one", "two", "three", "four"] }),
    row({
      id: "c",
      order: 3,
      outcome: "skipped",
      written: null,
      indexed: null,
      lost: null,
      duplicated: null,
      error: "no mount",
    }),
  ]);
  const table = text.split("\n").filter((l) => /^\| \d/.test(l));
  assertEquals(table.length, 3);
  assert(
    table[0].startsWith(
      "| 1 | [Kafka stopped 30 s](#1-kafka-stopped-30-s) | 60,000 | 60,000 | 0 | 0 |",
    ),
    table[0],
  );
  assert(table[0].includes("one; two; three; …"), table[0]);
  assert(table[1].includes("OpenSearch \\| down") && table[1].endsWith("| **FAILED** |"), table[1]);
  assert(table[2].includes("| – | – | – | – |") && table[2].endsWith("| skipped |"), table[2]);
  assert(text.includes("## 2. OpenSearch | down\n\n**Done.** Stops Kafka."));
  assert(text.includes("**Failed.** boom"));
  assert(text.includes("**Skipped.** no mount"));
  assert(text.includes("1 passed, 1 failed, 1 skipped."));
  assert(text.includes("- four"));
  const short = renderReport([row({ headline: "lag up to 3 MB" })]);
  assert(short.includes("| 0 | 0 | lag up to 3 MB | passed |"), short);
  assert(short.includes("- agent: 12 Kafka errors"), "the full list stays in the section");
});

Deno.test("anchor follows GitHub's heading ids", () => {
  assertEquals(anchor(3, "kill -9 of the agent (×5)"), "3-kill--9-of-the-agent-5");
});

Deno.test("saveRow and loadRows round-trip through a directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(await loadRows(`${dir}/missing`), []);
    await saveRow(row({ id: "one" }), dir);
    await saveRow(row({ id: "two", order: 2 }), dir);
    const rows = (await loadRows(dir)).sort((a, b) => a.order - b.order);
    assertEquals(rows.map((r) => r.id), ["one", "two"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
