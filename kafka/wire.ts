/**
 * The Kafka requests and answers the producer's connections exchange besides Produce itself
 * (kafka/record_batch.ts writes that one): request and response headers, Metadata v12,
 * InitProducerId v4, SaslHandshake v1 and SaslAuthenticate v2, and the Produce v9 answer.
 * Pure: bytes in, values out, no I/O (kafka/broker_connection.ts does that).
 *
 * Formats: https://kafka.apache.org/protocol (the "flexible" versions use compact lengths,
 * unsigned varints of length + 1, and tagged fields after each structure).
 * @module
 */

import { kafkaError } from "./error_names.ts";
import { writeUnsignedVarint } from "./record_batch.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Kafka's API keys of the requests sluice sends. */
export const ApiKey = {
  produce: 0,
  metadata: 3,
  saslHandshake: 17,
  initProducerId: 22,
  saslAuthenticate: 36,
} as const;

/**
 * An error code a broker answered: Kafka's name for it in `apiId` (what send_failure.ts decides
 * on), its description and the broker's own words in the message.
 */
export class KafkaProtocolError extends Error {
  readonly apiId: string;
  constructor(
    readonly errorCode: number,
    readonly serverErrorMessage: string | null = null,
    context = "",
    explanation = "",
  ) {
    const { name, description } = kafkaError(errorCode);
    const words = serverErrorMessage ? ` (broker: ${serverErrorMessage})` : "";
    super(`${context}${description}${words}${explanation}`);
    this.name = "KafkaProtocolError";
    this.apiId = name;
  }
}

/** An answer that does not parse: the connection is out of step and is closed. */
export class KafkaFramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KafkaFramingError";
  }
}

/** Writes a request body: big-endian integers, Kafka's strings and arrays. Grows as needed. */
export class WireWriter {
  #buf = new Uint8Array(128);
  #view = new DataView(this.#buf.buffer);
  #pos = 0;

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + n));
    grown.set(this.#buf.subarray(0, this.#pos));
    this.#buf = grown;
    this.#view = new DataView(grown.buffer);
  }

  int8(n: number): this {
    this.#room(1);
    this.#view.setInt8(this.#pos++, n);
    return this;
  }

  int16(n: number): this {
    this.#room(2);
    this.#view.setInt16(this.#pos, n);
    this.#pos += 2;
    return this;
  }

  int32(n: number): this {
    this.#room(4);
    this.#view.setInt32(this.#pos, n);
    this.#pos += 4;
    return this;
  }

  int64(n: bigint): this {
    this.#room(8);
    this.#view.setBigInt64(this.#pos, n);
    this.#pos += 8;
    return this;
  }

  bool(b: boolean): this {
    return this.int8(b ? 1 : 0);
  }

  uvarint(n: number): this {
    this.#room(5);
    this.#pos = writeUnsignedVarint(this.#buf, this.#pos, n);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
    return this;
  }

  /** A nullable STRING: int16 length (-1 for null), then UTF-8. */
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const bytes = encoder.encode(s);
    return this.int16(bytes.length).raw(bytes);
  }

  /** A COMPACT_NULLABLE_STRING: unsigned varint of length + 1 (0 for null), then UTF-8. */
  compactString(s: string | null): this {
    if (s === null) return this.uvarint(0);
    const bytes = encoder.encode(s);
    return this.uvarint(bytes.length + 1).raw(bytes);
  }

  compactBytes(bytes: Uint8Array): this {
    return this.uvarint(bytes.length + 1).raw(bytes);
  }

  /** No tagged fields. */
  tags(): this {
    return this.uvarint(0);
  }

  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }
}

/** Reads an answer, throwing `KafkaFramingError` past its end. */
export class WireReader {
  readonly #view: DataView;
  #pos: number;

  constructor(readonly buf: Uint8Array, pos = 0) {
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#pos = pos;
  }

  get position(): number {
    return this.#pos;
  }

  #take(n: number): number {
    const at = this.#pos;
    if (at + n > this.buf.length) {
      throw new KafkaFramingError(`answer ends at byte ${this.buf.length}, wanted ${at + n}`);
    }
    this.#pos += n;
    return at;
  }

  int8(): number {
    return this.#view.getInt8(this.#take(1));
  }

  int16(): number {
    return this.#view.getInt16(this.#take(2));
  }

  int32(): number {
    return this.#view.getInt32(this.#take(4));
  }

  int64(): bigint {
    return this.#view.getBigInt64(this.#take(8));
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  uvarint(): number {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.#take(1)];
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
      shift += 7;
      if (shift > 28) throw new KafkaFramingError("varint longer than 5 bytes");
    }
  }

  skip(n: number): void {
    this.#take(n);
  }

  /** A nullable STRING (int16 length). */
  string(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const at = this.#take(length);
    return decoder.decode(this.buf.subarray(at, at + length));
  }

  /** A COMPACT_NULLABLE_STRING. */
  compactString(): string | null {
    const length = this.uvarint() - 1;
    if (length < 0) return null;
    const at = this.#take(length);
    return decoder.decode(this.buf.subarray(at, at + length));
  }

  compactBytes(): Uint8Array {
    const length = this.uvarint() - 1;
    if (length < 0) return new Uint8Array(0);
    const at = this.#take(length);
    return this.buf.subarray(at, at + length);
  }

  /** A COMPACT_ARRAY (null read as empty) of `item`s. */
  compactArray<T>(item: (r: WireReader) => T): T[] {
    const length = this.uvarint() - 1;
    const out: T[] = [];
    for (let i = 0; i < length; i++) out.push(item(this));
    return out;
  }

  /** An ARRAY (int32 length, -1 for null, read as empty) of `item`s. */
  array<T>(item: (r: WireReader) => T): T[] {
    const length = this.int32();
    const out: T[] = [];
    for (let i = 0; i < length; i++) out.push(item(this));
    return out;
  }

  /** Skips a structure's tagged fields (sluice reads none). */
  tags(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }
}

/** How a request's header and its answer's header look for an API version. */
export interface HeaderShape {
  /** Request header v2 and response header v1 (tagged fields), for flexible versions. */
  flexible: boolean;
}

/**
 * The size-prefixed frame of a request: size, header (api key, version, correlation id, client
 * id, and tagged fields for a flexible version) and the body's parts, as one buffer.
 */
export function frameRequest(
  apiKey: number,
  version: number,
  correlationId: number,
  clientId: string,
  shape: HeaderShape,
  body: readonly Uint8Array[],
): Uint8Array {
  const header = new WireWriter().int16(apiKey).int16(version).int32(correlationId)
    .string(clientId);
  if (shape.flexible) header.tags();
  const head = header.bytes();
  let size = head.length;
  for (const part of body) size += part.length;
  const out = new Uint8Array(4 + size);
  new DataView(out.buffer).setInt32(0, size);
  out.set(head, 4);
  let at = 4 + head.length;
  for (const part of body) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The reader of an answer's body, past its header (correlation id, and tags when flexible). */
export function answerBody(frame: Uint8Array, shape: HeaderShape): WireReader {
  const reader = new WireReader(frame, 4);
  if (shape.flexible) reader.tags();
  return reader;
}

/** The correlation id of an answer (its first four bytes, after the size). */
export function correlationIdOf(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getInt32(0);
}

// --- Metadata v12 ---------------------------------------------------------------------------

export const METADATA_VERSION = 12;

/** Metadata v12 for `topics`, asking the cluster to create those that do not exist. */
export function metadataRequest(topics: readonly string[], autocreate: boolean): Uint8Array {
  const w = new WireWriter().uvarint(topics.length + 1);
  for (const topic of topics) w.raw(new Uint8Array(16)).compactString(topic).tags();
  return w.bool(autocreate).bool(false).tags().bytes();
}

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
}

export interface PartitionMetadata {
  errorCode: number;
  leader: number;
}

export interface TopicMetadata {
  name: string;
  errorCode: number;
  /** By partition index. */
  partitions: PartitionMetadata[];
}

export interface MetadataAnswer {
  brokers: BrokerAddress[];
  topics: TopicMetadata[];
}

export function parseMetadata(r: WireReader): MetadataAnswer {
  r.int32(); // throttle time
  const brokers = r.compactArray((b) => {
    const broker = { nodeId: b.int32(), host: b.compactString() ?? "", port: b.int32() };
    b.compactString(); // rack
    b.tags();
    return broker;
  });
  r.compactString(); // cluster id
  r.int32(); // controller id
  const topics = r.compactArray((t) => {
    const errorCode = t.int16();
    const name = t.compactString() ?? "";
    t.skip(16 + 1); // topic id, is internal
    const partitions: PartitionMetadata[] = [];
    for (const p of t.compactArray(readPartition)) partitions[p.index] = p.metadata;
    t.int32(); // authorized operations
    t.tags();
    return { name, errorCode, partitions };
  });
  r.tags();
  return { brokers, topics };
}

function readPartition(p: WireReader): { index: number; metadata: PartitionMetadata } {
  const errorCode = p.int16();
  const index = p.int32();
  const leader = p.int32();
  p.int32(); // leader epoch
  for (let k = 0; k < 3; k++) p.compactArray((n) => n.int32()); // replicas, isr, offline
  p.tags();
  return { index, metadata: { errorCode, leader } };
}

// --- InitProducerId v4 ----------------------------------------------------------------------

export const INIT_PRODUCER_ID_VERSION = 4;

/** InitProducerId v4 without a transactional id: a fresh idempotent producer id. */
export function initProducerIdRequest(): Uint8Array {
  return new WireWriter().compactString(null).int32(60_000).int64(-1n).int16(-1).tags().bytes();
}

export function parseInitProducerId(r: WireReader): { producerId: bigint; producerEpoch: number } {
  r.int32(); // throttle time
  const errorCode = r.int16();
  if (errorCode !== 0) throw new KafkaProtocolError(errorCode, null, "InitProducerId: ");
  const producerId = r.int64();
  const producerEpoch = r.int16();
  r.tags();
  return { producerId, producerEpoch };
}

// --- Produce v9 (the answer; record_batch.ts writes the request) ------------------------------

export interface ProducePartitionAnswer {
  index: number;
  errorCode: number;
  errorMessage: string | null;
}

export interface ProduceAnswer {
  responses: { name: string; partitionResponses: ProducePartitionAnswer[] }[];
}

export function parseProduce(r: WireReader): ProduceAnswer {
  const responses = r.compactArray((t) => {
    const name = t.compactString() ?? "";
    const partitionResponses = t.compactArray((p) => {
      const index = p.int32();
      const errorCode = p.int16();
      p.skip(24); // base offset, log append time, log start offset
      p.compactArray((e) => {
        e.int32();
        e.compactString();
        e.tags();
      });
      const errorMessage = p.compactString();
      p.tags();
      return { index, errorCode, errorMessage };
    });
    t.tags();
    return { name, partitionResponses };
  });
  r.int32(); // throttle time
  r.tags();
  return { responses };
}

// --- SASL -----------------------------------------------------------------------------------

export const SASL_HANDSHAKE_VERSION = 1;
export const SASL_AUTHENTICATE_VERSION = 2;

export function saslHandshakeRequest(mechanism: string): Uint8Array {
  return new WireWriter().string(mechanism).bytes();
}

/** Throws when the broker does not take `mechanism`, naming those it takes. */
export function parseSaslHandshake(r: WireReader, mechanism: string): void {
  const errorCode = r.int16();
  const mechanisms = r.array((m) => m.string() ?? "");
  if (errorCode !== 0) {
    throw new KafkaProtocolError(
      errorCode,
      null,
      "SASL handshake: ",
      ` It takes ${mechanisms.join(", ") || "none"}, not ${mechanism}.`,
    );
  }
}

export function saslAuthenticateRequest(authBytes: Uint8Array): Uint8Array {
  return new WireWriter().compactBytes(authBytes).tags().bytes();
}

/** The server's bytes; throws the broker's words when it refused (SASL authentication failed). */
export function parseSaslAuthenticate(r: WireReader): Uint8Array {
  const errorCode = r.int16();
  const errorMessage = r.compactString();
  const authBytes = r.compactBytes();
  if (errorCode !== 0) {
    throw new KafkaProtocolError(errorCode, errorMessage, "SASL authentication failed: ");
  }
  return authBytes;
}
