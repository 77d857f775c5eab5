/**
 * The agent's way to Kafka: `LogProducer` is the small interface the agent depends on (so the
 * client can be swapped), `createLogProducer` its implementation. Sends are encoded as soon as they
 * are queued, merged into batches after a short linger, and acknowledged strictly in call order; a
 * failed batch is retried (with a fresh idempotent producer) until it succeeds or the producer is
 * closed. Record batches and Produce requests are written by kafka/record_batch.ts; the connections
 * (TLS, SASL), metadata and producer ids come from @platformatic/kafka (see
 * docs/decisions/0003-own-record-batches.md).
 * @module
 */
import { Buffer } from "node:buffer";
import {
  type ClusterMetadata,
  crc32c,
  ProduceAcks,
  Producer,
  produceV9,
  Writer,
} from "@platformatic/kafka";
import { backoffDelay, sleep } from "../core/backoff.ts";
import { InvalidInputError, SluiceError } from "../core/errors.ts";
import { getLogger } from "../core/log.ts";
import { type Compression, SUPPORTED_COMPRESSION, UNAVAILABLE_COMPRESSION } from "./codecs.ts";
import { Compressor } from "./compressor.ts";
import { type KafkaConnectionOptions, producerConnection } from "./options.ts";
import {
  COMPRESSION_ATTRIBUTE,
  type EncodedRecords,
  encodeRecords,
  nextSequence,
  produceRequest,
  recordBatch,
  RecordsWriter,
  type TopicBatches,
} from "./record_batch.ts";

const textEncoder = new TextEncoder();

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
  /**
   * Requests sent before the first is acknowledged (default 3; Kafka keeps an idempotent
   * producer's order for up to 5).
   */
  maxInflight?: number;
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
  records: EncodedRecords;
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const log = getLogger("kafka", "producer");

/**
 * A LogProducer writing its own record batches over @platformatic/kafka's connections:
 * idempotent, acks=-1, up to `maxInflight` requests in flight in order, keys partitioned as the
 * Java client and kafkajs do (murmur2), so a source keeps its partition across client changes.
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
  return new KafkaLogProducer(options);
}

type BufferProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

/** A client with its idempotent producer id and the next sequence number of every partition. */
interface Session {
  client: BufferProducer;
  producerId: bigint;
  producerEpoch: number;
  sequences: Map<string, number>;
}

/** Kafka's Produce API key, and the version `produceRequest` writes. */
const PRODUCE_API_KEY = 0;
const PRODUCE_VERSION = 9;

/** Sends taken from the queue, written as one request per partition leader. */
interface Prepared {
  /** How many sends from the queue's head (or from where `#prepare` started). */
  sends: number;
  bytes: number;
  /** The batches by partition leader, once compressed. */
  ready: Promise<Map<number, TopicBatches[]>>;
}

/**
 * The partition of a key before it is taken modulo the topic's partition count: the Java client's
 * (and kafkajs') murmur2, made positive, so a key lands where it always did. 32-bit integer
 * arithmetic (`Math.imul`); @platformatic/kafka's `murmur2` works on BigInts, which allocated
 * ~1.5 KiB per call, one call per send.
 *
 * @example
 * ```ts
 * import { keyPartition } from "./producer.ts";
 * keyPartition(new TextEncoder().encode("web-1/64769-1234-ab12")) % 3; // the same every call
 * ```
 */
export function keyPartition(key: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = key.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= key[whole + 2] << 16;
    // falls through
    case 2:
      h ^= key[whole + 1] << 8;
    // falls through
    case 1:
      h ^= key[whole];
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h & 0x7fffffff;
}

class KafkaLogProducer implements LogProducer {
  readonly #options: LogProducerOptions;
  readonly #queue: Pending[] = [];
  #queuedBytes = 0;
  #session: Session | undefined;
  #wake: (() => void) | undefined;
  #closing = false;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  readonly #compression: Compression;
  readonly #maxBatchBytes: number;
  readonly #lingerMs: number;
  readonly #timeoutMs: number;
  readonly #maxInflight: number;
  /** Resolves once the latest request was handed to its connections. */
  #issued: Promise<void> = Promise.resolve();
  /** One records buffer per topic and partition, reused from request to request. */
  readonly #writers = new Map<string, Map<number, RecordsWriter>>();
  readonly #compressor: Compressor;

  constructor(options: LogProducerOptions) {
    this.#options = options;
    this.#compression = options.compression ?? "gzip";
    this.#maxBatchBytes = options.maxBatchBytes ?? 1_000_000;
    this.#lingerMs = options.lingerMs ?? 10;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#maxInflight = Math.min(5, Math.max(1, options.maxInflight ?? 3));
    this.#compressor = new Compressor(this.#compression);
    this.#loop = this.#run();
  }

  send(topic: string, records: ProducerRecord[]): Promise<void> {
    if (this.#closing) return Promise.reject(new ProducerClosedError());
    // Encoded now, so that the queue holds bytes, not one string per record for the garbage
    // collector to copy again and again while it waits.
    const encoded = encodeRecords(records);
    let bytes = encoded.data.length;
    for (let k = 0; k < encoded.keys.length; k++) {
      // Every record carries its key.
      bytes += encoded.keys[k].length *
        (encoded.keyEnds[k] - (k === 0 ? 0 : encoded.keyEnds[k - 1]));
    }
    // Even an empty send is queued, so it resolves after the sends before it.
    return new Promise((resolve, reject) =>
      this.#enqueue({ topic, records: encoded, bytes, resolve, reject })
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
    await this.#session?.client.close(true).catch(() => {});
    this.#compressor.close();
  }

  #enqueue(p: Pending): void {
    this.#queue.push(p);
    this.#queuedBytes += p.bytes;
    this.#wake?.();
  }

  /**
   * The client (metadata, connections, authentication) with a producer id, created on first use
   * and after every failure.
   */
  async #open(): Promise<Session> {
    if (this.#session) return this.#session;
    const client = new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...producerConnection({
        clientId: this.#options.clientId ?? "sluice-agent",
        brokers: this.#options.brokers,
        security: this.#options.security,
        connectionTimeoutMs: this.#options.connectionTimeoutMs,
        requestTimeoutMs: this.#options.requestTimeoutMs,
      }),
      // Idempotence is ours (`#prepare` numbers the batches); the client's idempotent mode would
      // hold every connection to one request in flight.
      maxInflights: this.#maxInflight,
      autocreateTopics: true,
      // Our own loop retries forever with a fresh producer; the client's retries cover blips.
      retries: 3,
      retryDelay: 250,
    });
    try {
      const { producerId, producerEpoch } = await client.initIdempotentProducer({});
      this.#session = { client, producerId, producerEpoch, sequences: new Map() };
      return this.#session;
    } catch (error) {
      await client.close(true).catch(() => {});
      throw error;
    }
  }

  /**
   * Sends the queue in order: up to `maxInflight` requests (per leader) wait for their
   * acknowledgement at a time, each written and compressed while the ones before it travel. The
   * idempotent producer's sequence numbers keep their records in order on the broker, and the
   * responses of one connection come back in request order, so sends still resolve in call order.
   */
  async #run(): Promise<void> {
    let attempt = 0;
    const inflight: { prepared: Prepared; acknowledged: Promise<void> }[] = [];
    /** Queue index of the first send not yet in a request. */
    let unsent = 0;
    while (!this.#stop.signal.aborted) {
      try {
        if (
          inflight.length > 0 &&
          (inflight.length >= this.#maxInflight || unsent >= this.#queue.length)
        ) {
          const { prepared, acknowledged } = inflight[0];
          await acknowledged;
          inflight.shift();
          if (attempt > 0) log.info("Kafka is reachable again; sending resumed");
          attempt = 0;
          const done = this.#queue.splice(0, prepared.sends);
          unsent -= prepared.sends;
          this.#queuedBytes -= prepared.bytes;
          for (const p of done) p.resolve();
          continue;
        }
        if (unsent >= this.#queue.length) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          this.#wake = undefined;
          continue;
        }
        if (
          inflight.length === 0 && this.#queuedBytes < this.#maxBatchBytes && this.#lingerMs > 0 &&
          attempt === 0
        ) {
          await sleep(this.#lingerMs);
        }
        const session = await this.#open();
        const prepared = await this.#prepare(session, unsent);
        unsent += prepared.sends;
        // Compressed on the worker while the next one is written; handed to the connections
        // strictly after the one before, so the broker sees the sequence numbers in order.
        const previous = this.#issued;
        const issued = Promise.withResolvers<void>();
        this.#issued = issued.promise;
        const acknowledged = (async () => {
          try {
            const requests = await prepared.ready;
            await previous;
            await this.#transmit(session, requests, issued.resolve);
          } finally {
            issued.resolve();
          }
        })();
        acknowledged.catch(() => {}); // its failure shows when it is awaited
        inflight.push({ prepared, acknowledged });
      } catch (error) {
        // Requests after the failed one carry sequence numbers of the producer id given up below.
        await Promise.allSettled(inflight.map((r) => r.acknowledged));
        inflight.length = 0;
        unsent = 0;
        this.#issued = Promise.resolve();
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
        const old = this.#session;
        this.#session = undefined;
        await old?.client.close(true).catch(() => {});
        await sleep(delay, this.#stop.signal).catch(() => {});
      }
    }
    await Promise.allSettled(inflight.map((r) => r.acknowledged));
  }

  /**
   * Takes the queued sends from index `start` (whole sends up to the byte limit, at least one)
   * and writes them into one compressed record batch per partition, grouped by leader.
   */
  async #prepare(session: Session, start: number): Promise<Prepared> {
    let sends = 0;
    let bytes = 0;
    while (
      start + sends < this.#queue.length &&
      (sends === 0 || bytes + this.#queue[start + sends].bytes <= this.#maxBatchBytes)
    ) {
      bytes += this.#queue[start + sends].bytes;
      sends++;
    }
    const batch = this.#queue.slice(start, start + sends);
    if (batch.every((p) => p.records.ends.length === 0)) {
      return { sends, bytes, ready: Promise.resolve(new Map()) };
    }
    const topics = [...new Set(batch.map((p) => p.topic))];
    const metadata = await session.client.metadata({ topics, autocreateTopics: true });
    this.#write(batch, metadata);
    return { sends, bytes, ready: this.#seal(session, metadata) };
  }

  /** Writes the records of `batch` into the writer of their topic and partition. */
  #write(batch: Pending[], metadata: ClusterMetadata): void {
    for (const byPartition of this.#writers.values()) {
      for (const w of byPartition.values()) w.reset();
    }
    let key = "";
    let keyBytes = new Uint8Array(0);
    let hash = 0;
    for (const { topic, records } of batch) {
      const partitions = metadata.topics.get(topic)!.partitionsCount;
      let byPartition = this.#writers.get(topic);
      if (!byPartition) this.#writers.set(topic, byPartition = new Map());
      const { data, ends, keys, keyEnds } = records;
      let start = 0;
      for (let k = 0; k < keys.length; k++) {
        // Consecutive sends of one file share their key: encode and hash it once per run of it.
        if (keys[k] !== key || keyBytes.length === 0) {
          key = keys[k];
          keyBytes = textEncoder.encode(key);
          hash = keyPartition(keyBytes);
        }
        const partition = hash % partitions;
        let writer = byPartition.get(partition);
        if (!writer) byPartition.set(partition, writer = new RecordsWriter());
        for (let i = k === 0 ? 0 : keyEnds[k - 1]; i < keyEnds[k]; i++) {
          writer.addBytes(keyBytes, data, start, ends[i]);
          start = ends[i];
        }
      }
    }
  }

  /**
   * The written records as one batch per partition, numbered with the partition's sequence and
   * compressed, grouped by partition leader. The writers are free again when this returns
   * (`compress` copies what it keeps); the batches are ready when the promise resolves.
   */
  #seal(session: Session, metadata: ClusterMetadata): Promise<Map<number, TopicBatches[]>> {
    const requests = new Map<number, TopicBatches[]>();
    const timestamp = Date.now();
    const compressed: Promise<void>[] = [];
    for (const [topic, byPartition] of this.#writers) {
      for (const [partition, writer] of byPartition) {
        if (writer.count === 0) continue;
        const leader = metadata.topics.get(topic)!.partitions[partition].leader;
        let forLeader = requests.get(leader);
        if (!forLeader) requests.set(leader, forLeader = []);
        let entry = forLeader.at(-1);
        if (entry?.topic !== topic) forLeader.push(entry = { topic, batches: [] });
        const sequenceKey = `${topic}:${partition}`;
        const baseSequence = session.sequences.get(sequenceKey) ?? 0;
        session.sequences.set(sequenceKey, nextSequence(baseSequence, writer.count));
        const header = {
          count: writer.count,
          timestamp,
          producerId: session.producerId,
          producerEpoch: session.producerEpoch,
          baseSequence,
          attributes: COMPRESSION_ATTRIBUTE[this.#compression],
        };
        const batches = entry.batches;
        const index = batches.push({ partition, batch: new Uint8Array(0) }) - 1;
        compressed.push(
          this.#compressor.compress(writer.bytes()).then((records) => {
            batches[index].batch = recordBatch(records, header, crc32c);
          }),
        );
      }
    }
    return Promise.all(compressed).then(() => requests);
  }

  /**
   * Sends a request to each leader; calls `issued` once they are handed to the connections and
   * resolves when every one is acknowledged.
   */
  async #transmit(
    session: Session,
    requests: Map<number, TopicBatches[]>,
    issued: () => void,
  ): Promise<void> {
    if (requests.size === 0) return;
    const leaders = [...requests.keys()];
    const connections = await session.client.connectToBrokers(leaders);
    const acknowledged = Promise.all(leaders.map((leader) => {
      const connection = connections.get(leader)!;
      const parts = produceRequest(
        requests.get(leader)!,
        ProduceAcks.ALL,
        this.#timeoutMs,
      );
      return new Promise<void>((resolve, reject) => {
        connection.send(
          PRODUCE_API_KEY,
          PRODUCE_VERSION,
          () => {
            const writer = Writer.create();
            for (const p of parts) writer.append(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
            return writer;
          },
          produceV9.parseResponse,
          true,
          true,
          (error) => error ? reject(error) : resolve(),
        );
      });
    }));
    issued();
    await acknowledged;
  }
}
