import { deepStrictEqual as assertEquals, equal, ok as assert } from "node:assert/strict";
import { eventId } from "../core/envelope.ts";
import { type EncodableLine, FileRecordEncoder } from "../core/record_format.ts";
import { DEAD_LETTER_PREFIX_BYTES, deadLetterFor, type DeadLetterValue } from "./dead_letter.ts";

const encoder = new FileRecordEncoder({
  host: "web-1",
  source: "app",
  path: "/var/log/app.log",
  fileId: "2049-77-ab12",
});
const bytes = (s: string) => new TextEncoder().encode(s);

/** One line's record as the producer hands a refused one over: key, value, headers in wire form. */
function refusedRecord(line: EncodableLine, at: string) {
  encoder.begin(at);
  encoder.addLine(line, at);
  const sent = encoder.finish();
  return {
    key: encoder.key,
    value: sent.data.subarray(0, sent.valueEnds[0]),
    headers: sent.data.subarray(sent.valueEnds[0], sent.ends[0]),
  };
}

Deno.test("deadLetterFor: where the line is, why, its size and its first KiB", () => {
  const line = "GET /big " + "é".repeat(2000); // 2 bytes a character in UTF-8
  const { key, value, headers } = refusedRecord(
    { offset: 81920, text: line },
    "2026-05-01T10:00:00.000Z",
  );
  const { record, letter } = deadLetterFor({
    topic: "logs",
    partition: 2,
    key,
    value,
    headers,
    code: "MESSAGE_TOO_LARGE",
    reason:
      "The request included a message larger than the max message size the server will accept.",
  }, new Date("2026-05-01T10:00:01Z"));
  equal(record.key, key, "the record's own key: a file's letters stay in order");
  const parsed: DeadLetterValue = JSON.parse(record.value);
  assertEquals(parsed, letter);
  assertEquals(
    [letter.host, letter.source, letter.path, letter.file_id, letter.offset, letter.topic],
    ["web-1", "app", "/var/log/app.log", "2049-77-ab12", 81920, "logs"],
  );
  equal(letter.id, eventId("web-1", "2049-77-ab12", 81920), "the event id of the line");
  equal(letter.code, "MESSAGE_TOO_LARGE");
  equal(letter.partition, 2);
  equal(letter.value_bytes, value.length);
  equal(letter.dead_lettered_at, "2026-05-01T10:00:01.000Z");
  // The prefix is whole characters, at most 1 KiB of UTF-8.
  assert(letter.prefix_truncated);
  assert(bytes(letter.prefix).length <= DEAD_LETTER_PREFIX_BYTES);
  assert(bytes(letter.prefix).length >= DEAD_LETTER_PREFIX_BYTES - 1);
  assert(line.startsWith(letter.prefix));
  assert(!letter.prefix.includes("\ufffd"));
  assert(record.value.length < 2 * DEAD_LETTER_PREFIX_BYTES, "a letter stays small");
});

Deno.test("deadLetterFor: a short line is kept whole; a split line's part is named", () => {
  const { key, value, headers } = refusedRecord(
    { offset: 10, text: "short", part: 3 },
    "2026-05-01T10:00:00.000Z",
  );
  const { letter } = deadLetterFor({
    topic: "t",
    partition: 0,
    key,
    value,
    headers,
    code: "INVALID_RECORD",
    reason: "invalid",
  });
  assertEquals([letter.prefix, letter.prefix_truncated, letter.part], ["short", false, 3]);
});

Deno.test("deadLetterFor: a record that is no envelope keeps the start of its raw value", () => {
  const { letter } = deadLetterFor(
    {
      topic: "t",
      partition: 1,
      key: "k",
      value: bytes("x".repeat(5000)),
      code: "MESSAGE_TOO_LARGE",
      reason: "too large",
    },
    new Date(0),
    100,
  );
  assertEquals([letter.source, letter.offset, letter.id], [undefined, undefined, undefined]);
  assertEquals([letter.prefix.length, letter.prefix_truncated, letter.value_bytes], [
    100,
    true,
    5000,
  ]);
});
