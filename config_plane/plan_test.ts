import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { EMPTY_STATE, foldOps, normalizeState } from "./fold.ts";
import { diffFields, formatPlan, opsForPlan, planChanges } from "./plan.ts";
import type { DesiredState } from "./types.ts";

const before: DesiredState = {
  defaults: { topic: "logs", fields: { env: "prod" } },
  sources: [
    { id: "web", paths: ["/w"], rate: { lines_per_sec: 100 } },
    { id: "old", paths: ["/o"] },
    { id: "same", paths: ["/s"] },
  ],
};
const after: DesiredState = {
  defaults: { topic: "logs", fields: { env: "staging" } },
  sources: [
    { id: "same", paths: ["/s"] },
    { id: "new", paths: ["/n"], topic: "n" },
    { id: "web", paths: ["/w"], rate: { lines_per_sec: 200 }, start_at: "beginning" },
  ],
};

Deno.test("planChanges lists added, removed and changed sources field by field", () => {
  const plan = planChanges(before, after);
  assertEquals(plan.added.map((s) => s.id), ["new"]);
  assertEquals(plan.removed.map((s) => s.id), ["old"]);
  assertEquals(plan.changed.map((c) => [c.id, c.changes]), [[
    "web",
    [{ path: "rate.lines_per_sec", from: 100, to: 200 }, { path: "start_at", to: "beginning" }],
  ]]);
  assertEquals(plan.defaults, [{ path: "fields.env", from: "prod", to: "staging" }]);
  assert(!plan.empty);
});

Deno.test("planChanges of equal states (any order, empty defaults) is empty", () => {
  const shuffled = { defaults: before.defaults, sources: [...before.sources].reverse() };
  assert(planChanges(before, shuffled).empty);
  assert(planChanges({ defaults: {}, sources: [] }, EMPTY_STATE).empty);
  assertEquals(formatPlan(planChanges(before, before)), "No changes.");
});

Deno.test("opsForPlan: folding the ops onto `from` gives exactly `to`", () => {
  for (
    const [from, to] of [[before, after], [after, before], [EMPTY_STATE, after], [
      after,
      EMPTY_STATE,
    ]]
  ) {
    const plan = planChanges(from, to);
    assertEquals(foldOps(opsForPlan(plan, to), normalizeState(from)), normalizeState(to));
  }
});

Deno.test("diffFields compares arrays whole and reports absent sides", () => {
  assertEquals(diffFields({ a: [1, 2], b: 1 }, { a: [2, 1], c: 2 }), [
    { path: "a", from: [1, 2], to: [2, 1] },
    { path: "b", from: 1 },
    { path: "c", to: 2 },
  ]);
});

Deno.test("formatPlan shows +, -, ~ with one line per field and a summary", () => {
  const text = formatPlan(planChanges(before, after));
  assertEquals(text.split("\n"), [
    "~ defaults",
    '    fields.env: "prod" → "staging"',
    '+ source new  paths ["/n"] → topic "n"',
    "~ source web",
    "    rate.lines_per_sec: 100 → 200",
    '    start_at: (unset) → "beginning"',
    "- source old",
    "",
    "Plan: 1 to add, 1 to change, 1 to remove, defaults changed.",
  ]);
});

Deno.test("diffFields: lists of objects (processors) item by item; timestamp field by field", () => {
  const drop = { type: "drop" as const, pattern: "healthz" };
  const convert = { type: "convert", fields: { status: "integer" } };
  const redact = { type: "redact", pattern: "\\d{16}" };
  assertEquals(
    diffFields(
      { timestamp: { field: "time", formats: ["common_log"] }, processors: [drop, convert] },
      {
        timestamp: { field: "time", formats: ["common_log", "rfc3339"], timezone: "Europe/Berlin" },
        processors: [{ ...drop, pattern: "health" }, convert, redact],
      },
    ),
    [
      { path: "processors[0].pattern", from: "healthz", to: "health" },
      { path: "processors[2]", to: redact },
      { path: "timestamp.formats", from: ["common_log"], to: ["common_log", "rfc3339"] },
      { path: "timestamp.timezone", to: "Europe/Berlin" },
    ],
  );
  assertEquals(diffFields({}, { processors: [drop] }), [{ path: "processors", to: [drop] }]);
  // A step inserted before others: items of another kind show whole.
  assertEquals(
    diffFields({ processors: [drop, convert] }, { processors: [drop, redact, convert] }),
    [
      { path: "processors[1]", from: convert, to: redact },
      { path: "processors[2]", to: convert },
    ],
  );
  assertEquals(diffFields({ processors: [drop] }, { processors: [] }), [
    { path: "processors[0]", from: drop },
  ]);
  const text = formatPlan(planChanges(
    { sources: [{ id: "web", paths: ["/w"], processors: [drop] }] },
    { sources: [{ id: "web", paths: ["/w"], processors: [{ ...drop, pattern: "x" }] }] },
  ));
  assertEquals(text.split("\n")[1], '    processors[0].pattern: "healthz" → "x"');
});
