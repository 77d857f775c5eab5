/**
 * The dead-letter topic: records the engine rejected for their content, records that are not
 * envelopes, and documents too large for a bulk request are written there with the reason, so they never block their partition and are
 * never silently dropped. The record layout is pure (`deadLetterRecord`); sending goes through
 * the project's one Kafka producer (kafka/producer.ts), which retries until acknowledged.
 * @module
 */
import { Buffer } from "node:buffer";
import { createLogProducer, type LogProducer } from "../kafka/producer.ts";
import { createKafka, ensureTopic } from "../kafka/connection.ts";

/**
 * Why a record was dead-lettered: the engine rejected it, it is no envelope, or its document is
 * larger than a whole bulk request (`--bulk-max-bytes`).
 */
export type DeadLetterCause = "rejected" | "not_envelope" | "oversized";

/** One record that could not be indexed. */
export interface DeadLetter {
  cause: DeadLetterCause;
  /** The engine's reason ("mapper_parsing_exception: …") or the decoder's. */
  reason: string;
  /** HTTP status of the engine's rejection. */
  status?: number;
  /** The engine's error type, e.g. "mapper_parsing_exception". */
  errorType?: string;
  topic: string;
  partition: number;
  offset: number;
  key: Uint8Array | null;
  /** The original record value (for "rejected": the document source). */
  value: Uint8Array | string | null;
  /** Where it should have gone. */
  index?: string;
  id?: string;
}

/** The JSON value of a dead-letter record. */
export interface DeadLetterValue {
  cause: DeadLetterCause;
  reason: string;
  status?: number;
  error_type?: string;
  topic: string;
  partition: number;
  offset: number;
  index?: string;
  id?: string;
  dead_lettered_at: string;
  /** The original value: text when it was UTF-8, base64 otherwise; cut at `maxValueBytes`. */
  value: string | null;
  value_encoding: "utf8" | "base64";
  value_truncated: boolean;
  /** Size of the original value in bytes. */
  value_bytes: number;
}

/** Kafka refuses records over message.max.bytes (1 MiB by default); keep well under it. */
export const MAX_DEAD_LETTER_VALUE_BYTES = 512 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The key and value of the dead-letter record for `letter`.
 *
 * @example
 * ```ts
 * import { deadLetterRecord } from "./dead_letter.ts";
 * const { value } = deadLetterRecord({
 *   cause: "not_envelope", reason: "not JSON", topic: "logs", partition: 0, offset: 7,
 *   key: null, value: "hello",
 * }, new Date(0));
 * JSON.parse(value).value; // "hello"
 * ```
 */
export function deadLetterRecord(
  letter: DeadLetter,
  now: Date = new Date(),
  maxValueBytes = MAX_DEAD_LETTER_VALUE_BYTES,
): { key: string; value: string } {
  let value: string | null = null;
  let encoding: "utf8" | "base64" = "utf8";
  let truncated = false;
  let size = 0;
  if (letter.value !== null) {
    const bytes = typeof letter.value === "string" ? Buffer.from(letter.value) : letter.value;
    size = bytes.length;
    const kept = bytes.length > maxValueBytes ? bytes.subarray(0, maxValueBytes) : bytes;
    truncated = kept.length < bytes.length;
    try {
      value = utf8.decode(kept);
    } catch {
      // Not UTF-8 (or cut inside a character when truncated): keep the exact bytes.
      value = Buffer.from(kept).toString("base64");
      encoding = "base64";
    }
  }
  const body: DeadLetterValue = {
    cause: letter.cause,
    reason: letter.reason,
    ...(letter.status !== undefined ? { status: letter.status } : {}),
    ...(letter.errorType !== undefined ? { error_type: letter.errorType } : {}),
    topic: letter.topic,
    partition: letter.partition,
    offset: letter.offset,
    ...(letter.index !== undefined ? { index: letter.index } : {}),
    ...(letter.id !== undefined ? { id: letter.id } : {}),
    dead_lettered_at: now.toISOString(),
    value,
    value_encoding: encoding,
    value_truncated: truncated,
    value_bytes: size,
  };
  // Same key as the original, so a partitioned DLQ keeps one file's rejects in order.
  const key = letter.key !== null
    ? Buffer.from(letter.key).toString("utf8")
    : `${letter.topic}/${letter.partition}/${letter.offset}`;
  return { key, value: JSON.stringify(body) };
}

/** Where dead letters are sent. `send` resolves once they are stored durably. */
export interface DeadLetterSink {
  send(letters: readonly DeadLetter[]): Promise<void>;
  close(): Promise<void>;
}

export interface DeadLetterQueueOptions {
  brokers: string[];
  topic: string;
  clientId?: string;
}

/**
 * A DeadLetterSink writing to a Kafka topic (created when missing).
 *
 * @example
 * ```ts ignore
 * import { openDeadLetterQueue } from "./dead_letter.ts";
 * const dlq = await openDeadLetterQueue({ brokers: ["127.0.0.1:9092"], topic: "sluice-dead-letter" });
 * await dlq.send([{ cause: "not_envelope", reason: "not JSON", topic: "logs", partition: 0, offset: 1, key: null, value: "x" }]);
 * await dlq.close();
 * ```
 */
export async function openDeadLetterQueue(
  options: DeadLetterQueueOptions,
): Promise<DeadLetterSink> {
  const clientId = options.clientId ?? "sluice-transfer-dlq";
  await ensureTopic(createKafka({ brokers: options.brokers, clientId }), options.topic);
  const producer: LogProducer = createLogProducer({ brokers: options.brokers, clientId });
  return {
    send: (letters) =>
      letters.length === 0
        ? Promise.resolve()
        : producer.send(options.topic, letters.map((letter) => deadLetterRecord(letter))),
    close: () => producer.close({ timeoutMs: 5_000 }),
  };
}
