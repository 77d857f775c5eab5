/**
 * The record format: how a line's envelope (core/envelope.ts) is laid out in a Kafka record, and
 * how it is read back. This module is its only owner (DESIGN.md, "Agent"): the agent encodes with
 * `FileRecordEncoder`, the transfer decodes with `decodeEnvelope`, and the round-trip tests beside
 * it hold the two to each other. A new layout is added here: the encoder moves to it, and the
 * decoder keeps reading every format an older agent may still send (see
 * docs/decisions/0007-line-as-record-value.md).
 *
 * Both formats: key `<host>/<file_id>`, so one file's lines stay in order on one partition.
 *
 * Format 2 (agents from 0007 on): the value is the line as it was read (its bytes, without the line
 * ending; a line a source's parser, processors or multiline setting made into text is that text
 * as UTF-8). What else the record carries is in three headers, so a line is never escaped, and
 * the per-file part is the same bytes for every line of a file:
 * - `sluice.f`: JSON `{"source":…,"path":…,"fields"?:…}` (the same for every line of the file);
 * - `sluice.l`: `<offset>[.<part>] <@timestamp>` (ASCII: the byte offset in decimal, the part
 *   number of a cut line, one space, the event time as `Date.prototype.toISOString` writes it);
 * - `sluice.x`, only when a line has one of them: JSON `{"invalid_utf8"?:true,"event.ingested"?,
 *   "flags"?,"parsed"?}` (a line decoded by the agent, whose bytes were not UTF-8; the read time
 *   when `@timestamp` is the line's own; why a line is not as its source asked; the parser's
 *   fields).
 * The host and the file id are the key's; the event id is computed from them by the reader
 * (`eventId`, the same as format 1 carried); `invalid_utf8` of a line sent as read is decided by
 * the reader as the agent decided it (core/utf8.ts).
 *
 * Format 1 (agents before 0007; a record without a `sluice.f` header): the value is the envelope
 * as one line of compact JSON, its fields in this order: `host`, `source`, `path`, `file_id`,
 * `fields`?, `@timestamp`, `id`, `offset`, `part`?, `invalid_utf8`?, `event.ingested`?, `flags`?,
 * `parsed`?, `message`. `JsonRecordEncoder` still writes it, for tests of the upgrade.
 * @module
 */
import { type Envelope, eventIdFrom, eventIdPrefix } from "./envelope.ts";
import { decodeUtf8 } from "./utf8.ts";

/** What every record of one file shares. */
export interface RecordFile {
  /** The agent id. */
  host: string;
  /** The source id. */
  source: string;
  /** The file's path now (a rename means a new encoder). */
  path: string;
  /** The file identity (agent/file_identity.ts). */
  fileId: string;
  /** The source's extra fields; none or empty: no `fields` in the record. */
  fields?: Record<string, string>;
}

/** The parts of a line (agent/line_splitter.ts `Line`) that go into its record. */
export interface EncodableLine {
  offset: number;
  text: string;
  part?: number;
  invalidUtf8?: true;
}

/** What a source's parser, event time and processors add to a line's record. */
export interface LineExtras {
  /** The fields the parser found (after the processors), if any. */
  parsed?: Record<string, unknown>;
  /** The read time, ISO 8601 UTC, when `@timestamp` is the line's own time. */
  ingested?: string;
  /** Why the line is not as its source asked (e.g. `timestamp_invalid`, `redact_failed`). */
  flags?: readonly string[];
}

/** Record headers as a consumer hands them over (kafkajs: `Buffer`, a string, or a list). */
export type RecordHeaders = Record<
  string,
  Uint8Array | string | (Uint8Array | string)[] | undefined
>;

/** One format-2 record: key, value (the line) and headers. */
export interface LineRecord {
  key: string;
  value: Uint8Array;
  headers: Record<string, Uint8Array>;
}

/**
 * The records of one send, as the producer queues them (kafka/record_batch.ts `EncodedRecords`):
 * record `i`'s value is `data[ends[i-1] .. valueEnds[i])`, its headers, already in Kafka's wire
 * form (count, then name and value of each), `data[valueEnds[i] .. ends[i])`.
 */
export interface EncodedLineRecords {
  data: Uint8Array;
  ends: number[];
  valueEnds: number[];
  keys: string[];
  keyEnds: number[];
}

/** The header names of format 2 (see the module's header). */
export const HEADER_FILE = "sluice.f";
export const HEADER_LINE = "sluice.l";
export const HEADER_EXTRA = "sluice.x";

/**
 * The record key of every line of a file: one key per file puts its lines on one partition, in
 * the order they were sent.
 *
 * @example
 * ```ts
 * import { recordKey } from "./record_format.ts";
 * recordKey("web-1", "2049-1234-9f2c"); // "web-1/2049-1234-9f2c"
 * ```
 */
export function recordKey(host: string, fileId: string): string {
  return `${host}/${fileId}`;
}

const utf8Encoder = new TextEncoder();

/** Writes Kafka's zig-zag varint of a non-negative `n` at `pos`; returns the position after it. */
function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  let v = n * 2;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** A header in wire form: name length, name, value length, value. */
function headerBytes(name: string, value: Uint8Array): Uint8Array {
  const n = utf8Encoder.encode(name);
  const out = new Uint8Array(10 + n.length + 10 + value.length);
  let p = writeVarint(out, 0, n.length);
  out.set(n, p);
  p = writeVarint(out, p + n.length, value.length);
  out.set(value, p);
  return out.subarray(0, p + value.length);
}

const LINE_NAME = headerBytes(HEADER_LINE, new Uint8Array(0)).subarray(0, 1 + HEADER_LINE.length);
const EXTRA_NAME = headerBytes(HEADER_EXTRA, new Uint8Array(0)).subarray(
  0,
  1 + HEADER_EXTRA.length,
);
/** The header counts 2 and 3 as zig-zag varints. */
const TWO_HEADERS = 4;
const THREE_HEADERS = 6;
const SPACE = 0x20;
const DOT = 0x2e;
/** Most bytes of a `sluice.l` header after its name: varint, 16 + 1 + 10 digits, space, time. */
const LINE_HEADER_MAX = 1 + 16 + 1 + 10 + 1 + 40;

/**
 * Sends are written into slabs of this size, as views: the producer's queue holds a few objects
 * per send, and a slab is freed once no queued send points into it any more.
 */
const SLAB_BYTES = 256 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
/** End of the last finished send in `slab`. */
let used = 0;
/** Write position of the send under way. */
let pos = 0;
let ends: number[] = [];
let valueEnds: number[] = [];
/** The encoder whose send is under way. */
let writing: FileRecordEncoder | undefined;

/** Room for `need` more bytes of the send under way (moved to a new slab if need be). */
function ensure(need: number): void {
  if (pos + need <= slab.length) return;
  const written = pos - used;
  const next = new Uint8Array(Math.max(SLAB_BYTES, (written + need) * 2));
  next.set(slab.subarray(used, pos));
  slab = next;
  used = 0;
  pos = written;
}

/** Writes the decimal digits of a non-negative integer `n` at `p`; returns the position after. */
function writeDecimal(buf: Uint8Array, p: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let q = p + digits;
  let x = n;
  do {
    buf[--q] = 0x30 + (x % 10);
    x = Math.floor(x / 10);
  } while (x > 0);
  return p + digits;
}

/**
 * Encodes the lines of one file in format 2. Everything the file's records share (the key, the
 * `sluice.f` header in wire form) is built once in the constructor, so a line costs a copy of its
 * bytes and a few digits: this is the agent's hot path. Build a new encoder when the file's path
 * or identity changes.
 *
 * A send is written between `begin` and `finish`, in one synchronous stretch (one send under way
 * at a time, in a slab shared by every encoder); `addBytes` takes a line as read, `addLine` a line
 * a source made into text.
 *
 * @example
 * ```ts
 * import { FileRecordEncoder, decodeEnvelope } from "./record_format.ts";
 * const encoder = new FileRecordEncoder({
 *   host: "web-1", source: "nginx", path: "/var/log/nginx/access.log", fileId: "2049-1234-9f2c",
 * });
 * const record = encoder.encodeLine({ offset: 0, text: "GET / 200" }, "2026-11-21T00:00:00.000Z");
 * record.key; // "web-1/2049-1234-9f2c"
 * new TextDecoder().decode(record.value); // "GET / 200"
 * const decoded = decodeEnvelope({ key: record.key, value: record.value, headers: record.headers });
 * "envelope" in decoded && decoded.envelope.message; // "GET / 200"
 * ```
 */
export class FileRecordEncoder {
  /** The record key of this file's lines (`recordKey`). */
  readonly key: string;
  /** The `sluice.f` header in wire form. */
  readonly #fileHeader: Uint8Array;
  readonly #fileJson: Uint8Array;
  /** The `@timestamp` of the lines added next, ASCII. */
  #timestamp = new Uint8Array(0);

  constructor(file: RecordFile) {
    const fields = file.fields && Object.keys(file.fields).length > 0 ? file.fields : undefined;
    this.#fileJson = utf8Encoder.encode(
      JSON.stringify({ source: file.source, path: file.path, ...(fields ? { fields } : {}) }),
    );
    this.#fileHeader = headerBytes(HEADER_FILE, this.#fileJson);
    this.key = recordKey(file.host, file.fileId);
  }

  /** Starts a send; `timestamp` (ISO 8601 UTC) is the `@timestamp` of the lines added. */
  begin(timestamp: string): void {
    if (writing !== undefined) throw new Error("a send is already being written");
    writing = this;
    this.setTimestamp(timestamp);
  }

  /** The `@timestamp` of the lines added from now on (a line read again keeps its first one). */
  setTimestamp(timestamp: string): void {
    this.#timestamp = utf8Encoder.encode(timestamp);
  }

  /**
   * Adds the line `bytes[start..end)` as it was read: at file offset `offset`, part `part` of a
   * cut line (-1: not cut).
   */
  addBytes(bytes: Uint8Array, start: number, end: number, offset: number, part: number): void {
    const len = end - start;
    const fileHeader = this.#fileHeader;
    ensure(len + 1 + fileHeader.length + LINE_NAME.length + LINE_HEADER_MAX);
    const buf = slab;
    buf.set(bytes.subarray(start, end), pos);
    let p = pos + len;
    valueEnds.push(p - used);
    buf[p++] = TWO_HEADERS;
    buf.set(fileHeader, p);
    p = this.#lineHeader(buf, p + fileHeader.length, offset, part);
    pos = p;
    ends.push(p - used);
  }

  /** Adds a line a source made into text, with what its steps add (`extras`). */
  addLine(line: EncodableLine, timestamp: string, extras?: LineExtras): void {
    this.setTimestamp(timestamp);
    const extra = extraJson(line, extras);
    const fileHeader = this.#fileHeader;
    ensure(
      line.text.length * 3 + 1 + fileHeader.length + LINE_NAME.length + LINE_HEADER_MAX +
        (extra ? EXTRA_NAME.length + 5 + extra.length * 3 : 0),
    );
    let p = pos + utf8Encoder.encodeInto(line.text, slab.subarray(pos)).written;
    valueEnds.push(p - used);
    const buf = slab;
    buf[p++] = extra ? THREE_HEADERS : TWO_HEADERS;
    buf.set(fileHeader, p);
    p = this.#lineHeader(buf, p + fileHeader.length, line.offset, line.part ?? -1);
    if (extra) {
      buf.set(EXTRA_NAME, p);
      p += EXTRA_NAME.length;
      const bytes = utf8Encoder.encode(extra);
      p = writeVarint(buf, p, bytes.length);
      buf.set(bytes, p);
      p += bytes.length;
    }
    pos = p;
    ends.push(p - used);
  }

  /** The records added since `begin`, as the producer queues them. */
  finish(): EncodedLineRecords {
    writing = undefined;
    const data = slab.subarray(used, pos);
    const out = { data, ends, valueEnds, keys: [this.key], keyEnds: [ends.length] };
    used = pos;
    ends = [];
    valueEnds = [];
    return out;
  }

  /**
   * The record of one line on its own (tests, tools): key, value and headers as a consumer sees
   * them.
   */
  encodeLine(line: EncodableLine, timestamp: string, extras?: LineExtras): LineRecord {
    this.begin(timestamp);
    this.addLine(line, timestamp, extras);
    const sent = this.finish();
    return { key: this.key, ...splitRecord(sent.data, sent.valueEnds[0], sent.ends[0]) };
  }

  /** Writes the `sluice.l` header (name included) at `p`; returns the position after it. */
  #lineHeader(buf: Uint8Array, p: number, offset: number, part: number): number {
    buf.set(LINE_NAME, p);
    p += LINE_NAME.length;
    const lengthAt = p++;
    const from = p;
    p = writeDecimal(buf, p, offset);
    if (part >= 0) {
      buf[p++] = DOT;
      p = writeDecimal(buf, p, part);
    }
    buf[p++] = SPACE;
    const ts = this.#timestamp;
    buf.set(ts, p);
    p += ts.length;
    buf[lengthAt] = (p - from) * 2; // under 64 bytes: one varint byte
    return p;
  }
}

/** The `sluice.x` JSON of a line, or undefined when it has nothing to say. */
function extraJson(line: EncodableLine, extras: LineExtras | undefined): string | undefined {
  if (!line.invalidUtf8 && !extras?.ingested && !extras?.flags?.length && !extras?.parsed) {
    return undefined;
  }
  const x: Record<string, unknown> = {};
  if (line.invalidUtf8) x.invalid_utf8 = true;
  if (extras?.ingested) x["event.ingested"] = extras.ingested;
  if (extras?.flags?.length) x.flags = extras.flags;
  if (extras?.parsed) x.parsed = extras.parsed;
  return JSON.stringify(x);
}

/**
 * A record's value and headers from its bytes as `FileRecordEncoder` writes them (value, then the
 * headers in wire form).
 *
 * @example
 * ```ts
 * import { FileRecordEncoder, splitRecord } from "./record_format.ts";
 * const e = new FileRecordEncoder({ host: "h", source: "s", path: "/a.log", fileId: "1-2-3" });
 * e.begin("2026-01-01T00:00:00.000Z");
 * e.addBytes(new TextEncoder().encode("hi\n"), 0, 2, 0, -1);
 * const sent = e.finish();
 * Object.keys(splitRecord(sent.data, sent.valueEnds[0], sent.ends[0]).headers);
 * // ["sluice.f", "sluice.l"]
 * ```
 */
export function splitRecord(
  data: Uint8Array,
  valueEnd: number,
  end: number,
  start = 0,
): { value: Uint8Array; headers: Record<string, Uint8Array> } {
  return { value: data.slice(start, valueEnd), headers: readHeaders(data.subarray(valueEnd, end)) };
}

/** Kafka's zig-zag varint at `p`: [value, position after]. */
function readVarint(buf: Uint8Array, p: number): [number, number] {
  let v = 0;
  let scale = 1;
  for (;;) {
    const b = buf[p++];
    if (b === undefined) throw new Error("headers end inside a varint");
    v += (b & 0x7f) * scale;
    if (b < 0x80) break;
    scale *= 128;
  }
  return [v % 2 === 0 ? v / 2 : -(v + 1) / 2, p];
}

/** Headers in wire form (count, then name and value of each) → name → value. */
export function readHeaders(block: Uint8Array): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  let [count, p] = readVarint(block, 0);
  const text = new TextDecoder();
  for (; count > 0; count--) {
    let n: number;
    [n, p] = readVarint(block, p);
    const name = text.decode(block.subarray(p, p + n));
    p += n;
    [n, p] = readVarint(block, p);
    out[name] = n < 0 ? new Uint8Array(0) : block.slice(p, p + n);
    p += Math.max(0, n);
  }
  return out;
}

/**
 * Format 1's encoder: the envelope as one line of JSON. Agents before decision 0007 wrote it; it is
 * kept to test that the transfer still reads what they sent (an upgrade re-sends lines an old
 * agent sent, which must land as the same documents).
 *
 * @example
 * ```ts
 * import { JsonRecordEncoder } from "./record_format.ts";
 * const encoder = new JsonRecordEncoder({ host: "h", source: "s", path: "/a.log", fileId: "1-2-3" });
 * JSON.parse(encoder.encodeLine({ offset: 0, text: "x" }, "2026-01-01T00:00:00.000Z").value).message; // "x"
 * ```
 */
export class JsonRecordEncoder {
  readonly key: string;
  readonly #head: string;
  readonly #idPrefix: string;

  constructor(file: RecordFile) {
    const fields = file.fields && Object.keys(file.fields).length > 0
      ? `,"fields":${JSON.stringify(file.fields)}`
      : "";
    this.#head = `{"host":${JSON.stringify(file.host)},"source":${
      JSON.stringify(file.source)
    },"path":${JSON.stringify(file.path)},"file_id":${
      JSON.stringify(file.fileId)
    }${fields},"@timestamp":"`;
    this.key = recordKey(file.host, file.fileId);
    this.#idPrefix = eventIdPrefix(file.host, file.fileId);
  }

  /** The format-1 record of one line: key and the JSON value. */
  encodeLine(
    line: EncodableLine,
    timestamp: string,
    extras?: LineExtras,
  ): { key: string; value: string } {
    let value = `${this.#head}${timestamp}","id":"${
      eventIdFrom(this.#idPrefix, line.offset, line.part ?? 0)
    }","offset":${line.offset}`;
    if (line.part !== undefined) value += `,"part":${line.part}`;
    if (line.invalidUtf8) value += `,"invalid_utf8":true`;
    if (extras) {
      if (extras.ingested) value += `,"event.ingested":"${extras.ingested}"`;
      if (extras.flags?.length) value += `,"flags":${JSON.stringify(extras.flags)}`;
      if (extras.parsed) value += `,"parsed":${JSON.stringify(extras.parsed)}`;
    }
    value += `,"message":${JSON.stringify(line.text)}}`;
    return { key: this.key, value };
  }
}

/** A record as read from Kafka (the parts of kafka/consumer.ts `ConsumedRecord` a format uses). */
export interface RecordBytes {
  key?: Uint8Array | string | null;
  value: Uint8Array | null;
  headers?: RecordHeaders;
}

/** A decoded record: the envelope and the format it came in, or what is wrong with the record. */
export type DecodedEnvelope = { envelope: Envelope; format: 1 | 2 } | { problem: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin = new TextDecoder();

/** Format 1's required fields and their JSON types: the one list of them. */
const REQUIRED: readonly [keyof Envelope, "string" | "number"][] = [
  ["@timestamp", "string"],
  ["id", "string"],
  ["host", "string"],
  ["source", "string"],
  ["path", "string"],
  ["file_id", "string"],
  ["offset", "number"],
  ["message", "string"],
];

/**
 * Reads the envelope of a record in any format an agent sends or has sent, or says what is wrong
 * with it (the reason a dead letter carries). A format-1 record that is not JSON, or JSON without
 * the required fields, is refused, and so is a format-2 record whose key or headers are not as
 * the format says; whether `@timestamp` is a date is left to the reader's routing.
 *
 * @example
 * ```ts
 * import { decodeEnvelope, JsonRecordEncoder } from "./record_format.ts";
 * const encoder = new JsonRecordEncoder({ host: "h", source: "s", path: "/a.log", fileId: "1-2-3" });
 * const { value } = encoder.encodeLine({ offset: 7, text: "x" }, "2026-11-21T00:00:00.000Z");
 * const decoded = decodeEnvelope({ value: new TextEncoder().encode(value) });
 * "envelope" in decoded && decoded.envelope.offset; // 7
 * decodeEnvelope({ value: new TextEncoder().encode("hello") }); // { problem: "not JSON: ..." }
 * ```
 */
export function decodeEnvelope(record: RecordBytes): DecodedEnvelope {
  const file = header(record.headers, HEADER_FILE);
  if (file !== undefined) return decodeLineRecord(record, file);
  return decodeJsonEnvelope(record.value);
}

/** The bytes of header `name` (the first, when it is repeated), or undefined. */
function header(headers: RecordHeaders | undefined, name: string): Uint8Array | undefined {
  const h = headers?.[name];
  if (h === undefined) return undefined;
  const first = Array.isArray(h) ? h[0] : h;
  return typeof first === "string" ? utf8Encoder.encode(first) : first;
}

/** The last `sluice.f` headers read and what they said: a file's records come together. */
const fileCache = new Map<
  string,
  { source: string; path: string; fields?: Record<string, string> }
>();
/** Event id prefixes by record key (one SHA-256 per file, not per record). */
const prefixCache = new Map<string, string>();
const CACHE_ENTRIES = 4096;

/** Format 2: the line is the value; host and file id the key's; the rest in headers. */
function decodeLineRecord(record: RecordBytes, fileBytes: Uint8Array): DecodedEnvelope {
  const key = typeof record.key === "string"
    ? record.key
    : record.key
    ? latin.decode(record.key)
    : "";
  const slash = key.lastIndexOf("/");
  if (slash <= 0 || slash === key.length - 1) {
    return { problem: `format 2 record key '${key}' is not <host>/<file_id>` };
  }
  const fileText = latin.decode(fileBytes);
  let file = fileCache.get(fileText);
  if (!file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fileText);
    } catch (error) {
      return { problem: `header ${HEADER_FILE} is not JSON: ${(error as Error).message}` };
    }
    const f = parsed as { source?: unknown; path?: unknown; fields?: unknown };
    if (
      typeof f !== "object" || f === null || typeof f.source !== "string" ||
      typeof f.path !== "string" ||
      (f.fields !== undefined && (typeof f.fields !== "object" || f.fields === null))
    ) {
      return { problem: `header ${HEADER_FILE} lacks a source and a path: ${fileText}` };
    }
    file = f as { source: string; path: string; fields?: Record<string, string> };
    if (fileCache.size >= CACHE_ENTRIES) fileCache.clear();
    fileCache.set(fileText, file);
  }
  const lineBytes = header(record.headers, HEADER_LINE);
  const lineText = lineBytes ? latin.decode(lineBytes) : "";
  const match = /^(\d+)(?:\.(\d+))? (\S+)$/.exec(lineText);
  if (!match) return { problem: `header ${HEADER_LINE} '${lineText}' is not '<offset> <time>'` };
  let extra: Record<string, unknown> | undefined;
  const extraBytes = header(record.headers, HEADER_EXTRA);
  if (extraBytes) {
    try {
      extra = JSON.parse(latin.decode(extraBytes));
    } catch (error) {
      return { problem: `header ${HEADER_EXTRA} is not JSON: ${(error as Error).message}` };
    }
    if (typeof extra !== "object" || extra === null || Array.isArray(extra)) {
      return { problem: `header ${HEADER_EXTRA} is not a JSON object` };
    }
  }
  const host = key.slice(0, slash);
  const fileId = key.slice(slash + 1);
  let prefix = prefixCache.get(key);
  if (prefix === undefined) {
    prefix = eventIdPrefix(host, fileId);
    if (prefixCache.size >= CACHE_ENTRIES) prefixCache.clear();
    prefixCache.set(key, prefix);
  }
  const offset = Number(match[1]);
  const part = match[2] === undefined ? undefined : Number(match[2]);
  const { text, invalid } = decodeUtf8(record.value ?? new Uint8Array(0));
  const envelope: Envelope = {
    host,
    source: file.source,
    path: file.path,
    file_id: fileId,
    ...(file.fields && Object.keys(file.fields).length > 0 ? { fields: file.fields } : {}),
    "@timestamp": match[3],
    id: eventIdFrom(prefix, offset, part ?? 0),
    offset,
  } as Envelope;
  if (part !== undefined) envelope.part = part;
  if (invalid || extra?.invalid_utf8 === true) envelope.invalid_utf8 = true;
  if (typeof extra?.["event.ingested"] === "string") {
    envelope["event.ingested"] = extra["event.ingested"] as string;
  }
  if (Array.isArray(extra?.flags) && extra.flags.length > 0) {
    envelope.flags = extra.flags as string[];
  }
  if (typeof extra?.parsed === "object" && extra.parsed !== null) {
    envelope.parsed = extra.parsed as Record<string, unknown>;
  }
  envelope.message = text;
  return { envelope, format: 2 };
}

/** Format 1: the value is the envelope as JSON. */
function decodeJsonEnvelope(value: Uint8Array | null): DecodedEnvelope {
  if (value === null || value.length === 0) return { problem: "empty record value" };
  let json: string;
  try {
    json = utf8.decode(value);
  } catch {
    return { problem: "record value is not valid UTF-8" };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return { problem: `not JSON: ${(error as Error).message}` };
  }
  const problem = envelopeProblem(parsed);
  return problem === undefined ? { envelope: parsed as Envelope, format: 1 } : { problem };
}

/**
 * What is wrong with a parsed value that should be an envelope (a missing or mistyped required
 * field, an empty id), or undefined when nothing is.
 *
 * @example
 * ```ts
 * import { envelopeProblem } from "./record_format.ts";
 * envelopeProblem([1, 2]); // "not an envelope: the JSON value is an array"
 * envelopeProblem({ message: "x" }); // "not an envelope: missing or mistyped @timestamp, id, ..."
 * ```
 */
export function envelopeProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    return `not an envelope: the JSON value is ${kind}`;
  }
  const v = value as Record<string, unknown>;
  const wrong = REQUIRED.filter(([field, type]) =>
    type === "number" ? typeof v[field] !== "number" : typeof v[field] !== "string"
  ).map(([f]) => f);
  if (wrong.length > 0) return `not an envelope: missing or mistyped ${wrong.join(", ")}`;
  if ((v.id as string).length === 0) return "not an envelope: empty id";
  return undefined;
}

/**
 * True when `value` has the fields every envelope must have, with the right types, and a
 * `@timestamp` that parses as a date.
 *
 * @example
 * ```ts
 * import { isEnvelope } from "./record_format.ts";
 * isEnvelope({ message: "x" }); // false
 * ```
 */
export function isEnvelope(value: unknown): value is Envelope {
  return envelopeProblem(value) === undefined &&
    !Number.isNaN(Date.parse((value as Envelope)["@timestamp"]));
}
