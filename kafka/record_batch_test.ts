import { deepEqual, equal } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { gzipSync } from "node:zlib";
import { jsCRC32C, Reader, readRecordsBatch } from "@platformatic/kafka";
import {
  COMPRESSION_ATTRIBUTE,
  encodeRecords,
  nextSequence,
  produceRequest,
  recordBatch,
  RecordsWriter,
  varintSize,
} from "./record_batch.ts";

const text = new TextEncoder();
const crc = (data: Uint8Array) => jsCRC32C(Buffer.from(data.buffer, data.byteOffset, data.length));

/** Appends one record per value, each encoded as UTF-8. */
function addAll(writer: RecordsWriter, key: Uint8Array, values: string[]): void {
  const { data, ends } = encodeRecords(values.map((value) => ({ key: "", value })));
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    writer.addBytes(key, data, start, ends[i]);
    start = ends[i];
  }
}

/** Decodes a batch with @platformatic/kafka's reader, an implementation independent of ours. */
function decode(batch: Uint8Array) {
  const decoded = readRecordsBatch(Reader.from(Buffer.from(batch)));
  return {
    ...decoded,
    records: decoded.records.map((r) => ({
      offsetDelta: r.offsetDelta,
      timestampDelta: Number(r.timestampDelta),
      key: r.key?.toString(),
      value: r.value?.toString(),
      headers: r.headers.length,
    })),
  };
}

// Values whose byte length differs from their UTF-16 length, around the varint size steps.
const values = [
  "",
  "a",
  "x".repeat(63),
  "x".repeat(64),
  "é".repeat(40), // 40 units, 80 bytes: the length varint grows from 1 to 2 bytes
  "é".repeat(4095) + "ab", // 4097 units, 8192 bytes: 2 → 3 bytes
  "😀 emoji and \u0000 control",
  '{"message":"GET /index.html HTTP/1.1 200"}',
  "y".repeat(70_000),
];

Deno.test("RecordsWriter: addBytes writes records the Kafka format decodes back", () => {
  {
    const writer = new RecordsWriter();
    const key = text.encode("web-1/2049-77");
    addAll(writer, key, values);
    equal(writer.count, values.length);
    const header = {
      count: writer.count,
      timestamp: 1_790_000_000_123,
      producerId: 4242n,
      producerEpoch: 3,
      baseSequence: 17,
      attributes: COMPRESSION_ATTRIBUTE.none,
    };
    const batch = decode(recordBatch(writer.bytes(), header, crc));
    equal(batch.magic, 2);
    equal(batch.lastOffsetDelta, values.length - 1);
    equal(batch.firstTimestamp, 1_790_000_000_123n);
    equal(batch.producerId, 4242n);
    equal(batch.producerEpoch, 3);
    equal(batch.firstSequence, 17);
    deepEqual(
      batch.records,
      values.map((value, i) => ({
        offsetDelta: i,
        timestampDelta: 0,
        key: "web-1/2049-77",
        value,
        headers: 0,
      })),
    );
  }
});

Deno.test("recordBatch: the CRC-32C covers attributes to the end; a changed byte changes it", () => {
  const writer = new RecordsWriter();
  addAll(writer, text.encode("k"), ["hello"]);
  const header = {
    count: 1,
    timestamp: 1,
    producerId: 1n,
    producerEpoch: 0,
    baseSequence: 0,
    attributes: 0,
  };
  const batch = recordBatch(writer.bytes(), header, crc);
  const view = new DataView(batch.buffer);
  equal(view.getUint32(17), crc(batch.subarray(21)));
  equal(view.getInt32(8), batch.length - 12);
  equal(view.getInt32(12), -1);
  const changed = batch.slice();
  changed[changed.length - 2] ^= 1;
  equal(crc(changed.subarray(21)) === view.getUint32(17), false);
  // The known CRC-32C check value ("123456789" → 0xE3069283) pins the function itself.
  equal(crc(text.encode("123456789")), 0xe3069283);
});

Deno.test("recordBatch: gzip records decode back through the attribute bits", () => {
  const writer = new RecordsWriter();
  addAll(
    writer,
    text.encode("k"),
    Array.from({ length: 500 }, (_, i) => `line ${i} of a repetitive log`),
  );
  const records = new Uint8Array(gzipSync(writer.bytes()));
  const batch = recordBatch(records, {
    count: writer.count,
    timestamp: 5,
    producerId: 9n,
    producerEpoch: 1,
    baseSequence: 0,
    attributes: COMPRESSION_ATTRIBUTE.gzip,
  }, crc);
  const decoded = decode(batch);
  equal(decoded.records.length, 500);
  equal(decoded.records[499].value, "line 499 of a repetitive log");
  equal(decoded.records[499].offsetDelta, 499);
});

Deno.test("RecordsWriter: reset starts the next batch at offset delta 0 in the same buffer", () => {
  const writer = new RecordsWriter();
  addAll(writer, text.encode("k"), ["first"]);
  writer.reset();
  equal(writer.bytes().length, 0);
  addAll(writer, text.encode("k"), ["second"]);
  const batch = decode(recordBatch(writer.bytes(), {
    count: 1,
    timestamp: 0,
    producerId: 0n,
    producerEpoch: 0,
    baseSequence: 0,
    attributes: 0,
  }, crc));
  deepEqual(batch.records.map((r) => [r.offsetDelta, r.value]), [[0, "second"]]);
});

Deno.test("encodeRecords: keys as runs, values back to back", () => {
  const e = encodeRecords([
    { key: "a", value: "1" },
    { key: "a", value: "22" },
    { key: "b", value: "é" },
    { key: "a", value: "" },
  ]);
  deepEqual(e.keys, ["a", "b", "a"]);
  deepEqual(e.keyEnds, [2, 3, 4]);
  deepEqual(e.ends, [1, 3, 5, 5]);
  equal(new TextDecoder().decode(e.data), "122é");
  // Later sends never overwrite an earlier one's bytes, whether they share its slab or not.
  const sends = Array.from({ length: 40 }, (_, i) => `${i}:${"z".repeat(i * 997)}`);
  const encoded = sends.map((value) => encodeRecords([{ key: "k", value }]));
  encoded.forEach((x, i) => equal(new TextDecoder().decode(x.data), sends[i]));
  const empty = encodeRecords([]);
  deepEqual([empty.keys, empty.keyEnds, empty.ends.length], [[], [], 0]);
});

Deno.test("varintSize and nextSequence", () => {
  deepEqual([0, 63, 64, 8191, 8192, 1_048_575, 1_048_576].map(varintSize), [1, 1, 2, 2, 3, 3, 4]);
  equal(nextSequence(5, 10), 15);
  equal(nextSequence(0x7fffffff, 1), 0); // wraps as the broker expects
});

Deno.test("produceRequest: a v9 body with every topic's partitions and batches, in order", () => {
  const a = new Uint8Array([1, 2, 3]);
  const b = new Uint8Array(200).fill(7);
  const parts = produceRequest(
    [{ topic: "logs", batches: [{ partition: 2, batch: a }, { partition: 0, batch: b }] }, {
      topic: "t2",
      batches: [{ partition: 1, batch: a }],
    }],
    -1,
    30_000,
  );
  const body = Buffer.concat(parts);
  const r = Reader.from(body);
  equal(r.readNullableString(), null); // transactional id
  equal(r.readInt16(), -1);
  equal(r.readInt32(), 30_000);
  const topics = r.readArray(
    (t) => {
      const name = t.readString();
      const partitions = t.readArray(
        (p) => {
          const index = p.readInt32();
          const batch = p.readBytes();
          p.readTaggedFields();
          return [index, [...batch].length, batch[0]];
        },
        true,
        false,
      );
      t.readTaggedFields();
      return [name, partitions];
    },
    true,
    false,
  );
  r.readTaggedFields();
  deepEqual(topics, [["logs", [[2, 3, 1], [0, 200, 7]]], ["t2", [[1, 3, 1]]]]);
  equal(r.remaining, 0);
});
