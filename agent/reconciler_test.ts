import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { Source } from "../config_plane/types.ts";
import { CoalescingRunner, planReconcile } from "./reconciler.ts";

const src = (id: string, path = `/${id}`): Source => ({ id, paths: [path] });
const hash = (s: Source) => s.paths.join(",");

Deno.test("start new, stop gone, restart changed, leave unchanged", () => {
  const plan = planReconcile(
    [src("keep"), src("new"), src("changed", "/other")],
    new Map([["keep", "/keep"], ["changed", "/changed"], ["gone", "/gone"]]),
    hash,
  );
  assertEquals(plan.start.map((s) => s.id), ["new"]);
  assertEquals(plan.restart.map((s) => s.id), ["changed"]);
  assertEquals(plan.stop, ["gone"]);
  assertEquals(plan.unchanged, ["keep"]);
});

Deno.test("nothing desired stops everything; same state is a no-op", () => {
  assertEquals(planReconcile([], new Map([["a", "x"]]), hash).stop, ["a"]);
  const same = planReconcile([src("a")], new Map([["a", "/a"]]), hash);
  assertEquals([same.start, same.stop, same.restart, same.unchanged], [[], [], [], ["a"]]);
});

Deno.test("a burst of triggers coalesces into one more run", async () => {
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const runner = new CoalescingRunner(async () => {
    runs++;
    if (runs === 1) await gate;
  });
  const first = runner.trigger();
  for (let i = 0; i < 10; i++) runner.trigger();
  release();
  await first;
  await runner.idle();
  assertEquals(runs, 2);
  await runner.trigger();
  assertEquals(runs, 3);
});
