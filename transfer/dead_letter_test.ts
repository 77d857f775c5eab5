import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { type DeadLetter, deadLetterRecord } from "./dead_letter.ts";

const base: DeadLetter = {
  cause: "rejected",
  reason: "mapper_parsing_exception: failed to parse field [parsed.status] of type [long]",
  status: 400,
  errorType: "mapper_parsing_exception",
  topic: "logs",
  partition: 1,
  offset: 99,
  key: new TextEncoder().encode("web-1/2049-12"),
  value: '{"message":"x"}',
  index: "sluice-app-2024.03.09",
  id: "evt-9",
};

Deno.test("dead letter: carries the reason, the origin and the original value", () => {
  const { key, value } = deadLetterRecord(base, new Date("2024-03-10T00:00:00Z"));
  assertEquals(key, "web-1/2049-12");
  assertEquals(JSON.parse(value), {
    cause: "rejected",
    reason: base.reason,
    status: 400,
    error_type: "mapper_parsing_exception",
    topic: "logs",
    partition: 1,
    offset: 99,
    index: "sluice-app-2024.03.09",
    id: "evt-9",
    dead_lettered_at: "2024-03-10T00:00:00.000Z",
    value: '{"message":"x"}',
    value_encoding: "utf8",
    value_truncated: false,
    value_bytes: 15,
  });
});

Deno.test("dead letter: binary values are kept as base64, a missing key is the position", () => {
  const { key, value } = deadLetterRecord({
    cause: "not_envelope",
    reason: "record value is not valid UTF-8",
    topic: "logs",
    partition: 0,
    offset: 3,
    key: null,
    value: new Uint8Array([0xff, 0x00, 0x41]),
  });
  assertEquals(key, "logs/0/3");
  const parsed = JSON.parse(value);
  assertEquals([parsed.value, parsed.value_encoding], ["/wBB", "base64"]);
});

Deno.test("dead letter: values too big for Kafka are cut and marked", () => {
  const { value } = deadLetterRecord({ ...base, value: "x".repeat(100) }, new Date(0), 10);
  const parsed = JSON.parse(value);
  assertEquals([parsed.value, parsed.value_truncated, parsed.value_bytes], [
    "xxxxxxxxxx",
    true,
    100,
  ]);
});
