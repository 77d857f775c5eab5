import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  decideRelease,
  DEFAULT_IDLE_MEMORY,
  IdleMemory,
  type IdleMemoryState,
  initialIdleMemory,
  mallocTrim,
  v8MemoryRelease,
} from "./idle_memory.ts";

const options = { quietMs: 5_000, minIntervalMs: 60_000 };

/** Runs looks at `times` with the work counter `work(t)`; returns the times a release was made. */
function releasesAt(times: number[], work: (t: number) => number): number[] {
  let state: IdleMemoryState = initialIdleMemory(0, work(0));
  const out: number[] = [];
  for (const t of times) {
    const r = decideRelease(state, t, work(t), options);
    state = r.state;
    if (r.release) out.push(t);
  }
  return out;
}

const everySecond = (until: number) =>
  Array.from({ length: until / 1000 }, (_, i) => (i + 1) * 1000);

Deno.test("memory is given back once start-up has been quiet for quietMs", () => {
  assertEquals(releasesAt(everySecond(30_000), () => 0), [5_000]);
});

Deno.test("no release while work goes on, one after it stops", () => {
  // Reading for 20 s (the counter moves every second), then quiet.
  assertEquals(releasesAt(everySecond(40_000), (t) => Math.min(t, 20_000)), [25_000]);
});

Deno.test("a second quiet period waits for minIntervalMs since the last release", () => {
  // Quiet at start (release at 5 s), work 10–20 s, quiet after: due at 25 s, held until 65 s.
  const work = (t: number) => t < 10_000 ? 0 : Math.min(t, 20_000);
  assertEquals(releasesAt(everySecond(120_000), work), [5_000, 65_000]);
});

Deno.test("no second release without work in between", () => {
  assertEquals(releasesAt(everySecond(300_000), () => 7), [5_000]);
});

Deno.test("a counter that goes down (a source replaced) counts as work", () => {
  const work = (t: number) => t < 8_000 ? 100 : 40;
  assertEquals(releasesAt(everySecond(20_000), work), [5_000]);
  const later = (t: number) => t < 70_000 ? 100 : 40;
  assertEquals(releasesAt(everySecond(90_000), later), [5_000, 75_000]);
});

Deno.test("IdleMemory calls its release on the decision's schedule", () => {
  let work = 0;
  let released = 0;
  const memory = new IdleMemory(() => work, () => released++, DEFAULT_IDLE_MEMORY);
  const start = Date.now();
  memory.look(start + 1_000);
  assertEquals(released, 0);
  memory.look(start + DEFAULT_IDLE_MEMORY.quietMs + 1);
  assertEquals(released, 1);
  work = 10;
  memory.look(start + DEFAULT_IDLE_MEMORY.minIntervalMs + 10_000);
  memory.look(start + DEFAULT_IDLE_MEMORY.minIntervalMs + 20_000);
  assertEquals([released, memory.releases], [2, 2]);
});

Deno.test("without --expose-gc there is nothing to release with", () => {
  const gc = (globalThis as { gc?: unknown }).gc;
  assertEquals(v8MemoryRelease() === undefined, typeof gc !== "function");
});

Deno.test({
  name: "V8's memory-reducing collection shrinks a heap left grown (a child with --expose-gc)",
  async fn() {
    // A child grows its heap with garbage, then reports the heap before and after the release.
    const script = `
      import { v8MemoryRelease } from ${
      JSON.stringify(new URL("./idle_memory.ts", import.meta.url).href)
    };
      let keep = [];
      for (let i = 0; i < 200; i++) { keep.push(new Array(20_000).fill(i)); if (keep.length > 50) keep = []; }
      keep = [];
      const before = Deno.memoryUsage().heapTotal;
      v8MemoryRelease()();
      console.log(JSON.stringify({ before, after: Deno.memoryUsage().heapTotal }));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--v8-flags=--expose-gc", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.success, `the child failed: ${stderr}`);
    const { before, after } = JSON.parse(new TextDecoder().decode(out.stdout));
    assert(after < before, `heap ${before} bytes before the release, ${after} after: not smaller`);
  },
});

Deno.test("mallocTrim: glibc's trim runs here (the project's machines are glibc)", () => {
  const trim = mallocTrim();
  assert(trim, "no malloc_trim: libc.so.6 could not be opened");
  trim();
});
