import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { decodeUtf8, type Line, LineSplitter, looksBinary, utf8SafeCut } from "./line_splitter.ts";

const enc = new TextEncoder();
const texts = (lines: Line[]) => lines.map((l) => l.text);

Deno.test("splits at \\n, drops a trailing \\r, keeps offsets", () => {
  const s = new LineSplitter();
  const lines = s.push(enc.encode("a\r\nbb\n\nccc\n"));
  assertEquals(texts(lines), ["a", "bb", "", "ccc"]);
  assertEquals(lines.map((l) => [l.offset, l.end, l.resume]), [[0, 3, 3], [3, 6, 6], [6, 7, 7], [
    7,
    11,
    11,
  ]]);
  assertEquals(s.pendingBytes, 0);
  assertEquals(s.position, 11);
});

Deno.test("a \\r inside a line is kept", () => {
  const s = new LineSplitter();
  assertEquals(texts(s.push(enc.encode("a\rb\n"))), ["a\rb"]);
});

Deno.test("holds a partial line across pushes and flushes it on demand", () => {
  const s = new LineSplitter({ startOffset: 100 });
  assertEquals(s.push(enc.encode("hel")), []);
  assertEquals(s.pendingBytes, 3);
  assertEquals(s.push(enc.encode("lo\nwor")), [{
    offset: 100,
    end: 106,
    resume: 106,
    text: "hello",
  }]);
  assertEquals(s.flush(), [{ offset: 106, end: 109, resume: 109, text: "wor" }]);
  assertEquals(s.flush(), []);
  // The rest of a flushed line starts a new line.
  assertEquals(s.push(enc.encode("ld\n")), [{ offset: 109, end: 112, resume: 112, text: "ld" }]);
});

Deno.test("a line over maxLineBytes is cut into numbered parts as soon as it is too long", () => {
  const s = new LineSplitter({ maxLineBytes: 4 });
  const first = s.push(enc.encode("abcdefghij"));
  // Two full parts are out before any newline arrived: the file is never blocked.
  assertEquals(first.map((l) => [l.text, l.part, l.offset, l.end, l.resume]), [
    ["abcd", 0, 0, 4, 0],
    ["efgh", 1, 0, 8, 0],
  ]);
  const rest = s.push(enc.encode("\nxyz\n"));
  assertEquals(rest.map((l) => [l.text, l.part, l.offset, l.end, l.resume]), [
    ["ij", 2, 0, 11, 11],
    ["xyz", undefined, 11, 15, 15],
  ]);
});

Deno.test("a line of exactly maxLineBytes is not split", () => {
  const s = new LineSplitter({ maxLineBytes: 4 });
  const lines = s.push(enc.encode("abcd\n"));
  assertEquals(lines, [{ offset: 0, end: 5, resume: 5, text: "abcd" }]);
});

Deno.test("parts never cut a UTF-8 character", () => {
  const s = new LineSplitter({ maxLineBytes: 5 });
  const lines = s.push(enc.encode("ab€€\n")); // € is 3 bytes: "ab€" = 5 bytes, then "€"
  assertEquals(texts(lines), ["ab€", "€"]);
  assert(lines.every((l) => !l.invalidUtf8));
  const s2 = new LineSplitter({ maxLineBytes: 4 });
  assertEquals(texts(s2.push(enc.encode("ab€x\n"))), ["ab", "€x"]);
});

Deno.test("utf8SafeCut backs off over an unfinished sequence only", () => {
  const b = enc.encode("a€"); // 61 e2 82 ac
  assertEquals(utf8SafeCut(b, 4), 4);
  assertEquals(utf8SafeCut(b, 3), 1);
  assertEquals(utf8SafeCut(b, 2), 1);
  assertEquals(utf8SafeCut(enc.encode("abcd"), 3), 3);
});

Deno.test("invalid UTF-8 becomes U+FFFD and is flagged; valid U+FFFD is not", () => {
  const s = new LineSplitter();
  const lines = s.push(
    new Uint8Array([0x61, 0xff, 0xfe, 0x62, 0x0a, ...enc.encode("ok \uFFFD\n")]),
  );
  assertEquals(lines[0].text, "a\uFFFD\uFFFDb");
  assertEquals(lines[0].invalidUtf8, true);
  assertEquals(lines[1].text, "ok \uFFFD");
  assertEquals(lines[1].invalidUtf8, undefined);
  assertEquals(decodeUtf8(new Uint8Array([0xc3])).invalid, true);
});

Deno.test("reset after truncation restarts offsets and drops held bytes", () => {
  const s = new LineSplitter();
  s.push(enc.encode("abc\npartial"));
  s.reset(0);
  assertEquals(s.pendingBytes, 0);
  assertEquals(s.push(enc.encode("new\n")), [{ offset: 0, end: 4, resume: 4, text: "new" }]);
});

Deno.test("byte-at-a-time input gives the same lines as one chunk", () => {
  const input = enc.encode("α\r\nβγ\n\nlong line here\nend");
  const whole = new LineSplitter({ maxLineBytes: 6 });
  const expected = [...whole.push(input), ...whole.flush()];
  const bytewise = new LineSplitter({ maxLineBytes: 6 });
  const got: Line[] = [];
  for (const b of input) got.push(...bytewise.push(new Uint8Array([b])));
  got.push(...bytewise.flush());
  assertEquals(got, expected);
  assertEquals(texts(expected), ["α", "βγ", "", "long l", "ine he", "re", "end"]);
});

Deno.test("looksBinary: NUL in the head means binary", () => {
  assert(looksBinary(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00])));
  assert(!looksBinary(enc.encode("2024-01-01 INFO hello\n")));
});

Deno.test("pushTo hands the same lines as bytes as push does as text, however the bytes are cut", () => {
  // Lines with CR LF, empty lines, invalid bytes, multi-byte characters and lines longer than
  // the maximum (cut into parts), in chunks of random sizes.
  let seed = 5;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = ["a", "é", "😀", "\r", "\n", "\r\n", "\xff", " ", "x".repeat(30)];
  const enc = new TextEncoder();
  const parts: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const p = pieces[Math.floor(random() * pieces.length)];
    if (p === "\xff") parts.push(0xff);
    else parts.push(...enc.encode(p));
  }
  const bytes = new Uint8Array(parts);
  const asText = new LineSplitter({ maxLineBytes: 40 });
  const asBytes = new LineSplitter({ maxLineBytes: 40 });
  const texts: Line[] = [];
  const fromBytes: Line[] = [];
  const sink = (
    b: Uint8Array,
    start: number,
    stop: number,
    offset: number,
    end: number,
    resume: number,
    part: number,
  ) => {
    const { text, invalid } = decodeUtf8(b.subarray(start, stop));
    const line: Line = { offset, end, resume, text };
    if (part >= 0) line.part = part;
    if (invalid) line.invalidUtf8 = true;
    fromBytes.push(line);
  };
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(random() * 90);
    const chunk = bytes.slice(at, at + n);
    texts.push(...asText.push(chunk));
    asBytes.pushTo(chunk, sink);
    at += n;
  }
  texts.push(...asText.flush());
  asBytes.flushTo(sink);
  assertEquals(fromBytes, texts);
  // And both are what the whole input in one chunk gives.
  const whole = new LineSplitter({ maxLineBytes: 40 });
  assertEquals([...whole.push(bytes), ...whole.flush()], texts);
  assertEquals(texts.some((l) => l.part !== undefined), true);
  assertEquals(texts.some((l) => l.invalidUtf8), true);
});
