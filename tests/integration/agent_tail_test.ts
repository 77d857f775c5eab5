/**
 * Tail tasks against the real Kafka: rotation by rename while the writer writes, copytruncate,
 * a file created after start, rotation and truncation while stopped, and the documented
 * handling of invalid UTF-8, a 10 MiB line and a binary file. Every test compares the sequence
 * numbers Kafka holds with what was written.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  appendSeq,
  assertExactlyOnce,
  checkSeq,
  rig,
  seqLines,
  test,
  waitFor,
} from "./agent_support.ts";
import { UNSAVED_PER_INFLIGHT } from "../../agent/tail_task.ts";

test("agent tail: rename rotation while the writer keeps writing loses and repeats nothing", async () => {
  const r = await rig();
  try {
    const path = `${r.dir}/app.log`;
    await Deno.writeTextFile(path, "");
    r.task({});
    let n = 0;
    for (let round = 0; round < 3; round++) {
      // The writer keeps appending (100 lines / 50 ms); rotation happens mid-stream, slower than
      // discovery (a file created and renamed away between two scans is never seen: see docs).
      for (let i = 0; i < 20; i++, n += 100) {
        await appendSeq(path, "rot", n, n + 100);
        await new Promise((res) => setTimeout(res, 50));
      }
      await Deno.rename(path, `${r.dir}/app.log.${round}`);
      await appendSeq(`${r.dir}/app.log.${round}`, "rot", n, n + 50); // a late write to the old file
      n += 50;
      await appendSeq(path, "rot", n, n + 100);
      n += 100;
    }
    const total = n;
    await waitFor(`${total} lines`, () => r.collector.tagged("rot").length >= total).catch((e) => {
      const rep = checkSeq(r.collector.envelopes, "rot", total);
      throw new Error(
        `${e.message}: missing ${rep.missing.length} (${rep.missing.slice(0, 5)}…${
          rep.missing.slice(-3)
        }), dups ${rep.duplicates}`,
      );
    });
    await new Promise((res) => setTimeout(res, 500));
    assertExactlyOnce(r.collector.envelopes, "rot", total);
    // One key per file identity: lines of one file stay on one partition in order.
    const ids = new Set(r.collector.tagged("rot").map((e) => e.file_id));
    assertEquals(ids.size, 4);
  } finally {
    await r.cleanup();
  }
});

test("agent tail: copytruncate is detected and the new content read from its start", async () => {
  const r = await rig();
  try {
    const path = `${r.dir}/app.log`;
    await appendSeq(path, "ct", 0, 500);
    r.task({});
    await waitFor("first 500", () => r.collector.tagged("ct").length >= 500);
    // copytruncate: copy, then truncate in place; the writer goes on at the start of the file.
    await Deno.copyFile(path, `${r.dir}/app.log.1.gz-pending`);
    await Deno.truncate(path, 0);
    await appendSeq(path, "ct", 500, 800);
    await waitFor("all 800", () => r.collector.tagged("ct").length >= 800);
    await new Promise((res) => setTimeout(res, 300));
    assertExactlyOnce(r.collector.envelopes, "ct", 800);
    const ids = new Set(r.collector.tagged("ct").map((e) => e.file_id));
    assertEquals(ids.size, 2, "the truncated file is a new identity (its offsets start again)");
  } finally {
    await r.cleanup();
  }
});

test("agent tail: a file created after start is read from its beginning; start_at end skips old lines", async () => {
  const r = await rig();
  try {
    await appendSeq(`${r.dir}/old.log`, "old", 0, 100);
    r.task({ start_at: "end" });
    await new Promise((res) => setTimeout(res, 600));
    await appendSeq(`${r.dir}/old.log`, "old2", 0, 50);
    await appendSeq(`${r.dir}/new.log`, "new", 0, 300);
    await waitFor(
      "new + old2",
      () => r.collector.tagged("new").length >= 300 && r.collector.tagged("old2").length >= 50,
    );
    assertExactlyOnce(r.collector.envelopes, "new", 300);
    assertExactlyOnce(r.collector.envelopes, "old2", 50);
    assertEquals(
      r.collector.tagged("old").length,
      0,
      "lines present at first start are skipped with start_at end",
    );
  } finally {
    await r.cleanup();
  }
});

test("agent tail: rotation and truncation while stopped resume without loss", async () => {
  const r = await rig();
  try {
    const a = `${r.dir}/a.log`;
    const b = `${r.dir}/b.log`;
    await appendSeq(a, "ra", 0, 300);
    await appendSeq(b, "tb", 0, 300);
    const t1 = r.task({});
    await waitFor(
      "first lines",
      () => r.collector.tagged("ra").length >= 300 && r.collector.tagged("tb").length >= 300,
    );
    await t1.stop();
    // While stopped: a.log gets more lines, is renamed away (out of the glob), a new a.log starts;
    // b.log is truncated and rewritten (new content).
    await appendSeq(a, "ra", 300, 400);
    await Deno.rename(a, `${r.dir}/a.log.1`);
    await appendSeq(a, "ra", 400, 500);
    await Deno.truncate(b, 0);
    await Deno.writeTextFile(b, seqLines("tb", 300, 450).replaceAll("x", "y"));
    r.task({});
    await waitFor(
      "all",
      () => r.collector.tagged("ra").length >= 500 && r.collector.tagged("tb").length >= 450,
    );
    await new Promise((res) => setTimeout(res, 300));
    assertExactlyOnce(r.collector.envelopes, "ra", 500);
    assertExactlyOnce(r.collector.envelopes, "tb", 450);
  } finally {
    await r.cleanup();
  }
});

test("agent tail: a file found while Kafka cannot be reached is checkpointed before any ack", async () => {
  // Nothing listens on port 1: no line of the new file is ever acknowledged.
  const r = await rig({ brokers: ["127.0.0.1:1"] });
  try {
    const store = `${r.checkpoints}/src.json`;
    const entries = async (): Promise<{ path: string; offset: number }[]> => {
      try {
        return JSON.parse(await Deno.readTextFile(store)).files;
      } catch {
        return [];
      }
    };
    r.task({});
    await waitFor("the first scan's save", () => Deno.stat(store).then(() => true, () => false));
    assertEquals(await entries(), []);
    await appendSeq(`${r.dir}/new.log`, "unacked", 0, 100);
    // Saved without any acknowledgement: after a crash the agent knows the file and looks for it
    // (by device + inode) even if it was rotated out of the globs meanwhile.
    await waitFor(
      "new.log in the saved checkpoints",
      async () => (await entries()).length > 0,
      5000,
    );
    const [entry] = await entries();
    assertEquals({ path: entry.path, offset: entry.offset }, {
      path: `${r.dir}/new.log`,
      offset: 0,
    });
    assertEquals(r.collector.tagged("unacked").length, 0);
  } finally {
    await r.cleanup();
  }
});

test("agent tail: invalid UTF-8, a 10 MiB line and a binary file behave as documented", async () => {
  const r = await rig();
  try {
    const enc = new TextEncoder();
    await Deno.writeFile(
      `${r.dir}/utf.log`,
      new Uint8Array([...enc.encode("bad "), 0xff, 0xfe, ...enc.encode(" end\nfine ü\n")]),
    );
    const big = "L".repeat(10 * 1024 * 1024);
    await Deno.writeTextFile(`${r.dir}/big.log`, `before\n${big}\nafter\n`);
    await Deno.writeFile(
      `${r.dir}/bin.log`,
      new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 10, 65, 10]),
    );
    r.task({});
    const byPath = (p: string) => r.collector.envelopes.filter((e) => e.path.endsWith(p));
    await waitFor(
      "utf + big",
      () => byPath("utf.log").length >= 2 && byPath("big.log").some((e) => e.message === "after"),
    );
    const [bad, fine] = byPath("utf.log");
    assertEquals(bad.message, "bad \uFFFD\uFFFD end");
    assertEquals(bad.invalid_utf8, true);
    assertEquals([fine.message, fine.invalid_utf8], ["fine ü", undefined]);
    const bigs = byPath("big.log");
    assertEquals(bigs[0].message, "before");
    assertEquals(bigs[bigs.length - 1].message, "after");
    const parts = bigs.slice(1, -1);
    assertEquals(parts.map((p) => p.part), parts.map((_, i) => i), "parts numbered from 0");
    assertEquals(parts.map((p) => p.message).join(""), big, "the parts hold the whole line");
    assert(parts.every((p) => p.offset === bigs[1].offset && p.message.length <= 1_000_000));
    assertEquals(
      new Set(parts.map((p) => p.id)).size,
      parts.length,
      "each part has its own event id",
    );
    await new Promise((res) => setTimeout(res, 500));
    assertEquals(byPath("bin.log").length, 0, "binary file skipped");
    assert(r.collector.envelopes.length === 2 + bigs.length);
  } finally {
    await r.cleanup();
  }
});

test("agent tail: a checkpoint that cannot be saved holds reading, loudly, until it can", async () => {
  const r = await rig();
  try {
    const path = `${r.dir}/app.log`;
    await appendSeq(path, "cp", 0, 100);
    const budget = 256 * 1024;
    const task = r.task({}, { maxInflightBytes: budget, readChunkBytes: 64 * 1024 });
    await waitFor("first lines", () => r.collector.tagged("cp").length >= 100);
    // A directory where the checkpoint's temp file goes makes every save fail (even as root).
    const blocker = `${r.checkpoints}/src.json.tmp-${Deno.pid}`;
    await Deno.mkdir(`${blocker}/x`, { recursive: true });
    const total = 100_000; // ≈ 6 MB, far more than what may be read past the last save
    await appendSeq(path, "cp", 100, total);
    await waitFor("error state", () => task.status().state === "error", 10_000);
    assert(task.status().last_error?.includes("cannot save checkpoints"), task.status().last_error);
    await new Promise((res) => setTimeout(res, 1000));
    const held = r.collector.tagged("cp").length;
    assert(held < total, "reading went on although nothing could be checkpointed");
    const bytes = (await r.metrics.bytesRead.get()).values.reduce((s, v) => s + v.value, 0);
    // Past the last save: the budget unacknowledged, as much again ×4 acknowledged, one read.
    const bound = budget * (1 + UNSAVED_PER_INFLIGHT) + 64 * 1024 + 100 * 61;
    assert(bytes <= bound, `read ${bytes} bytes, more than ${bound} (budget ${budget})`);
    await new Promise((res) => setTimeout(res, 1000));
    const later = (await r.metrics.bytesRead.get()).values.reduce((s, v) => s + v.value, 0);
    assert(later === bytes, `read ${later - bytes} more bytes while no save could be made`);
    await Deno.remove(blocker, { recursive: true });
    await waitFor(
      "all after the disk recovered",
      () => r.collector.tagged("cp").length >= total,
      30_000,
    );
    assertExactlyOnce(r.collector.envelopes, "cp", total);
    await waitFor("running again", () => task.status().state === "running");
  } finally {
    await r.cleanup();
  }
});
