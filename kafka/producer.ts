/**
 * The agent's way to Kafka: `LogProducer` is the small interface the agent depends on (so the
 * client can be swapped), `createLogProducer` its @platformatic/kafka implementation (see
 * docs/decisions/0002-producer-on-platformatic-kafka.md). Sends are queued, merged into batches
 * after a short linger, and acknowledged strictly in call order; a failed batch is retried (with a
 * fresh idempotent producer) until it succeeds or the producer is closed.
 * @module
 */
import { Buffer } from "node:buffer";
import { murmur2, ProduceAcks, Producer } from "@platformatic/kafka";
import { backoffDelay, sleep } from "../core/backoff.ts";
import { InvalidInputError, SluiceError } from "../core/errors.ts";
import { getLogger } from "../core/log.ts";
import { type Compression, SUPPORTED_COMPRESSION, UNAVAILABLE_COMPRESSION } from "./codecs.ts";
import { type KafkaConnectionOptions, producerConnection } from "./options.ts";

/** One Kafka record: key and value as text. */
export interface ProducerRecord {
  key: string;
  value: string;
}

/** What the agent needs from a Kafka client. */
export interface LogProducer {
  /**
   * Queues records for `topic`. Resolves only when every record is acknowledged by all in-sync
   * replicas, and never before an earlier `send` resolved; rejects only when the producer is
   * closed before that.
   */
  send(topic: string, records: ProducerRecord[]): Promise<void>;
  /** Waits up to `timeoutMs` for queued records, then stops; what is still queued is rejected. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export { type Compression, SUPPORTED_COMPRESSION } from "./codecs.ts";

/**
 * Checks a compression name from the settings.
 *
 * @example
 * ```ts
 * import { parseCompression } from "./producer.ts";
 * parseCompression("gzip"); // "gzip"
 * ```
 */
export function parseCompression(name: string): Compression {
  const lower = name.toLowerCase();
  if ((SUPPORTED_COMPRESSION as readonly string[]).includes(lower)) return lower as Compression;
  throw new InvalidInputError(
    `compression '${name}' is ${UNAVAILABLE_COMPRESSION[lower] ?? "unknown"}; supported: ${
      SUPPORTED_COMPRESSION.join(", ")
    }`,
  );
}

export interface LogProducerOptions extends Partial<Omit<KafkaConnectionOptions, "brokers">> {
  brokers: string[];
  /** Default "gzip". */
  compression?: Compression;
  /** How long a small batch waits for more records, ms (default 10). */
  lingerMs?: number;
  /** Most value+key bytes in one request (default 1,000,000, under Kafka's default message.max.bytes). */
  maxBatchBytes?: number;
  /** Called on every failed attempt (metrics, status). */
  onError?: (error: unknown) => void;
}

/** The producer was closed while records were still waiting for their acknowledgement. */
export class ProducerClosedError extends SluiceError {
  constructor() {
    super("Kafka producer closed before the records were acknowledged");
  }
}

interface Pending {
  topic: string;
  records: ProducerRecord[];
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const log = getLogger("kafka", "producer");

/**
 * A LogProducer on @platformatic/kafka: idempotent, acks=-1, one request in flight (so order
 * holds), keys partitioned as the Java client and kafkajs do (murmur2), so a source keeps its
 * partition across the client change.
 *
 * @example
 * ```ts
 * import { createLogProducer } from "./producer.ts";
 * const producer = createLogProducer({ brokers: ["127.0.0.1:9092"] });
 * await producer.send("logs", [{ key: "web-1/2049-12-ab", value: '{"message":"hi"}' }]);
 * await producer.close();
 * ```
 */
export function createLogProducer(options: LogProducerOptions): LogProducer {
  return new PlatformaticLogProducer(options);
}

type BufferProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

interface OutgoingMessage {
  topic: string;
  key: Buffer;
  value: Buffer;
  partition: number;
}

/**
 * The partition of a key before the client takes it modulo the topic's partition count: the Java
 * client's (and kafkajs') murmur2, so a key lands where it always did.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { keyPartition } from "./producer.ts";
 * keyPartition(Buffer.from("web-1/64769-1234-ab12")) % 3; // the same partition for every call
 * ```
 */
export function keyPartition(key: Buffer): number {
  return murmur2(key) & 0x7fffffff;
}

class PlatformaticLogProducer implements LogProducer {
  readonly #options: LogProducerOptions;
  readonly #queue: Pending[] = [];
  #queuedBytes = 0;
  #producer: BufferProducer | undefined;
  #wake: (() => void) | undefined;
  #closing = false;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  readonly #compression: Compression;
  readonly #maxBatchBytes: number;
  readonly #lingerMs: number;

  constructor(options: LogProducerOptions) {
    this.#options = options;
    this.#compression = options.compression ?? "gzip";
    this.#maxBatchBytes = options.maxBatchBytes ?? 1_000_000;
    this.#lingerMs = options.lingerMs ?? 10;
    this.#loop = this.#run();
  }

  send(topic: string, records: ProducerRecord[]): Promise<void> {
    if (this.#closing) return Promise.reject(new ProducerClosedError());
    if (records.length === 0) {
      // Still ordered after earlier sends.
      return new Promise((resolve, reject) =>
        this.#enqueue({ topic, records, bytes: 0, resolve, reject })
      );
    }
    let bytes = 0;
    for (const r of records) bytes += r.value.length + r.key.length;
    return new Promise((resolve, reject) =>
      this.#enqueue({ topic, records, bytes, resolve, reject })
    );
  }

  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing = true;
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    while (this.#queue.length > 0 && Date.now() < deadline) await sleep(20);
    this.#stop.abort(new ProducerClosedError());
    this.#wake?.();
    await this.#loop;
    for (const p of this.#queue.splice(0)) p.reject(new ProducerClosedError());
    await this.#producer?.close(true).catch(() => {});
  }

  #enqueue(p: Pending): void {
    this.#queue.push(p);
    this.#queuedBytes += p.bytes;
    this.#wake?.();
  }

  /** The producer, created on first use; it connects (and gets its producer id) on first send. */
  #client(): BufferProducer {
    this.#producer ??= new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...producerConnection({
        clientId: this.#options.clientId ?? "sluice-agent",
        brokers: this.#options.brokers,
        security: this.#options.security,
        connectionTimeoutMs: this.#options.connectionTimeoutMs,
        requestTimeoutMs: this.#options.requestTimeoutMs,
      }),
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: this.#compression,
      autocreateTopics: true,
      maxInflights: 1,
      // Our own loop retries forever with a fresh producer; the client's retries cover blips.
      retries: 3,
      retryDelay: 250,
    });
    return this.#producer;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#stop.signal.aborted) {
      if (this.#queue.length === 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      if (this.#queuedBytes < this.#maxBatchBytes && this.#lingerMs > 0 && attempt === 0) {
        await sleep(this.#lingerMs);
      }
      // Take whole sends up to the byte limit (at least one, however big).
      let n = 0;
      let bytes = 0;
      while (
        n < this.#queue.length && (n === 0 || bytes + this.#queue[n].bytes <= this.#maxBatchBytes)
      ) {
        bytes += this.#queue[n].bytes;
        n++;
      }
      const batch = this.#queue.slice(0, n);
      try {
        const producer = this.#client();
        const messages: OutgoingMessage[] = [];
        let key = "";
        let keyBytes = Buffer.alloc(0);
        let partition = 0;
        for (const { topic, records } of batch) {
          for (const r of records) {
            // A send's records normally share one key: encode and hash it once per run of it.
            if (r.key !== key || messages.length === 0) {
              key = r.key;
              keyBytes = Buffer.from(key);
              partition = keyPartition(keyBytes);
            }
            messages.push({ topic, key: keyBytes, value: Buffer.from(r.value), partition });
          }
        }
        if (messages.length > 0) await producer.send({ messages });
        if (attempt > 0) log.info("Kafka is reachable again; sending resumed");
        attempt = 0;
        this.#queue.splice(0, n);
        this.#queuedBytes -= bytes;
        for (const p of batch) p.resolve();
      } catch (error) {
        this.#options.onError?.(error);
        const delay = backoffDelay(attempt, { initialMs: 200, maxMs: 5_000, jitter: 0.5 });
        log.warn("Kafka send failed (attempt {attempt}), retrying in {delay} ms: {error}", {
          attempt: attempt + 1,
          delay,
          error: (error as Error).message,
        });
        attempt++;
        // The idempotent producer's sequence numbers may be out of step after a failure: start a
        // fresh one (new producer id) rather than risk OutOfOrderSequence errors forever.
        const old = this.#producer;
        this.#producer = undefined;
        await old?.close(true).catch(() => {});
        await sleep(delay, this.#stop.signal).catch(() => {});
      }
    }
  }
}
