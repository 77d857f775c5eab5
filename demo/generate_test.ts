import { equal, match, notEqual } from "node:assert/strict";
import { accessLogLine, appLogLine, seededRandom } from "./generate.ts";

Deno.test("seededRandom repeats for a seed and stays in [0, 1)", () => {
  const a = seededRandom(42), b = seededRandom(42), c = seededRandom(43);
  const xs = Array.from({ length: 1000 }, a);
  equal(JSON.stringify(xs.slice(0, 5)), JSON.stringify(Array.from({ length: 5 }, b)));
  notEqual(xs[0], c());
  equal(xs.every((x) => x >= 0 && x < 1), true);
});

Deno.test("accessLogLine is a combined-log-format line carrying run and seq", () => {
  const line = accessLogLine("demo1", 12, new Date("2026-11-21T05:06:07Z"), seededRandom(1));
  match(
    line,
    /^10\.\d+\.\d+\.\d+ - - \[21\/Nov\/2026:05:06:07 \+0000\] "[A-Z]+ \S+\?run=demo1&seq=12 HTTP\/1\.1" \d{3} \d+ "-" ".+"$/,
  );
});

Deno.test("appLogLine is one line of JSON with run, seq and the time", () => {
  const line = appLogLine("demo1", 5, new Date("2026-11-21T00:00:00Z"), seededRandom(2));
  equal(line.includes("\n"), false);
  const doc = JSON.parse(line);
  equal(doc.run, "demo1");
  equal(doc.seq, 5);
  equal(doc.time, "2026-11-21T00:00:00.000Z");
});
