import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { eventId } from "../core/envelope.ts";
import { FileRecordEncoder, JsonRecordEncoder } from "../core/record_format.ts";
import type { ConsumedRecord } from "../kafka/consumer.ts";
import { decodeRecord } from "./decode.ts";
import { logDocument } from "./document.ts";
import { encodeBulk } from "./encoder.ts";

const routing = { prefix: "sluice", stream: "source" as const };
const envelope = {
  "@timestamp": "2024-03-09T23:59:59.500Z",
  id: "evt-1",
  host: "web-1",
  source: "nginx",
  path: "/var/log/nginx/access.log",
  file_id: "2049-12-ab",
  offset: 120,
  message: "GET / 200",
};

function record(value: Uint8Array | string | null): ConsumedRecord {
  return {
    topic: "logs",
    partition: 2,
    offset: "41",
    key: new TextEncoder().encode("k"),
    value: typeof value === "string" ? new TextEncoder().encode(value) : value,
    timestamp: 0,
  };
}

function reason(value: Uint8Array | string | null): string {
  const decoded = decodeRecord(record(value), routing);
  return "reason" in decoded ? decoded.reason : "decoded";
}

Deno.test("decode: an envelope becomes a document in its date shard with _id = event id", () => {
  const decoded = decodeRecord(record(JSON.stringify(envelope)), routing);
  if (!("doc" in decoded)) throw new Error(decoded.reason);
  assertEquals(decoded.doc.index, "sluice-nginx-2024.03.09");
  assertEquals(decoded.doc.id, "evt-1");
  assertEquals([decoded.doc.topic, decoded.doc.partition, decoded.doc.offset], ["logs", 2, 41]);
  assertEquals(JSON.parse(decoded.doc.source), logDocument(envelope));
});

Deno.test("decode: garbage is refused with a reason", () => {
  assertEquals(reason(null), "empty record value");
  assertEquals(reason(""), "empty record value");
  assertEquals(reason(new Uint8Array([0xff, 0xfe, 0x00])), "record value is not valid UTF-8");
  assertEquals(reason("hello").startsWith("not JSON:"), true);
  assertEquals(reason("[1,2]"), "not an envelope: the JSON value is an array");
  assertEquals(reason("42"), "not an envelope: the JSON value is number");
  assertEquals(reason("null"), "not an envelope: the JSON value is null");
  assertEquals(
    reason(JSON.stringify({ ...envelope, offset: "120", host: undefined })),
    "not an envelope: missing or mistyped host, offset",
  );
  assertEquals(reason(JSON.stringify({ ...envelope, id: "" })), "not an envelope: empty id");
  assertEquals(
    reason(JSON.stringify({ ...envelope, "@timestamp": "soon" })),
    "@timestamp 'soon' is not a date between years 0 and 9999",
  );
});

Deno.test("decode: the agent's records become documents holding what the agent encoded", () => {
  const file = {
    host: "web-1",
    source: "nginx",
    path: "/var/log/nginx/access.log",
    fileId: "2049-12-ab",
  };
  for (const Encoder of [JsonRecordEncoder, FileRecordEncoder]) {
    const plain = new Encoder(file);
    const withFields = new Encoder({ ...file, fields: { env: "prod", team: "edge" } });
    const at = "2024-03-09T23:59:59.500Z";
    const text = 'GET /a?q="x"\\y 200 \t\u0001 héllo 😀 \u2028';
    const cases = [
      { record: plain.encodeLine({ offset: 120, text }, at), extra: {}, sluice: {}, time: at },
      {
        record: withFields.encodeLine({ offset: 4096, text, part: 2, invalidUtf8: true }, at, {
          parsed: { status: 200, nested: { list: [1, "two"] } },
        }),
        extra: {
          labels: { env: "prod", team: "edge" },
          parsed: { status: 200, nested: { list: [1, "two"] } },
        },
        sluice: { part: 2, invalid_utf8: true },
        time: at,
      },
      {
        // The line's own time (a day earlier: another shard), read at `at`, with a flag.
        record: plain.encodeLine({ offset: 8192, text }, "2024-03-08T10:00:00.000Z", {
          ingested: at,
          flags: ["redact_failed"],
          parsed: { user: "[REDACTED]" },
        }),
        extra: { parsed: { user: "[REDACTED]" }, tags: ["redact_failed"] },
        sluice: {},
        time: "2024-03-08T10:00:00.000Z",
      },
    ];
    for (const { record: encoded, extra, sluice, time } of cases) {
      // The bytes the agent's producer puts on the wire, as the transfer's consumer hands them over.
      const consumed: ConsumedRecord = {
        topic: "logs",
        partition: 2,
        offset: "41",
        key: new TextEncoder().encode(encoded.key),
        value: typeof encoded.value === "string"
          ? new TextEncoder().encode(encoded.value)
          : encoded.value,
        timestamp: 0,
        ...("headers" in encoded ? { headers: encoded.headers } : {}),
      };
      const decoded = decodeRecord(consumed, routing);
      if (!("doc" in decoded)) throw new Error(decoded.reason);
      const offset = JSON.parse(encodeBulk([decoded.doc]).split("\n")[1]).log.offset;
      const part = "part" in sluice ? sluice.part : 0;
      assertEquals(decoded.doc.id, eventId("web-1", "2049-12-ab", offset, part));
      assertEquals(decoded.doc.index, `sluice-nginx-${time.slice(0, 10).replaceAll("-", ".")}`);
      assertEquals(new TextDecoder().decode(decoded.doc.key!), "web-1/2049-12-ab");
      // What the agent encoded, under ECS names, the same from either record format.
      const source = encodeBulk([decoded.doc]).split("\n")[1];
      assertEquals(JSON.parse(source), {
        "@timestamp": time,
        message: text,
        event: { id: decoded.doc.id, ingested: at, dataset: "nginx" },
        host: { name: "web-1" },
        log: { file: { path: "/var/log/nginx/access.log" }, offset },
        sluice: { file_id: "2049-12-ab", ...sluice },
        ...extra,
      });
    }
  }
});

Deno.test("decode: a document larger than a whole bulk request is refused as oversized", () => {
  const value = JSON.stringify({ ...envelope, message: "y".repeat(2_000) });
  const fits = decodeRecord(record(value), routing, 4_000);
  assertEquals("doc" in fits, true);
  const big = decodeRecord(record(value), routing, 1_000);
  if ("doc" in big) throw new Error("an oversized document was accepted");
  assertEquals(big.cause, "oversized");
  assertEquals(
    /^the document is 2\d{3} bytes, more than a whole bulk request may hold \(--bulk-max-bytes 1000\)$/
      .test(big.reason),
    true,
    big.reason,
  );
  const garbage = decodeRecord(record("hello"), routing, 1_000);
  assertEquals("cause" in garbage && garbage.cause, "not_envelope");
});
