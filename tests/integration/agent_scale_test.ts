/**
 * Pacing and scale against the real Kafka: a source's rate limit holds within ±10% over 5 s and
 * drops nothing; 1,000 files tailed at once all arrive exactly once.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { assertExactlyOnce, rig, seqLines, seqOf, test, waitFor } from "./agent_support.ts";

test("agent scale: the rate limit holds within ±10% over 5 s and drops nothing", async () => {
  const r = await rig();
  try {
    const rate = 200;
    const total = 1700; // ≈ 8.5 s at 200 lines/s
    await Deno.writeTextFile(`${r.dir}/app.log`, seqLines("rl", 0, total));
    r.task({ rate: { lines_per_sec: rate, burst: 20 } });
    await waitFor("first lines", () => r.collector.tagged("rl").length > 0);
    await waitFor(`all ${total}`, () => r.collector.tagged("rl").length >= total, 20_000);
    assertExactlyOnce(r.collector.envelopes, "rl", total);
    // Read times (@timestamp) over a 5 s window after the first second.
    const times = r.collector.tagged("rl").map((e) => Date.parse(e["@timestamp"])).sort((a, b) =>
      a - b
    );
    const from = times[0] + 1000;
    const inWindow = times.filter((t) => t >= from && t < from + 5000).length;
    const expected = rate * 5;
    assert(
      Math.abs(inWindow - expected) <= expected * 0.1,
      `${inWindow} lines in 5 s, expected ${expected} ±10%`,
    );
    const spanS = (times[times.length - 1] - times[0]) / 1000;
    assert(
      spanS > (total - 20) / rate * 0.9,
      `all lines passed in ${spanS} s: the limit was not applied`,
    );
  } finally {
    await r.cleanup();
  }
});

test("agent scale: 1,000 files tailed at once", async () => {
  const r = await rig();
  try {
    const files = 1000;
    const per = 20;
    await Promise.all(
      Array.from(
        { length: files },
        (_, i) =>
          Deno.writeTextFile(`${r.dir}/f${i}.log`, seqLines("many", i * per, i * per + per)),
      ),
    );
    const t0 = Date.now();
    const task = r.task({}, { pollMs: 250, scanMs: 1000 });
    await waitFor(
      `${files * per} lines`,
      () => r.collector.tagged("many").length >= files * per,
      60_000,
    );
    const tookMs = Date.now() - t0;
    // More lines appended to every file after the first pass are picked up too.
    await Promise.all(
      Array.from(
        { length: files },
        (_, i) =>
          Deno.writeTextFile(`${r.dir}/f${i}.log`, seqLines("more", i, i + 1), { append: true }),
      ),
    );
    await waitFor("appended lines", () => r.collector.tagged("more").length >= files, 30_000);
    await new Promise((res) => setTimeout(res, 500));
    assertExactlyOnce(r.collector.envelopes, "many", files * per);
    assertExactlyOnce(r.collector.envelopes, "more", files);
    assertEquals(new Set(r.collector.tagged("many").map((e) => e.file_id)).size, files);
    // Each file's lines come from that file only.
    for (const e of r.collector.tagged("many").slice(0, 200)) {
      assertEquals(e.path.endsWith(`/f${Math.floor(seqOf(e.message) / per)}.log`), true);
    }
    assertEquals(task.status().files, files);
    console.log(`1,000 files: ${files * per} lines in ${tookMs} ms`);
  } finally {
    await r.cleanup();
  }
});
