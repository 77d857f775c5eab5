/**
 * The record format: how a line's envelope (core/envelope.ts) is laid out in a Kafka record, and
 * how it is read back. This module is its only owner (DESIGN.md, "Agent"): the agent encodes with
 * `FileRecordEncoder`, the transfer decodes with `decodeEnvelope`, and the round-trip tests beside
 * it hold the two to each other. A new layout is added here: the encoder moves to it, and the
 * decoder keeps reading every format an older agent may still send.
 *
 * Format 1, the only one so far. Key: `<host>/<file_id>`, so one file's lines stay in order on one
 * partition. Value: the envelope as one line of compact JSON, its fields in this order: `host`,
 * `source`, `path`, `file_id`, `fields`?, `@timestamp`, `id`, `offset`, `part`?, `invalid_utf8`?,
 * `event.ingested`? (the read time, when `@timestamp` is the line's own time), `flags`? (why a
 * line is not as its source asked: its time or a parser or processor step failed), `parsed`?,
 * `message`. The two optional fields came after the first agents: a transfer reads records with
 * and without them.
 * @module
 */
import { type Envelope, eventIdFrom, eventIdPrefix } from "./envelope.ts";

/** A record ready for the producer (the shape of kafka/producer.ts `ProducerRecord`). */
export interface EncodedRecord {
  key: string;
  value: string;
}

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

/**
 * Encodes the lines of one file. Everything the file's records share (the JSON of host, source,
 * path, file id and fields, the key, the event id prefix with its hash) is built once in the
 * constructor, so a line costs a few string concatenations and the JSON escaping of its text:
 * this is the agent's hot path. Build a new encoder when the file's path or identity changes.
 *
 * @example
 * ```ts
 * import { FileRecordEncoder } from "./record_format.ts";
 * const encoder = new FileRecordEncoder({
 *   host: "web-1", source: "nginx", path: "/var/log/nginx/access.log", fileId: "2049-1234-9f2c",
 * });
 * const record = encoder.encodeLine({ offset: 0, text: "GET / 200" }, "2026-11-21T00:00:00.000Z");
 * record.key; // "web-1/2049-1234-9f2c"
 * JSON.parse(record.value).message; // "GET / 200"
 * ```
 */
export class FileRecordEncoder {
  /** The record key of this file's lines (`recordKey`). */
  readonly key: string;
  /** The value up to the `@timestamp` string's content: shared by every line of the file. */
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

  /**
   * The record of one line. `timestamp` (the line's event time, or its read time) and
   * `extras.ingested` are ISO 8601 UTC strings as `Date.prototype.toISOString` writes them
   * (inserted without escaping); `extras` holds what the source's parser, event time and
   * processors made of the line, if it has any.
   */
  encodeLine(line: EncodableLine, timestamp: string, extras?: LineExtras): EncodedRecord {
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
  value: Uint8Array | null;
}

/**
 * A decoded record: the envelope and its JSON text (format 1: the record value itself, which the
 * transfer can index without serialising it again), or what is wrong with the record.
 */
export type DecodedEnvelope = { envelope: Envelope; json: string } | { problem: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

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
 * with it (the reason a dead letter carries). A record that is not JSON, or JSON without the
 * required fields, is refused; whether `@timestamp` is a date is left to the reader's routing.
 *
 * @example
 * ```ts
 * import { decodeEnvelope, FileRecordEncoder } from "./record_format.ts";
 * const encoder = new FileRecordEncoder({ host: "h", source: "s", path: "/a.log", fileId: "1-2-3" });
 * const { value } = encoder.encodeLine({ offset: 7, text: "x" }, "2026-11-21T00:00:00.000Z");
 * const decoded = decodeEnvelope({ value: new TextEncoder().encode(value) });
 * "envelope" in decoded && decoded.envelope.offset; // 7
 * decodeEnvelope({ value: new TextEncoder().encode("hello") }); // { problem: "not JSON: ..." }
 * ```
 */
export function decodeEnvelope(record: RecordBytes): DecodedEnvelope {
  // Format 1 is the only one so far. A later format marks its records (format 1 records carry
  // no header), is told apart here, and format 1 stays readable for agents not yet upgraded.
  return decodeJsonEnvelope(record.value);
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
  return problem === undefined ? { envelope: parsed as Envelope, json } : { problem };
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
