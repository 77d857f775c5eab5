import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { EMPTY_STATE, foldEvents, foldOps, normalizeState } from "./fold.ts";
import type { ConfigEvent, Op } from "./types.ts";

let seq = 0;
function event(...ops: Op[]): ConfigEvent {
  seq++;
  return {
    seq,
    id: `e${seq}`,
    at: "2025-01-01T00:00:00Z",
    author: "ann",
    message: "m",
    base: seq - 1,
    ops,
  };
}
const src = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  paths: [`/var/log/${id}.log`],
  ...extra,
});

Deno.test("foldEvents of nothing is the empty state", () => {
  assertEquals(foldEvents([]), { sources: [] });
});

Deno.test("foldEvents applies put, delete, set_defaults and replace in order; sources sorted by id", () => {
  const events = [
    event({ op: "put_source", source: src("web") }, { op: "put_source", source: src("app") }),
    event({ op: "set_defaults", defaults: { topic: "logs" } }),
    event({ op: "put_source", source: src("web", { topic: "web" }) }),
    event({ op: "delete_source", id: "app" }, { op: "delete_source", id: "never-was" }),
    event({ op: "put_source", source: src("db") }),
  ];
  assertEquals(foldEvents(events), {
    defaults: { topic: "logs" },
    sources: [src("db"), src("web", { topic: "web" })],
  });
  // state(seq) = ops of events 1..seq: a prefix gives the state at that seq.
  assertEquals(foldEvents(events.slice(0, 2)).sources.map((s) => s.id), ["app", "web"]);
  const replaced = foldEvents([
    ...events,
    event({ op: "replace", state: { sources: [src("z")] } }),
  ]);
  assertEquals(replaced, { sources: [src("z")] });
});

Deno.test("foldEvents continues from an initial state (a snapshot) the same as from the start", () => {
  const events = Array.from(
    { length: 30 },
    (_, i) =>
      event(
        i % 7 === 6
          ? { op: "delete_source", id: `s${i - 3}` }
          : { op: "put_source", source: src(`s${i}`) },
      ),
  );
  const whole = foldEvents(events);
  const snapshot = foldEvents(events.slice(0, 12));
  assertEquals(foldEvents(events.slice(12), snapshot), whole);
});

Deno.test("foldEvents is pure: inputs unchanged, output shares nothing with them", () => {
  const source = src("a", { fields: { x: "1" } });
  const events = [event({ op: "put_source", source })];
  const before = structuredClone(events);
  const state = foldEvents(events);
  state.sources[0].fields!.x = "changed";
  assertEquals(events, before);
  assertEquals(EMPTY_STATE, { sources: [] });
});

Deno.test("set_defaults replaces the defaults; empty defaults disappear in the normal form", () => {
  const state = foldOps([
    { op: "set_defaults", defaults: { topic: "a", start_at: "beginning" } },
    { op: "set_defaults", defaults: { topic: "b" } },
  ], EMPTY_STATE);
  assertEquals(state.defaults, { topic: "b" });
  assertEquals(foldOps([{ op: "set_defaults", defaults: {} }], state), { sources: [] });
  assert(!("defaults" in normalizeState({ defaults: {}, sources: [] })));
});

Deno.test("foldEvents over 10,000 events agrees with replaying them one by one", () => {
  const many: ConfigEvent[] = Array.from({ length: 10_000 }, (_, k) => ({
    seq: k + 1,
    id: `m${k}`,
    at: "2025-01-01T00:00:00Z",
    author: "ann",
    message: "m",
    base: k,
    ops: [
      k % 3 === 2
        ? { op: "delete_source", id: `s${(k * 7) % 300}` }
        : { op: "put_source", source: src(`s${k % 300}`, { fields: { k: String(k) } }) },
    ],
  }));
  let stepwise = EMPTY_STATE;
  for (let i = 0; i < many.length; i += 50) {
    stepwise = foldOps(many.slice(i, i + 50).flatMap((e) => e.ops), stepwise);
  }
  assertEquals(foldEvents(many), stepwise);
  assertEquals(foldEvents(many.slice(5_000), foldEvents(many.slice(0, 5_000))), stepwise);
});
