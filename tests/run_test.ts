import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { countJunit, formatFailure, labelJunit } from "./run.ts";

Deno.test("countJunit counts passing and failing test cases from deno's report", () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="3" failures="1" errors="0" time="0.1">
  <testsuite name="./a_test.ts" tests="3" disabled="0" errors="0" failures="1">
    <testcase name="ok one" classname="./a_test.ts" time="0.0"></testcase>
    <testcase name="ok two" classname="./a_test.ts" time="0.0"/>
    <testcase name="fails &quot;here&quot;" classname="./a_test.ts" time="0.0">
      <failure message="AssertionError: lost 3
first 7,8,9 &amp; more">stack</failure>
    </testcase>
  </testsuite>
</testsuites>`;
  assertEquals(countJunit(xml), {
    passed: 2,
    failed: [{
      name: './a_test.ts › fails "here"',
      reason: "AssertionError: lost 3\nfirst 7,8,9 & more",
    }],
    skipped: [],
  });
});

Deno.test("countJunit of an empty report is zero", () => {
  assertEquals(countJunit(""), { passed: 0, failed: [], skipped: [] });
});

Deno.test("countJunit counts an ignored test as skipped, not passed, and steps as cases", () => {
  const xml = `<testsuites name="deno test" tests="4" failures="0" errors="0" time="0.008">
    <testsuite name="./s_test.ts" tests="4" disabled="1" errors="0" failures="0">
        <testcase name="skipped one" classname="./s_test.ts" time="0.000" line="1" col="6">
            <skipped/>
        </testcase>
        <testcase name="steps" classname="./s_test.ts" time="0.001" line="3" col="6">
        </testcase>
        <testcase name="steps &gt; a" classname="./s_test.ts" time="0.000" line="3" col="43">
        </testcase>
    </testsuite>
</testsuites>`;
  assertEquals(countJunit(xml), { passed: 2, failed: [], skipped: ["./s_test.ts › skipped one"] });
});

Deno.test("formatFailure repeats the first lines of the reason under the name, without colours", () => {
  const reason = [
    "\x1b[31mAssertionError\x1b[0m: 10000 lost",
    "",
    ...Array.from(
      { length: 14 },
      (_, i) => `line ${i}`,
    ),
  ].join("\n");
  const text = formatFailure({ name: "./x_test.ts › fault: kill", reason });
  const lines = text.split("\n");
  assertEquals(lines[0], "FAILED: ./x_test.ts › fault: kill");
  assertEquals(lines[1], "    AssertionError: 10000 lost");
  assertEquals(lines[2], "    line 0");
  assertEquals(lines.length, 1 + 12 + 1);
  assertEquals(lines.at(-1), "    … 3 more lines in the output above");
  assertEquals(formatFailure({ name: "deno lint", reason: "" }), "FAILED: deno lint");
});

Deno.test("labelJunit marks every test of a phase with its engine, so both runs stay apart", () => {
  const xml = `<testcase name="transfer: x" classname="./t.ts" time="1"></testcase>
<testcase name="y" classname="./t.ts" time="1"><failure message="lost 1">s</failure></testcase>`;
  const counts = countJunit(labelJunit(xml, "elasticsearch"));
  assertEquals(counts.passed, 1);
  assertEquals(counts.failed.map((f) => f.name), ["./t.ts › [elasticsearch] y"]);
  assertEquals(labelJunit(xml, "es").includes('name="[es] transfer: x"'), true);
});
