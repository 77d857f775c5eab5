import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { compileLineSteps, shapeLine } from "./line_shape.ts";

const READ = "2024-05-02T08:00:00.000Z";

Deno.test("shapeLine: no steps, the read time and nothing added", () => {
  const line = { text: "plain line" };
  assertEquals(shapeLine(compileLineSteps({}), line, READ), {
    timestamp: READ,
    extras: { parsed: undefined, ingested: undefined, flags: undefined },
  });
});

Deno.test("shapeLine: the time is taken before a redaction, which then masks message and fields", () => {
  const steps = compileLineSteps({
    parser: { type: "json" },
    timestamp: { field: "ts", formats: ["rfc3339"] },
    processors: [{ type: "redact", pattern: "2024-05-01" }],
  });
  const line = { text: '{"ts":"2024-05-01T23:30:00+02:00","msg":"hello"}' };
  const out = shapeLine(steps, line, READ)!;
  assertEquals(out.timestamp, "2024-05-01T21:30:00.000Z");
  assertEquals(out.extras.ingested, READ);
  assertEquals(out.extras.parsed, { ts: "[REDACTED]T23:30:00+02:00", msg: "hello" });
  assertEquals(line.text, '{"ts":"[REDACTED]T23:30:00+02:00","msg":"hello"}');
});

Deno.test("shapeLine: failures flag the line and keep it; the read time stands in for a bad time", () => {
  const steps = compileLineSteps({
    parser: { type: "json" },
    timestamp: { field: "ts", formats: ["rfc3339"] },
  });
  const notJson = shapeLine(steps, { text: "not json" }, READ)!;
  assertEquals(notJson.timestamp, READ);
  assertEquals(notJson.extras.flags, ["json_invalid", "timestamp_missing"]);
  const badTime = shapeLine(steps, { text: '{"ts":"yesterday"}' }, READ)!;
  assertEquals([badTime.timestamp, badTime.extras.flags], [READ, ["timestamp_invalid"]]);
});

Deno.test("shapeLine: drop and keep remove a line; a part of a split line is redacted, not parsed", () => {
  const steps = compileLineSteps({
    parser: { type: "json" },
    processors: [{ type: "drop", pattern: "healthz" }, {
      type: "redact",
      pattern: "secret-\\w+",
      mask: "***",
    }],
  });
  assertEquals(shapeLine(steps, { text: '{"path":"/healthz"}' }, READ), undefined);
  const part = { text: '{"token":"secret-abc", "rest": "…', part: 1 };
  const out = shapeLine(steps, part, READ)!;
  assertEquals([part.text, out.extras.parsed, out.extras.flags], [
    '{"token":"***", "rest": "…',
    undefined,
    undefined,
  ]);
});
