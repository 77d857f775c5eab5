/**
 * A Kafka record → the document to index, or the reason it cannot be one (not UTF-8, not JSON,
 * not an envelope, no datable `@timestamp`, larger than a whole bulk request). Pure; what cannot
 * be indexed goes to the dead-letter topic with that reason instead of stopping the partition.
 * @module
 */
import type { Envelope } from "../core/envelope.ts";
import type { ConsumedRecord } from "../kafka/consumer.ts";
import { type BulkDoc, bulkDoc, documentSource } from "./encoder.ts";
import { indexFor, type RoutingOptions } from "./routing.ts";

export type Decoded =
  | { doc: BulkDoc }
  /** `oversized`: a valid envelope whose document alone exceeds the bulk request bound. */
  | { reason: string; cause: "not_envelope" | "oversized" };

const utf8 = new TextDecoder("utf-8", { fatal: true });

const REQUIRED: [keyof Envelope, "string" | "number"][] = [
  ["@timestamp", "string"],
  ["id", "string"],
  ["host", "string"],
  ["source", "string"],
  ["path", "string"],
  ["file_id", "string"],
  ["offset", "number"],
  ["message", "string"],
];

/** What is wrong with a parsed value that should be an envelope, or undefined when nothing is. */
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
 * Decodes one record. A document over `maxDocBytes` (the transfer's `--bulk-max-bytes`) is
 * refused as oversized: it could only be sent in a request larger than the operator allows.
 *
 * @example
 * ```ts
 * import { decodeRecord } from "./decode.ts";
 * const value = new TextEncoder().encode("hello");
 * const record = { topic: "logs", partition: 0, offset: "5", key: null, value, timestamp: 0 };
 * decodeRecord(record, { prefix: "sluice", stream: "source" });
 * // { reason: "not JSON: ..." }
 * ```
 */
export function decodeRecord(
  record: ConsumedRecord,
  routing: RoutingOptions,
  maxDocBytes = Infinity,
): Decoded {
  const refuse = (reason: string): Decoded => ({ reason, cause: "not_envelope" });
  if (record.value === null || record.value.length === 0) return refuse("empty record value");
  let text: string;
  try {
    text = utf8.decode(record.value);
  } catch {
    return refuse("record value is not valid UTF-8");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return refuse(`not JSON: ${(error as Error).message}`);
  }
  const problem = envelopeProblem(parsed);
  if (problem) return refuse(problem);
  const envelope = parsed as Envelope;
  const index = indexFor(envelope, record.topic, routing);
  if (index === undefined) {
    return refuse(`@timestamp '${envelope["@timestamp"]}' is not a date between years 0 and 9999`);
  }
  const doc = bulkDoc(
    {
      topic: record.topic,
      partition: record.partition,
      offset: Number(record.offset),
      key: record.key,
    },
    index,
    envelope.id,
    documentSource(text, envelope),
  );
  if (doc.bytes > maxDocBytes) {
    return {
      cause: "oversized",
      reason: `the document is ${doc.bytes} bytes, more than a whole bulk request may hold ` +
        `(--bulk-max-bytes ${maxDocBytes})`,
    };
  }
  return { doc };
}
