import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { FINGERPRINT_BYTES, identify, isSameFile, readHead } from "./file_identity.ts";

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
