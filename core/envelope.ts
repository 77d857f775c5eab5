/**
 * The record envelope: what the agent says about every line and what the transfer indexes, and
 * the event id that makes a line one document however often it is sent. The contract between the
 * two halves of the pipeline (DESIGN.md, "Agent"); how an envelope is laid out in a Kafka record,
 * and checked when it is read back, is core/record_format.ts.
 * @module
 */
import { createHash } from "node:crypto";

export interface Envelope {
  /**
   * The line's event time (from the line where its source says how), else when the agent read
   * it; ISO 8601 UTC. Routes the document to its date shard.
   */
  "@timestamp": string;
  /** Event id, derived from (host, file identity, offset): the search engine's `_id`. */
  id: string;
  host: string;
  /** Source id from the config plane; the default index stream. */
  source: string;
  /** Path of the file when the line was read. */
  path: string;
  /** File identity (device, inode and fingerprint), stable across renames. */
  file_id: string;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  /** The line without its line ending (the joined lines for multiline). */
  message: string;
  /** Extra fields of the source. */
  fields?: Record<string, string>;
  /** Fields parsed from the line by the source's parser. */
  parsed?: Record<string, unknown>;
  /** Set when the line was longer than max_line_bytes: the part number, from 0. */
  part?: number;
  /** Set when the line was not valid UTF-8 (invalid bytes were replaced by U+FFFD). */
  invalid_utf8?: true;
  /** The read time, when `@timestamp` is the line's own time (ECS `event.ingested`). */
  "event.ingested"?: string;
  /** Why the line is not as its source asked: its time or a parser or processor step failed. */
  flags?: string[];
}

/**
 * The event id of a line: the same line read twice (after a restart, a replay) gets the same id,
 * so the search engine stores it once. It is the file's id prefix (`eventIdPrefix`) followed by
 * the line's byte offset in base 36, and `.part` for the second and later parts of a split line.
 *
 * @example
 * ```ts
 * import { eventId } from "./envelope.ts";
 * eventId("web-1", "2049-1234-9f2c", 0) === eventId("web-1", "2049-1234-9f2c", 0); // true
 * ```
 */
export function eventId(host: string, fileId: string, offset: number, part = 0): string {
  return eventIdFrom(eventIdPrefix(host, fileId), offset, part);
}

/**
 * The part of the event id shared by every line of a file: 22 base64url characters (132 bits) of
 * SHA-256 over the host and the file identity. Hashing once per file rather than once per line
 * keeps the id off the agent's hot path, and ids of one file that share a prefix and grow with the
 * offset are cheaper for the search engine's `_id` index than random ones.
 */
export function eventIdPrefix(host: string, fileId: string): string {
  return createHash("sha256").update(`${host}\u0000${fileId}`).digest("base64url").slice(0, 22);
}

/** The event id of the line at `offset` (part `part`) of the file with id prefix `prefix`. */
export function eventIdFrom(prefix: string, offset: number, part = 0): string {
  return part === 0 ? prefix + offset.toString(36) : `${prefix}${offset.toString(36)}.${part}`;
}
