/**
 * Envelopes → the NDJSON body of a `_bulk` request, each document under ECS names (document.ts).
 * Pure, and shared by both engines: the action line is `{"index":{"_index":…,"_id":<envelope id>}}`, so a record sent twice (retry,
 * restart, replay) overwrites its own document instead of adding a second one.
 * @module
 */
import { Buffer } from "node:buffer";
import type { Envelope } from "../core/envelope.ts";
import { logDocument } from "./document.ts";

/** One document ready for a bulk request, with the Kafka position it came from. */
export interface BulkDoc {
  topic: string;
  partition: number;
  offset: number;
  /** Target index (see routing.ts). */
  index: string;
  /** `_id`: the envelope's event id. */
  id: string;
  /** The document as one line of JSON text (no newline). */
  source: string;
  /** Bytes this document adds to a bulk body (action line + source + two newlines). */
  bytes: number;
  /** The Kafka record key, kept for the dead-letter record. */
  key: Uint8Array | null;
}

/**
 * The action line of one document, without its newline.
 *
 * @example
 * ```ts
 * import { actionLine } from "./encoder.ts";
 * actionLine("sluice-nginx-2024.03.09", "abc"); // '{"index":{"_index":"sluice-nginx-2024.03.09","_id":"abc"}}'
 * ```
 */
export function actionLine(index: string, id: string): string {
  return `{"index":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}`;
}

/**
 * The JSON text stored for an envelope: its ECS document (document.ts `logDocument`) on one line.
 * The record's own JSON text cannot be reused since the names change; one `JSON.stringify` of
 * the document costs about what re-reading the record cost.
 *
 * @example
 * ```ts
 * import { documentSource } from "./encoder.ts";
 * const text = documentSource({
 *   "@timestamp": "2026-01-02T03:04:05.000Z", id: "a", host: "h", source: "s", path: "/p",
 *   file_id: "f", offset: 0, message: "line\ntwo",
 * });
 * JSON.parse(text).host; // { name: "h" }
 * text.includes("\n"); // false: the newline of the message is escaped
 * ```
 */
export function documentSource(envelope: Envelope): string {
  return JSON.stringify(logDocument(envelope));
}

/**
 * A `BulkDoc` for an envelope whose index is known; `bytes` is exact (UTF-8).
 *
 * @example
 * ```ts
 * import { bulkDoc } from "./encoder.ts";
 * const doc = bulkDoc({ topic: "t", partition: 0, offset: 7, key: null }, "i", "id1", '{"m":"x"}');
 * doc.bytes; // 54
 * ```
 */
export function bulkDoc(
  position: { topic: string; partition: number; offset: number; key: Uint8Array | null },
  index: string,
  id: string,
  source: string,
): BulkDoc {
  const bytes = Buffer.byteLength(actionLine(index, id)) + Buffer.byteLength(source) + 2;
  return { ...position, index, id, source, bytes };
}

/**
 * The NDJSON body of a bulk request (every line, the last included, ends with `\n`).
 *
 * @example
 * ```ts
 * import { bulkDoc, encodeBulk } from "./encoder.ts";
 * const doc = bulkDoc({ topic: "t", partition: 0, offset: 0, key: null }, "i", "a", '{"m":1}');
 * encodeBulk([doc]); // '{"index":{"_index":"i","_id":"a"}}\n{"m":1}\n'
 * ```
 */
export function encodeBulk(docs: readonly BulkDoc[]): string {
  const parts = new Array<string>(docs.length * 2);
  for (let i = 0; i < docs.length; i++) {
    parts[2 * i] = actionLine(docs[i].index, docs[i].id);
    parts[2 * i + 1] = docs[i].source;
  }
  return parts.join("\n") + "\n";
}
