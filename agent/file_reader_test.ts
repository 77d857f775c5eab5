import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { FileReader } from "./file_reader.ts";

const dec = new TextDecoder();

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("reads from an offset and follows appends", () =>
  withDir(async (dir) => {
    const path = `${dir}/a.log`;
    await Deno.writeTextFile(path, "0123456789");
    const r = await FileReader.open(path, 4);
    assertEquals(dec.decode(r.read(100)), "456789");
    assertEquals((r.read(100)).length, 0);
    await Deno.writeTextFile(path, "ab", { append: true });
    assertEquals(dec.decode(r.read(100)), "ab");
    assertEquals(r.offset, 12);
    assertEquals(r.check(true), "none");
    r.close();
  }));

Deno.test("a renamed file is 'moved' and still readable to its end", () =>
  withDir(async (dir) => {
    const path = `${dir}/a.log`;
    await Deno.writeTextFile(path, "one\n");
    const r = await FileReader.open(path, 0);
    r.read(100);
    await Deno.rename(path, `${dir}/a.log.1`);
    await Deno.writeTextFile(`${dir}/a.log.1`, "two\n", { append: true });
    await Deno.writeTextFile(path, "new file\n");
    assertEquals(r.check(true), "moved");
    assertEquals(dec.decode(r.read(100)), "two\n");
    r.close();
  }));

Deno.test("a deleted file is 'deleted' and still readable to its end", () =>
  withDir(async (dir) => {
    const path = `${dir}/a.log`;
    await Deno.writeTextFile(path, "one\ntwo\n");
    const r = await FileReader.open(path, 0);
    await Deno.remove(path);
    assertEquals(r.check(true), "deleted");
    assertEquals(dec.decode(r.read(100)), "one\ntwo\n");
    r.close();
  }));

Deno.test("truncation is seen by size, and by fingerprint when refilled past the offset", () =>
  withDir(async (dir) => {
    const path = `${dir}/a.log`;
    await Deno.writeTextFile(path, "first content\n");
    const r = await FileReader.open(path, 0);
    const before = r.identity!.id;
    r.read(100);
    await Deno.truncate(path, 0);
    assertEquals(r.check(false), "truncated");
    r.restartAtZero();
    assertEquals(r.identity, undefined, "empty after truncation: no identity yet");
    // copytruncate refilled beyond the old offset before we looked: only the fingerprint tells.
    await Deno.writeTextFile(path, "other content, and longer than before\n");
    r.refreshSize();
    r.establishIdentity();
    assert(r.identity!.id !== before);
    r.read(100);
    const r2 = await FileReader.open(path, 0);
    r2.read(14);
    // Refilled past the offset with other bytes before it: seen at once, without the head.
    await Deno.writeTextFile(path, "XXXXX content, and longer than before, and more\n");
    assertEquals(r2.check(false), "truncated");
    r2.close();
    // Only the first bytes differ (the bytes before the offset are the same): the fingerprint
    // check, made every few looks, tells.
    const tail = "y".repeat(200) + "\n";
    await Deno.writeTextFile(path, "first " + tail);
    const r3 = await FileReader.open(path, 0);
    r3.read(150);
    await Deno.writeTextFile(path, "other " + tail + "more\n");
    assertEquals(r3.check(false), "none");
    assertEquals(r3.check(true), "truncated");
    r.close();
    r3.close();
  }));

Deno.test("an empty file has no identity until it has bytes; NUL in the head marks binary", () =>
  withDir(async (dir) => {
    const path = `${dir}/a.log`;
    await Deno.writeTextFile(path, "");
    const r = await FileReader.open(path, 0);
    assertEquals(r.identity, undefined);
    await Deno.writeFile(path, new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]));
    r.refreshSize();
    r.establishIdentity();
    assert(r.identity && r.binary);
    r.close();
  }));

Deno.test("continuous: false once the bytes before the offset are not the ones read (truncated and refilled between two looks)", () =>
  withDir(async (dir) => {
    const path = `${dir}/a.log`;
    await Deno.writeTextFile(path, "line 1\nline 2\n");
    const r = await FileReader.open(path, 0);
    r.read(100);
    assert(r.continuous());
    await Deno.writeTextFile(path, "line 3\n", { append: true });
    assert(r.continuous(), "appended: the same bytes before the offset");
    // copytruncate, then lines written past our offset before we looked: the size grew.
    await Deno.writeTextFile(path, "line 4\nline 5\nline 6\n");
    assertEquals(r.refreshSize() > r.offset, true);
    assertEquals(r.continuous(), false);
    // Resumed from a checkpoint: the bytes there are what it continues from.
    const r2 = await FileReader.open(path, 0);
    r2.seekTo(7);
    assert(r2.continuous());
    r.close();
    r2.close();
  }));

Deno.test("continuous: before the first read, the file must still start as when its identity was taken", () =>
  withDir(async (dir) => {
    const path = `${dir}/a.log`;
    await Deno.writeTextFile(path, "generation 2 line\n".repeat(20));
    const r = await FileReader.open(path, 0);
    assert(r.continuous());
    // copytruncate while the first read was held, then written again past 0.
    await Deno.writeTextFile(path, "generation 3 line\n".repeat(30));
    assertEquals(r.continuous(), false);
    assertEquals(r.readContinuous(1024), undefined, "nothing is read as the old content");
    r.close();
  }));
