/**
 * What a failed Kafka send means, decided once (pure, no I/O): `classifySendError` sorts an error
 * of the client or a partition's error code into connection-level trouble (every topic waits),
 * a refusal of the topic (only its lane waits, and says so), a refusal of the records (split the
 * batch, or dead-letter the one record) or an idempotent producer out of step (start a fresh
 * producer id); `decideSendFailure` turns that into what the producer does next.
 * kafka/producer.ts only carries the answer out (see docs/decisions/0006-kafka-output-per-topic.md).
 * @module
 */

/**
 * - `unreachable`: the broker or the network (down, timing out, a leader moving, too few
 *   replicas, credentials): every topic waits for it alike;
 * - `topic_refused`: the cluster refuses this topic (an invalid or colliding name, no permission,
 *   a topic that does not exist and is not created, a codec or timestamp it does not take);
 * - `record_refused`: the cluster refuses these records (larger than the topic's
 *   `max.message.bytes`, or invalid for it): retrying the same bytes can never succeed;
 * - `out_of_sequence`: the idempotent producer's numbering no longer matches the broker's,
 *   normally because a batch before it failed.
 */
export type SendFailureKind =
  | "unreachable"
  | "topic_refused"
  | "record_refused"
  | "out_of_sequence";

/**
 * - `retry`: send again after a backoff (with a fresh producer id);
 * - `refuse_topic`: the same, and the topic is reported as refused (status, /healthz, metrics);
 * - `split`: send the records of the refused batch again in smaller batches, at once;
 * - `dead_letter`: the batch is one record: send it to the dead-letter topic with the reason and
 *   count it as delivered.
 */
export type SendAction = "retry" | "refuse_topic" | "split" | "dead_letter";

/** A classified error: its kind, the Kafka error name (or the client's code) and a sentence. */
export interface ClassifiedError {
  kind: SendFailureKind;
  /** Kafka's error name (`INVALID_TOPIC_EXCEPTION`, `MESSAGE_TOO_LARGE`...) or the client's code. */
  code: string;
  /** What went wrong, for a log line or a status: the code's meaning and the broker's words. */
  message: string;
}

/** Kafka error names that refuse the topic: retrying helps only once someone changes something. */
const TOPIC_REFUSALS: ReadonlySet<string> = new Set([
  "INVALID_TOPIC_EXCEPTION",
  "TOPIC_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "UNKNOWN_TOPIC_ID",
  "POLICY_VIOLATION",
  "INVALID_PARTITIONS",
  "INVALID_REPLICATION_FACTOR",
  "INVALID_CONFIG",
  "INVALID_REQUIRED_ACKS",
  "UNSUPPORTED_FOR_MESSAGE_FORMAT",
  "UNSUPPORTED_COMPRESSION_TYPE",
  // Batches carry the time they are written: only a host clock far off the broker's is refused.
  "INVALID_TIMESTAMP",
]);

/** Kafka error names that refuse the records themselves. */
const RECORD_REFUSALS: ReadonlySet<string> = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
]);

/** Kafka error names of an idempotent producer whose sequence numbers are out of step. */
const SEQUENCE_ERRORS: ReadonlySet<string> = new Set([
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "DUPLICATE_SEQUENCE_NUMBER",
  "INVALID_PRODUCER_EPOCH",
  "INVALID_PRODUCER_ID_MAPPING",
  "UNKNOWN_PRODUCER_ID",
  "PRODUCER_FENCED",
]);

/** Which kind wins when one error holds several (a Metadata answer for several topics). */
const PRECEDENCE: readonly SendFailureKind[] = [
  "record_refused",
  "topic_refused",
  "unreachable",
  "out_of_sequence",
];

/** The kind of a Kafka error name (`MESSAGE_TOO_LARGE`...). */
function kindOfCode(code: string): SendFailureKind {
  if (TOPIC_REFUSALS.has(code)) return "topic_refused";
  if (RECORD_REFUSALS.has(code)) return "record_refused";
  if (SEQUENCE_ERRORS.has(code)) return "out_of_sequence";
  return "unreachable";
}

interface ErrorShape {
  message?: unknown;
  code?: unknown;
  apiId?: unknown;
  serverErrorMessage?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/** The leaves of an error: kafka/cluster.ts nests the errors of the brokers it tried in `errors`. */
function leaves(error: unknown, depth = 0, out: ErrorShape[] = []): ErrorShape[] {
  if (!error || typeof error !== "object") {
    out.push({ message: String(error) });
    return out;
  }
  const e = error as ErrorShape;
  const nested = Array.isArray(e.errors) ? e.errors : [];
  if (typeof e.apiId === "string" || nested.length === 0 || depth > 6) out.push(e);
  else for (const inner of nested) leaves(inner, depth + 1, out);
  return out;
}

/** A message and those of its causes, joined ("Connection to k:9092 failed: ECONNREFUSED"). */
function withCauses(leaf: ErrorShape): string {
  const parts: string[] = [];
  let e: ErrorShape | undefined = leaf;
  for (let depth = 0; e && depth < 5; depth++) {
    const text = typeof e.message === "string" ? e.message : "";
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
    e = e.cause && typeof e.cause === "object" ? e.cause as ErrorShape : undefined;
  }
  return parts.join(": ") || "unknown error";
}

/** One leaf: a Kafka error code (`apiId`), or anything else. */
function classifyLeaf(leaf: ErrorShape): ClassifiedError {
  const text = withCauses(leaf);
  if (typeof leaf.apiId === "string") {
    const words = leaf.serverErrorMessage;
    const broker = typeof words === "string" && words && !text.includes(words)
      ? ` (broker: ${words})`
      : "";
    return { kind: kindOfCode(leaf.apiId), code: leaf.apiId, message: `${text}${broker}` };
  }
  const code = typeof leaf.code === "string" && leaf.code ? leaf.code : "ERROR";
  return { kind: "unreachable", code, message: text };
}

/**
 * Classifies an error of a send: a client error (network, timeout, a Metadata or Produce answer
 * with error codes, possibly nested in retries) or a partition's error as a ProtocolError. An
 * error holding several codes is classified by the one that matters most (record refusal, then
 * topic refusal, then the rest). Anything unknown is `unreachable`: retried, as before.
 *
 * @example
 * ```ts
 * import { classifySendError } from "./send_failure.ts";
 * classifySendError({ apiId: "INVALID_TOPIC_EXCEPTION", message: "invalid topic" }).kind;
 * // "topic_refused"
 * classifySendError(new Error("connect ECONNREFUSED 127.0.0.1:9092")).kind; // "unreachable"
 * ```
 */
export function classifySendError(error: unknown): ClassifiedError {
  const found = leaves(error).map(classifyLeaf);
  let best = found[0];
  for (const c of found) {
    if (PRECEDENCE.indexOf(c.kind) < PRECEDENCE.indexOf(best.kind)) best = c;
  }
  return best;
}

/**
 * The kind of a partition's error code in a Produce answer (`errorCode` of a partition response).
 *
 * @example
 * ```ts
 * import { kindOfErrorName } from "./send_failure.ts";
 * kindOfErrorName("MESSAGE_TOO_LARGE"); // "record_refused"
 * ```
 */
export function kindOfErrorName(code: string): SendFailureKind {
  return kindOfCode(code);
}

/** What is known about the batch a failure is about. */
export interface FailureContext {
  /** Records of the refused batch still to deliver (0 when the failure is not about one batch). */
  records: number;
  /** Whether a dead-letter topic is set for records no batch can carry. */
  deadLetter: boolean;
}

/**
 * What to do about a failure (pure): retry the connection-level and sequence troubles, retry and
 * report a refused topic, split a refused batch of several records, dead-letter a refused single
 * record; without a dead-letter topic such a record holds its topic, which is then reported as
 * refused (it is never dropped).
 *
 * @example
 * ```ts
 * import { decideSendFailure } from "./send_failure.ts";
 * decideSendFailure("record_refused", { records: 40, deadLetter: true }); // "split"
 * decideSendFailure("record_refused", { records: 1, deadLetter: true }); // "dead_letter"
 * decideSendFailure("topic_refused", { records: 40, deadLetter: true }); // "refuse_topic"
 * ```
 */
export function decideSendFailure(kind: SendFailureKind, context: FailureContext): SendAction {
  switch (kind) {
    case "unreachable":
    case "out_of_sequence":
      return "retry";
    case "topic_refused":
      return "refuse_topic";
    case "record_refused":
      if (context.records > 1) return "split";
      return context.records === 1 && context.deadLetter ? "dead_letter" : "refuse_topic";
  }
}
