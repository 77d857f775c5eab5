import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { actionLine, bulkDoc, documentSource, encodeBulk } from "./encoder.ts";

const at = (offset: number) => ({ topic: "logs", partition: 1, offset, key: null });

Deno.test("encoder: one action line and one source line per document, _id = event id", () => {
  const body = encodeBulk([
    bulkDoc(at(0), "sluice-a-2024.03.09", "id-0", '{"message":"x"}'),
    bulkDoc(at(1), "sluice-a-2024.03.10", "id-1", '{"message":"y"}'),
  ]);
  const lines = body.split("\n");
  assertEquals(lines.length, 5);
  assertEquals(lines[4], "");
  assertEquals(JSON.parse(lines[0]), { index: { _index: "sluice-a-2024.03.09", _id: "id-0" } });
  assertEquals(JSON.parse(lines[1]), { message: "x" });
  assertEquals(JSON.parse(lines[2]), { index: { _index: "sluice-a-2024.03.10", _id: "id-1" } });
});

Deno.test("encoder: bytes is the exact UTF-8 size of what the document adds to the body", () => {
  const docs = [
    bulkDoc(at(0), "i", "a", '{"message":"héllo wörld ✓ 😀"}'),
    bulkDoc(at(1), "i", "b", '{"message":"plain"}'),
  ];
  const body = encodeBulk(docs);
  assertEquals(Buffer.byteLength(body), docs[0].bytes + docs[1].bytes);
});

Deno.test("encoder: ids and index names with quotes are escaped", () => {
  assertEquals(JSON.parse(actionLine("i", 'a"b\\c')), { index: { _index: "i", _id: 'a"b\\c' } });
});

Deno.test("encoder: the document is one line of JSON under ECS names", () => {
  const text = documentSource({
    "@timestamp": "2026-01-02T03:04:05.000Z",
    id: "a",
    host: "h",
    source: "s",
    path: "/p",
    file_id: "f",
    offset: 7,
    message: "a\nb\r",
  });
  // a newline inside a string value is escaped by JSON, so the bulk body stays NDJSON
  assertEquals(text.includes("\n") || text.includes("\r"), false);
  assertEquals(JSON.parse(text).message, "a\nb\r");
  assertEquals(JSON.parse(text).log, { file: { path: "/p" }, offset: 7 });
});
