/**
 * Kafka's wire format for what the agent sends, written straight into one growing buffer: the
 * records of a partition (`RecordsWriter`), the v2 record batch around them (`recordBatch`) and
 * the Produce request (v9, `produceRequest`). No object per record is made, which is what kept
 * the general-purpose client slow (see docs/BENCHMARKS.md). Pure: no I/O, no client library.
 *
 * Formats: https://kafka.apache.org/documentation/#recordbatch and the Produce request schema.
 * @module
 */

import type { Compression } from "./codecs.ts";

const encoder = new TextEncoder();

/** Attribute bits of a record batch for each codec. */
export const COMPRESSION_ATTRIBUTE: Readonly<Record<Compression, number>> = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
};

/** Writes the unsigned varint of `n` at `pos`; returns the position after it. */
export function writeUnsignedVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

function unsignedVarintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Bytes of the zig-zag varint of a non-negative `n` (record fields are signed varints). */
export function varintSize(n: number): number {
  return unsignedVarintSize(n * 2);
}

/** Writes the zig-zag varint of a non-negative `n` at `pos`; returns the position after it. */
function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  return writeUnsignedVarint(buf, pos, n * 2);
}

/**
 * The records of one partition's batch, appended one after another into a buffer that is reused
 * from batch to batch: attributes 0, timestamp delta 0 (the batch's base timestamp is the time of
 * every record), offset delta = position in the batch, and the headers the record brings (already
 * in wire form), or none.
 *
 * @example
 * ```ts
 * import { RecordsWriter } from "./record_batch.ts";
 * const w = new RecordsWriter();
 * const value = new TextEncoder().encode('{"message":"hi"}');
 * w.addBytes(new TextEncoder().encode("web-1/f1"), value, 0, value.length);
 * w.count; // 1
 * ```
 */
export class RecordsWriter {
  #buf = new Uint8Array(64 * 1024);
  #pos = 0;
  #count = 0;

  /** Records written since the last `reset`. */
  get count(): number {
    return this.#count;
  }

  /** The records written so far (a view of the reused buffer: copy or consume before `reset`). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  reset(): void {
    this.#pos = 0;
    this.#count = 0;
  }

  /**
   * Appends one record whose value is `data[start..valueEnd)` (already UTF-8) and whose headers
   * are `data[valueEnd..end)` in wire form (count, then name and value of each); `valueEnd`
   * omitted: the value is `data[start..end)` and the record has no headers.
   */
  addBytes(
    key: Uint8Array,
    data: Uint8Array,
    start: number,
    end: number,
    valueEnd: number = end,
  ): void {
    const offsetDelta = this.#count++;
    const keyLen = key.length;
    const valueLen = valueEnd - start;
    const headersLen = valueEnd === end ? 1 : end - valueEnd;
    const bodyLen = 2 + varintSize(offsetDelta) + varintSize(keyLen) + keyLen +
      varintSize(valueLen) + valueLen + headersLen;
    this.#ensure(this.#pos + varintSize(bodyLen) + bodyLen);
    const buf = this.#buf;
    let p = writeVarint(buf, this.#pos, bodyLen);
    buf[p++] = 0; // attributes
    buf[p++] = 0; // timestamp delta
    p = writeVarint(buf, p, offsetDelta);
    p = writeVarint(buf, p, keyLen);
    buf.set(key, p);
    p = writeVarint(buf, p + keyLen, valueLen);
    if (valueEnd === end) {
      buf.set(data.subarray(start, end), p);
      p += valueLen;
      buf[p++] = 0; // no headers
    } else {
      // Value and headers lie back to back in `data`, as the record wants them.
      buf.set(data.subarray(start, end), p);
      p += end - start;
    }
    this.#pos = p;
  }

  #ensure(size: number): void {
    if (size <= this.#buf.length) return;
    let capacity = this.#buf.length * 2;
    while (capacity < size) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }
}

/**
 * The records of one send while they wait for their batch: the values already UTF-8, one after
 * another, and the keys as runs (a send's records normally share one key). A queue of these is a
 * few objects per send, where the values as strings were several per record.
 */
export interface EncodedRecords {
  /** Every value's bytes, one after another (a view of a shared slab). */
  data: Uint8Array;
  /** End of each record's bytes in `data` (its value, then its headers if it has any). */
  ends: number[];
  /**
   * End of each value in `data` when the records carry headers: record `i`'s headers, in wire
   * form, are `data[valueEnds[i]..ends[i])`. Undefined: no headers, the values end at `ends`.
   */
  valueEnds?: number[];
  /** Distinct consecutive keys: `keys[i]` is the key of the records before `keyEnds[i]`. */
  keys: string[];
  keyEnds: number[];
}

/**
 * Sends are encoded into slabs of this size, as views: many small sends (many quiet files) cost
 * no array buffer each, and a slab is freed once no queued send points into it any more.
 */
const SLAB_BYTES = 256 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/**
 * Encodes `records`' values as UTF-8, back to back, and their keys as runs.
 *
 * @example
 * ```ts
 * import { encodeRecords } from "./record_batch.ts";
 * const e = encodeRecords([{ key: "k", value: "a" }, { key: "k", value: "bc" }]);
 * e.ends; // [1, 3]
 * e.keys; // ["k"]
 * ```
 */
export function encodeRecords(records: { key: string; value: string }[]): EncodedRecords {
  let units = 0;
  for (const r of records) units += r.value.length;
  // UTF-8 needs at most 3 bytes per UTF-16 unit.
  if (slab.length - slabUsed < units * 3) {
    slab = new Uint8Array(Math.max(SLAB_BYTES, units * 3));
    slabUsed = 0;
  }
  const start = slabUsed;
  const ends: number[] = new Array(records.length);
  const keys: string[] = [];
  const keyEnds: number[] = [];
  let pos = start;
  for (let i = 0; i < records.length; i++) {
    const { key, value } = records[i];
    if (keys.length === 0 || keys[keys.length - 1] !== key) {
      if (keys.length > 0) keyEnds.push(i);
      keys.push(key);
    }
    pos += encoder.encodeInto(value, slab.subarray(pos)).written;
    ends[i] = pos - start;
  }
  if (keys.length > 0) keyEnds.push(records.length);
  slabUsed = pos;
  return { data: slab.subarray(start, pos), ends, keys, keyEnds };
}

/** What a record batch's header says besides its records. */
export interface BatchHeader {
  /** Records in the batch. */
  count: number;
  /** Base (and max) timestamp of the batch, ms since the epoch. */
  timestamp: number;
  producerId: bigint;
  producerEpoch: number;
  /** Sequence number of the first record (idempotent producer), per partition. */
  baseSequence: number;
  /** Codec bits (`COMPRESSION_ATTRIBUTE`) of `records`. */
  attributes: number;
}

/** Length of a record batch's header, up to and including the record count. */
export const BATCH_HEADER_BYTES = 61;

/**
 * A v2 record batch around `records` (the output of `RecordsWriter`, compressed when
 * `header.attributes` says so). `crc32c` is passed in so this module stays free of a native or
 * WebAssembly dependency.
 */
export function recordBatch(
  records: Uint8Array,
  header: BatchHeader,
  crc32c: (data: Uint8Array) => number,
): Uint8Array {
  const out = new Uint8Array(BATCH_HEADER_BYTES + records.length);
  const view = new DataView(out.buffer);
  view.setBigInt64(0, 0n); // base offset: the broker assigns it
  view.setInt32(8, out.length - 12); // batch length: everything after this field
  view.setInt32(12, -1); // partition leader epoch: unknown to a producer
  out[16] = 2; // magic
  view.setInt16(21, header.attributes);
  view.setInt32(23, header.count - 1); // last offset delta
  view.setBigInt64(27, BigInt(header.timestamp));
  view.setBigInt64(35, BigInt(header.timestamp));
  view.setBigInt64(43, header.producerId);
  view.setInt16(51, header.producerEpoch);
  view.setInt32(53, header.baseSequence);
  view.setInt32(57, header.count);
  out.set(records, BATCH_HEADER_BYTES);
  view.setUint32(17, crc32c(out.subarray(21)));
  return out;
}

/** The next sequence number after `count` records from `sequence` (wraps at 2^31 as Kafka does). */
export function nextSequence(sequence: number, count: number): number {
  return (sequence + count) % 0x80000000;
}

/** One partition's batch in a Produce request. */
export interface PartitionBatch {
  partition: number;
  batch: Uint8Array;
}

/** The batches of one topic in a Produce request. */
export interface TopicBatches {
  topic: string;
  batches: PartitionBatch[];
}

/**
 * The body of a Produce request, version 9 (flexible; accepted by Kafka 2.8 and later, including
 * 4.x), without the request header: no transactional id, one batch per partition. Returned as
 * parts so the batches are not copied again.
 */
export function produceRequest(
  topics: TopicBatches[],
  acks: number,
  timeoutMs: number,
): Uint8Array[] {
  const head = new Uint8Array(1 + 2 + 4 + unsignedVarintSize(topics.length + 1));
  const view = new DataView(head.buffer);
  head[0] = 0; // transactional id: null
  view.setInt16(1, acks);
  view.setInt32(3, timeoutMs);
  writeUnsignedVarint(head, 7, topics.length + 1);
  const parts: Uint8Array[] = [head];
  for (const { topic, batches } of topics) {
    const name = encoder.encode(topic);
    const topicHead = new Uint8Array(
      unsignedVarintSize(name.length + 1) + name.length + unsignedVarintSize(batches.length + 1),
    );
    const p = writeUnsignedVarint(topicHead, 0, name.length + 1);
    topicHead.set(name, p);
    writeUnsignedVarint(topicHead, p + name.length, batches.length + 1);
    parts.push(topicHead);
    for (const { partition, batch } of batches) {
      const prefix = new Uint8Array(4 + unsignedVarintSize(batch.length + 1));
      new DataView(prefix.buffer).setInt32(0, partition);
      writeUnsignedVarint(prefix, 4, batch.length + 1);
      parts.push(prefix, batch, TAGS_NONE);
    }
    parts.push(TAGS_NONE); // the topic's tagged fields
  }
  parts.push(TAGS_NONE); // the request's tagged fields
  return parts;
}

const TAGS_NONE = new Uint8Array([0]);
