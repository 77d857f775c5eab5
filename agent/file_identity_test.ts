import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  continuesCheckpoint,
  fingerprint,
  FINGERPRINT_BYTES,
  identify,
  isSameFile,
  OFFSET_PRINT_BYTES,
  offsetPrint,
  readBefore,
  readHead,
} from "./file_identity.ts";

const enc = new TextEncoder();

Deno.test("identity: dev, inode and a fingerprint of the first bytes", () => {
  const id = identify({ dev: 1, ino: 2 }, enc.encode("hello\n"))!;
  assertEquals([id.dev, id.ino, id.fpLen], [1, 2, 6]);
  assert(id.id.startsWith("1-2-"));
  assertEquals(identify({ dev: 1, ino: 2 }, new Uint8Array()), undefined);
});

Deno.test("the identity stays the same while the file grows", () => {
  const id = identify({ dev: 1, ino: 2 }, enc.encode("first line\n"))!;
  assert(isSameFile(id, { dev: 1, ino: 2 }, enc.encode("first line\nsecond line\n")));
});

Deno.test("a reused inode with other content is another file", () => {
  const id = identify({ dev: 1, ino: 2 }, enc.encode("old content\n"))!;
  assert(!isSameFile(id, { dev: 1, ino: 2 }, enc.encode("new content\n")));
  const other = identify({ dev: 1, ino: 2 }, enc.encode("new content\n"))!;
  assert(other.id !== id.id);
});

Deno.test("a shorter head (truncated) or another inode is not the same file", () => {
  const id = identify({ dev: 1, ino: 2 }, enc.encode("abcdef"))!;
  assert(!isSameFile(id, { dev: 1, ino: 2 }, enc.encode("abc")));
  assert(!isSameFile(id, { dev: 1, ino: 3 }, enc.encode("abcdef")));
});

Deno.test("the fingerprint covers at most FINGERPRINT_BYTES", () => {
  const long = new Uint8Array(FINGERPRINT_BYTES * 2).fill(65);
  const id = identify({ dev: 1, ino: 2 }, long)!;
  assertEquals(id.fpLen, FINGERPRINT_BYTES);
  long[FINGERPRINT_BYTES + 5] = 66; // beyond the fingerprint: still the same file
  assert(isSameFile(id, { dev: 1, ino: 2 }, long));
});

Deno.test("readHead reads the start and restores the position", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, "0123456789");
    using f = await Deno.open(path);
    await f.seek(7, Deno.SeekMode.Start);
    assertEquals(new TextDecoder().decode(readHead(f, 4)), "0123");
    const buf = new Uint8Array(3);
    await f.read(buf);
    assertEquals(new TextDecoder().decode(buf), "789");
  } finally {
    await Deno.remove(path);
  }
});

// ---- continuesCheckpoint: the rule that decides whether a found file continues a checkpoint ----

/** A file's bytes: a header shared by many files, then lines of its own. */
function content(header: string, lines: string[]): Uint8Array {
  return enc.encode(header + lines.map((l) => `${l}\n`).join(""));
}

function remember(bytes: Uint8Array, offset: number, dev = 1, ino = 7) {
  const fpLen = Math.min(FINGERPRINT_BYTES, bytes.length);
  return {
    dev,
    ino,
    fpLen,
    fp: fingerprint(bytes.subarray(0, fpLen)),
    offset,
    offsetFp: offsetPrint(bytes.subarray(0, offset)),
  };
}

function found(bytes: Uint8Array, offset: number, dev = 1, ino = 7) {
  return {
    dev,
    ino,
    size: bytes.length,
    head: bytes.subarray(0, FINGERPRINT_BYTES),
    before: bytes.subarray(Math.max(0, offset - OFFSET_PRINT_BYTES), offset),
  };
}

const HEADER = "#Software: sluice test\n#Version: 1.0\n#Fields: date time cs-method cs-uri\n" +
  "#".repeat(300) + "\n"; // longer than the fingerprint: every file starts alike

Deno.test("continuesCheckpoint: the same inode and first bytes, at least as long: the file itself (renamed or not)", () => {
  const bytes = content("", ["a 1", "a 2", "a 3"]);
  const r = remember(bytes, 8);
  assertEquals(continuesCheckpoint(r, found(bytes, 8)), "inode");
  // A reused inode with other content, or the file truncated below the offset: not it.
  assertEquals(continuesCheckpoint(r, found(content("", ["b 1"]), 8)), undefined);
  assertEquals(continuesCheckpoint(r, found(bytes.subarray(0, 5), 8)), undefined);
});

Deno.test("continuesCheckpoint: a copy (copytruncate, a move across devices) continues the checkpoint", () => {
  const bytes = content("", ["line 1", "line 2", "line 3", "line 4"]);
  const r = remember(bytes.subarray(0, 14), 14); // read up to "line 2\n"
  // The copy holds everything the original had when it was copied: at least the offset.
  assertEquals(continuesCheckpoint(r, found(bytes, 14, 1, 99)), "copy");
  assertEquals(continuesCheckpoint(r, found(bytes, 14, 2, 7)), "copy", "another device");
  // A copy taken before the checkpointed offset was reached cannot be the same file.
  assertEquals(continuesCheckpoint(r, found(bytes.subarray(0, 10), 14, 1, 99)), undefined);
});

Deno.test("continuesCheckpoint: files that only start alike are not merged, whatever their header", () => {
  const a = content(HEADER, ["2024-05-01 GET /a", "2024-05-01 GET /b", "2024-05-01 GET /c"]);
  const b = content(HEADER, ["2024-05-01 GET /x", "2024-05-01 GET /y", "2024-05-01 GET /z"]);
  const offset = a.length - 18; // two lines in
  const r = remember(a, offset);
  assertEquals(continuesCheckpoint(r, found(a, offset, 1, 50)), "copy");
  // Same header (the whole fingerprint), as long, but other bytes before the offset.
  assertEquals(continuesCheckpoint(r, found(b, offset, 1, 51)), undefined);
  // The same lines in another order: the bytes before the offset differ too.
  const reordered = content(HEADER, [
    "2024-05-01 GET /b",
    "2024-05-01 GET /a",
    "2024-05-01 GET /c",
  ]);
  assertEquals(continuesCheckpoint(r, found(reordered, offset, 1, 52)), undefined);
});

Deno.test("continuesCheckpoint: a checkpoint of an older agent (no offset print) compares the first bytes only", () => {
  const bytes = content("", ["x 1", "x 2"]);
  const { offsetFp: _, ...old } = remember(bytes, 4);
  assertEquals(continuesCheckpoint(old, found(bytes, 4, 1, 8)), "copy");
  assertEquals(continuesCheckpoint(old, found(content("", ["y 1", "y 2"]), 4, 1, 8)), undefined);
});

Deno.test("offsetPrint covers the last OFFSET_PRINT_BYTES before the offset, fewer near the start", () => {
  const long = new Uint8Array(OFFSET_PRINT_BYTES * 3).fill(65);
  const same = long.slice();
  same[0] = 66; // outside the last OFFSET_PRINT_BYTES: the print does not see it
  assertEquals(offsetPrint(long), offsetPrint(same));
  same[same.length - 1] = 66;
  assert(offsetPrint(long) !== offsetPrint(same));
  assert(offsetPrint(enc.encode("ab")) !== offsetPrint(enc.encode("b")));
});

Deno.test("readBefore reads the bytes before an offset and restores the position", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, "x".repeat(100) + "0123456789");
    using f = await Deno.open(path);
    await f.seek(3, Deno.SeekMode.Start);
    const before = readBefore(f, 105);
    assertEquals(before.length, OFFSET_PRINT_BYTES);
    assertEquals(new TextDecoder().decode(before.subarray(-5)), "01234");
    assertEquals(readBefore(f, 2).length, 2);
    const buf = new Uint8Array(2);
    await f.read(buf);
    assertEquals(new TextDecoder().decode(buf), "xx", "position restored");
  } finally {
    await Deno.remove(path);
  }
});
