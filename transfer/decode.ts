/**
 * A Kafka record → the document to index (under ECS names: document.ts), or the reason it cannot be one (not an envelope in any
 * record format, as core/record_format.ts reads it; no datable `@timestamp`; larger than a whole
 * bulk request). Pure; what cannot be indexed goes to the dead-letter topic with that reason
 * instead of stopping the partition.
 * @module
 */
import { decodeEnvelope } from "../core/record_format.ts";
import type { ConsumedRecord } from "../kafka/consumer.ts";
import { type BulkDoc, bulkDoc, documentSource } from "./encoder.ts";
import { indexFor, type RoutingOptions } from "./routing.ts";

export type Decoded =
  | { doc: BulkDoc }
  /** `oversized`: a valid envelope whose document alone exceeds the bulk request bound. */
  | { reason: string; cause: "not_envelope" | "oversized" };

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
  // What a record must hold, in whichever format an agent wrote it, is the record format's rule.
  const decoded = decodeEnvelope(record);
  if ("problem" in decoded) return refuse(decoded.problem);
  const { envelope } = decoded;
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
    documentSource(envelope),
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
