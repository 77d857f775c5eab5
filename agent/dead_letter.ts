/**
 * The agent's dead letters: a line whose record its topic refuses for itself (larger than the
 * topic's `max.message.bytes`, or invalid for it) cannot be retried into that topic, ever. It is
 * written to the dead-letter topic instead, as a letter saying why, where the line is (host,
 * source, path, offset, event id) and how it starts, and its send counts as delivered so the
 * file's checkpoint moves on. The line itself stays in the log file on the host. The layout is
 * pure (`deadLetterFor`); kafka/topic_producers.ts sends it.
 * @module
 */
import { decodeEnvelope, readHeaders } from "../core/record_format.ts";
import type { ProducerRecord, RefusedRecord } from "../kafka/producer.ts";

/** Where the agent's dead letters go unless `--dead-letter-topic` says otherwise. */
export const DEFAULT_DEAD_LETTER_TOPIC = "sluice-agent-dead-letter";

/** How much of the line a letter keeps, in UTF-8 bytes. */
export const DEAD_LETTER_PREFIX_BYTES = 1024;

/** The JSON value of a dead letter. */
export interface DeadLetterValue {
  /** Kafka's error name, e.g. MESSAGE_TOO_LARGE. */
  code: string;
  /** Why the topic refused it, in a sentence. */
  reason: string;
  /** The topic (and partition) that refused it. */
  topic: string;
  partition: number;
  /** The envelope's fields that find the line again (absent when the record is no envelope). */
  id?: string;
  host?: string;
  source?: string;
  path?: string;
  file_id?: string;
  offset?: number;
  part?: number;
  "@timestamp"?: string;
  /** Size of the refused record's value, bytes. */
  value_bytes: number;
  /** The line's first bytes (the raw value's, when it is no envelope). */
  prefix: string;
  /** True when `prefix` is not the whole line. */
  prefix_truncated: boolean;
  dead_lettered_at: string;
}

/**
 * The longest start of `text` whose UTF-8 form has at most `maxBytes` bytes, never cutting a
 * character in two; and whether it is shorter than `text`.
 */
function utf8Prefix(text: string, maxBytes: number): { prefix: string; truncated: boolean } {
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) return { prefix: text.slice(0, i), truncated: true };
    bytes += size;
    i += ch.length;
  }
  return { prefix: text, truncated: false };
}

/**
 * The letter for a record its topic refused: its key is the record's own (a file's letters stay
 * in order on one partition), its value a `DeadLetterValue`. Pure.
 *
 * @example
 * ```ts
 * import { deadLetterFor } from "./dead_letter.ts";
 * import { FileRecordEncoder } from "../core/record_format.ts";
 * const encoder = new FileRecordEncoder({ host: "web-1", source: "app", path: "/var/log/app.log", fileId: "1-2-3" });
 * encoder.begin("2026-01-01T00:00:00.000Z");
 * encoder.addLine({ offset: 4096, text: "x".repeat(3000) }, "2026-01-01T00:00:00.000Z");
 * const sent = encoder.finish();
 * const { letter } = deadLetterFor({
 *   topic: "logs", partition: 0, key: encoder.key,
 *   value: sent.data.subarray(0, sent.valueEnds[0]),
 *   headers: sent.data.subarray(sent.valueEnds[0], sent.ends[0]),
 *   code: "MESSAGE_TOO_LARGE", reason: "The request included a message larger than the max message size the server will accept.",
 * }, new Date(0));
 * [letter.source, letter.path, letter.offset, letter.prefix.length]; // ["app", "/var/log/app.log", 4096, 1024]
 * ```
 */
export function deadLetterFor(
  refused: RefusedRecord,
  now: Date = new Date(),
  prefixBytes: number = DEAD_LETTER_PREFIX_BYTES,
): { record: ProducerRecord; letter: DeadLetterValue } {
  const decoded = decodeEnvelope({
    key: refused.key,
    value: refused.value,
    headers: refused.headers ? readHeaders(refused.headers) : undefined,
  });
  let found: Partial<DeadLetterValue> = {};
  let text: string;
  if ("envelope" in decoded) {
    const e = decoded.envelope;
    found = {
      id: e.id,
      host: e.host,
      source: e.source,
      path: e.path,
      file_id: e.file_id,
      offset: e.offset,
      ...(e.part !== undefined ? { part: e.part } : {}),
      "@timestamp": e["@timestamp"],
    };
    text = e.message;
  } else {
    text = new TextDecoder().decode(refused.value);
  }
  const { prefix, truncated } = utf8Prefix(text, prefixBytes);
  const letter: DeadLetterValue = {
    code: refused.code,
    reason: refused.reason,
    topic: refused.topic,
    partition: refused.partition,
    ...found,
    value_bytes: refused.value.length,
    prefix,
    prefix_truncated: truncated,
    dead_lettered_at: now.toISOString(),
  };
  return { record: { key: refused.key, value: JSON.stringify(letter) }, letter };
}
