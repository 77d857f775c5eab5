/**
 * The agent's way to Kafka: `LogProducer` is the small interface the agent depends on (so the
 * client can be swapped), `createLogProducer` its implementation. Sends are encoded as soon as they
 * are queued, merged into batches after a short linger, and acknowledged strictly in call order.
 * A failure is classified (kafka/send_failure.ts): connection trouble and a refused topic are
 * retried with backoff and a fresh idempotent producer id until they pass or the producer is
 * closed; a batch the topic refuses as too large is split, and a single record it refuses goes to
 * the dead-letter route when there is one. Records that some partitions took while others failed
 * are not sent again. Record batches and Produce requests are written by kafka/record_batch.ts;
 * the connections (TLS, SASL), metadata and producer ids from kafka/cluster.ts, and they can be
 * shared by several producers (`ProducerConnections`; see docs/decisions/0003-own-record-batches.md,
 * 0006-kafka-output-per-topic.md and 0008-own-kafka-connections.md).
 * @module
 */
import { kafkaSecurityFromEnv } from "../core/security.ts";
import type { BrokerConnection } from "./broker_connection.ts";
import { type ClusterMetadata, KafkaCluster } from "./cluster.ts";
import { crc32c } from "./crc32c.ts";
import { ApiKey, KafkaProtocolError, parseProduce, type ProduceAnswer } from "./wire.ts";
import { backoffDelay, sleep } from "../core/backoff.ts";
import { InvalidInputError, SluiceError } from "../core/errors.ts";
import { getLogger } from "../core/log.ts";
import { type Compression, SUPPORTED_COMPRESSION, UNAVAILABLE_COMPRESSION } from "./codecs.ts";
import {
  type ClassifiedError,
  classifySendError,
  decideSendFailure,
  type SendAction,
} from "./send_failure.ts";
import { Compressor } from "./compressor.ts";
import type { KafkaConnectionOptions } from "./options.ts";
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
export type { EncodedRecords } from "./record_batch.ts";

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
  /**
   * `send` for records already encoded (core/record_format.ts `FileRecordEncoder`: values and
   * headers as bytes in a slab), so no string per record is made on the way.
   */
  sendEncoded(topic: string, records: EncodedRecords): Promise<void>;
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
  /** Called on every failure of an attempt, classified and with its topic when it has one. */
  onFailure?: (failure: SendFailure) => void;
  /**
   * Called after every failed attempt that is retried after a backoff (connection trouble, a
   * refused topic), and with undefined once a request is acknowledged again.
   */
  onProblem?: (problem: SendProblem | undefined) => void;
  /**
   * Where a single record that the topic refuses (too large for its `max.message.bytes`, invalid)
   * goes instead; its send then resolves. Without one such a record holds the producer, which
   * reports its topic as refused and retries (the record is never dropped).
   */
  deadLetter?: DeadLetterRoute;
  /**
   * The client, compressor and record buffers to use (shared by kafka/topic_producers.ts between
   * its producers); default: its own, closed with it.
   */
  connections?: ProducerConnections;
}

/** One failure of an attempt, as `classifySendError` sees it and what the producer does about it. */
export interface SendFailure extends ClassifiedError {
  /** The topic it is about; undefined when it is not about one (the producer's own start). */
  topic?: string;
  partition?: number;
  action: SendAction;
  /** Failed attempts in a row, this one included. */
  attempt: number;
}

/** Why a producer is not delivering: what `onProblem` reports and status pages show. */
export interface SendProblem {
  /** `refused`: the topic (or a record no batch can carry) is refused; `unreachable`: the rest. */
  kind: "refused" | "unreachable";
  topic?: string;
  /** Kafka's error name, e.g. INVALID_TOPIC_EXCEPTION. */
  code: string;
  message: string;
  /** When this run of failures began. */
  since: Date;
  attempts: number;
}

/** A record the topic refused, as handed to a `DeadLetterRoute`. */
export interface RefusedRecord {
  topic: string;
  partition: number;
  key: string;
  /** The record's value (a view: copy what is kept beyond the call). */
  value: Uint8Array;
  /** The record's headers in wire form (count, then name and value of each), if it has any. */
  headers?: Uint8Array;
  /** Kafka's error name, e.g. MESSAGE_TOO_LARGE. */
  code: string;
  /** Why, in a sentence. */
  reason: string;
}

/** Where records no batch can carry go; `send` resolves once they are stored there. */
export interface DeadLetterRoute {
  send(record: RefusedRecord): Promise<void>;
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
  /** Records before this one are acknowledged (a request ended inside this send). */
  from: number;
  /**
   * Records acknowledged out of turn (1): taken by a partition while another partition of their
   * request failed, or dead-lettered. Allocated only then; skipped when the rest is sent again.
   */
  stored: Uint8Array | undefined;
}

/** A place in the queue: send number `n` (counted since the producer started), record `r` of it. */
interface Position {
  n: number;
  r: number;
}

const log = getLogger("kafka", "producer");

/**
 * A LogProducer writing its own record batches over @platformatic/kafka's connections:
 * idempotent, acks=-1, up to `maxInflight` requests in flight in order, keys partitioned as the
 * Java client and kafkajs do (murmur2), so a source keeps its partition across client changes.
 *
 * @example
 * ```ts ignore
 * import { createLogProducer } from "./producer.ts";
 * const producer = createLogProducer({ brokers: ["127.0.0.1:9092"] });
 * await producer.send("logs", [{ key: "web-1/2049-12-ab", value: '{"message":"hi"}' }]);
 * await producer.close();
 * ```
 */
export function createLogProducer(options: LogProducerOptions): LogProducer {
  return new KafkaLogProducer(options);
}

/**
 * What producers can share: the client (connections to the brokers with their TLS and SASL,
 * the metadata cache), the compressor (and its worker thread) and the record buffers. A producer
 * per topic (kafka/topic_producers.ts) then costs a queue and a producer id, not connections.
 * The connections heal by themselves (a closed one is opened again when next needed), so a
 * producer's failure never closes what the others use.
 */
export class ProducerConnections {
  readonly client: KafkaCluster;
  readonly compressor: Compressor;
  readonly compression: Compression;
  /** Buffers for the records of one request's partitions, taken and given back synchronously. */
  readonly writers: WriterPool = new WriterPool();
  #closed = false;

  constructor(
    options: Pick<
      LogProducerOptions,
      | "brokers"
      | "clientId"
      | "security"
      | "connectionTimeoutMs"
      | "requestTimeoutMs"
      | "compression"
    >,
  ) {
    this.compression = options.compression ?? "gzip";
    this.compressor = new Compressor(this.compression);
    this.client = new KafkaCluster({
      brokers: options.brokers,
      clientId: options.clientId ?? "sluice-agent",
      security: options.security ?? kafkaSecurityFromEnv(),
      connectTimeoutMs: options.connectionTimeoutMs ?? 3000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      // Each producer asks for its topic's partitions before every request, answered from this
      // cache; a failure asks the broker again at once.
      metadataMaxAgeMs: 60_000,
    });
  }

  /** Closes the connections and stops the compressor's worker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.client.close().catch(() => {});
    this.compressor.close();
  }
}

/**
 * Record buffers for the partitions of one request, reused from request to request. Producers
 * sharing connections share these too: a request's records are written and sealed (compressed
 * or copied) in one synchronous stretch (`#prepare`), so no two requests use them at once, and
 * memory follows the partitions of one request, not the number of topics.
 */
export class WriterPool {
  readonly #all: RecordsWriter[] = [];
  #used = 0;
  /** This request's writers by topic and partition. */
  readonly byTopic: Map<string, Map<number, RecordsWriter>> = new Map();

  /** Starts a request: every writer is free and empty. */
  begin(): void {
    this.#used = 0;
    this.byTopic.clear();
  }

  /** The writer of `partition` in this request, among the writers of its topic (`topic()`). */
  writer(byPartition: Map<number, RecordsWriter>, partition: number): RecordsWriter {
    let writer = byPartition.get(partition);
    if (writer) return writer;
    writer = this.#all[this.#used];
    if (!writer) this.#all.push(writer = new RecordsWriter());
    this.#used++;
    writer.reset();
    byPartition.set(partition, writer);
    return writer;
  }

  /** The writers of `topic` in this request. */
  topic(topic: string): Map<number, RecordsWriter> {
    let byPartition = this.byTopic.get(topic);
    if (!byPartition) this.byTopic.set(topic, byPartition = new Map());
    return byPartition;
  }
}

/** An idempotent producer id and the next sequence number of every partition. */
interface Session {
  client: KafkaCluster;
  producerId: bigint;
  producerEpoch: number;
  sequences: Map<string, number>;
  /**
   * Partitions (`topic:partition`) that acknowledged a batch of this producer id. Until one has,
   * the broker knows nothing of the id there and takes a first batch with any sequence number:
   * a later batch would be written even if the one before it was refused, out of order. So a
   * batch that follows an unacknowledged first one is sent only once the requests before it
   * were acknowledged (see `Prepared.waits`).
   */
  confirmed: Set<string>;
}

/** The Produce version `produceRequest` writes, and its acknowledgement by every in-sync replica. */
const PRODUCE_VERSION = 9;
const ACKS_ALL = -1;

/** Records of the queue taken into one request (one batch per partition, per leader). */
interface Prepared {
  /** The first record it covers, and the one after its last. */
  start: Position;
  end: Position;
  /** Value+key bytes of the records it covers. */
  bytes: number;
  /** The metadata its records were partitioned with; undefined when it wrote no record. */
  metadata: ClusterMetadata | undefined;
  /** The batches by partition leader, once compressed. */
  ready: Promise<Map<number, TopicBatches[]>>;
  /**
   * It holds a batch for a partition whose first batch of this producer id is not acknowledged
   * yet: it is sent only after every request before it was acknowledged (`Session.confirmed`).
   */
  waits: boolean;
}

/** A request not sent because one before it failed; what it holds is sent again with them. */
class NotSentError extends Error {
  constructor() {
    super("not sent: a request before it failed");
  }
}

/** A partition whose batch was not taken, and what its broker said (or why there is no answer). */
interface PartitionFailure {
  topic: string;
  partition: number;
  error: unknown;
}

/** A request that failed in whole or in part: which partitions took their batch, and the rest. */
class RequestFailure extends Error {
  constructor(readonly stored: ReadonlySet<string>, readonly failures: PartitionFailure[]) {
    super(
      failures.map((f) => `${f.topic}[${f.partition}]: ${(f.error as Error)?.message}`).join("; "),
    );
  }
}

/** A request on its way: what it covers, and its acknowledgement. */
interface InFlight {
  prepared: Prepared;
  acknowledged: Promise<void>;
}

/** A failure of an attempt with the request it belongs to (none: the attempt's own start). */
interface Observed {
  prepared?: Prepared;
  topic?: string;
  partition?: number;
  error: unknown;
}

/** `topic` and `partition` as one key of a set. */
function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
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
  /** Send number (`Position.n`) of the queue's first send. */
  #base = 0;
  /** The first record not yet in a request of this attempt. */
  #next: Position = { n: 0, r: 0 };
  #queuedBytes = 0;
  #session: Session | undefined;
  #wake: (() => void) | undefined;
  #closing = false;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  readonly #connections: ProducerConnections;
  readonly #ownsConnections: boolean;
  readonly #maxBatchBytes: number;
  readonly #lingerMs: number;
  readonly #timeoutMs: number;
  readonly #maxInflight: number;
  /**
   * Set once a topic refused a batch as too large: requests are cut at this many bytes from then
   * on, inside a send if need be, down to one record.
   */
  #splitLimit: number | undefined;
  /** Ask the broker for the metadata again (after a failure), not the cache. */
  #staleMetadata = false;
  #problem: SendProblem | undefined;
  /** Resolves once the latest request was handed to its connections. */
  #issued: Promise<void> = Promise.resolve();

  constructor(options: LogProducerOptions) {
    this.#options = options;
    this.#ownsConnections = options.connections === undefined;
    this.#connections = options.connections ?? new ProducerConnections(options);
    this.#maxBatchBytes = options.maxBatchBytes ?? 1_000_000;
    this.#lingerMs = options.lingerMs ?? 10;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#maxInflight = Math.min(5, Math.max(1, options.maxInflight ?? 3));
    this.#loop = this.#run();
  }

  send(topic: string, records: ProducerRecord[]): Promise<void> {
    if (this.#closing) return Promise.reject(new ProducerClosedError());
    // Encoded now, so that the queue holds bytes, not one string per record for the garbage
    // collector to copy again and again while it waits.
    return this.sendEncoded(topic, encodeRecords(records));
  }

  sendEncoded(topic: string, encoded: EncodedRecords): Promise<void> {
    if (this.#closing) return Promise.reject(new ProducerClosedError());
    let bytes = encoded.data.length;
    for (let k = 0; k < encoded.keys.length; k++) {
      // Every record carries its key.
      bytes += encoded.keys[k].length *
        (encoded.keyEnds[k] - (k === 0 ? 0 : encoded.keyEnds[k - 1]));
    }
    // Even an empty send is queued, so it resolves after the sends before it.
    return new Promise((resolve, reject) =>
      this.#enqueue({
        topic,
        records: encoded,
        bytes,
        resolve,
        reject,
        from: 0,
        stored: undefined,
      })
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
    if (this.#ownsConnections) await this.#connections.close();
  }

  #enqueue(p: Pending): void {
    this.#queue.push(p);
    this.#queuedBytes += p.bytes;
    this.#wake?.();
  }

  /** A producer id, asked for on first use and after every failure. */
  async #open(): Promise<Session> {
    if (this.#session) return this.#session;
    const client = this.#connections.client;
    // A new id each call (InitProducerId without a transactional id, one request per call):
    // producers sharing the connections never share an id.
    const { producerId, producerEpoch } = await client.initIdempotentProducer();
    this.#session = {
      client,
      producerId,
      producerEpoch,
      sequences: new Map(),
      confirmed: new Set(),
    };
    return this.#session;
  }

  /**
   * Sends the queue in order: up to `maxInflight` requests (per leader) wait for their
   * acknowledgement at a time, each written and compressed while the ones before it travel. The
   * idempotent producer's sequence numbers keep their records in order on the broker, and the
   * responses of one connection come back in request order, so sends still resolve in call order.
   */
  async #run(): Promise<void> {
    let attempt = 0;
    const inflight: InFlight[] = [];
    while (!this.#stop.signal.aborted) {
      try {
        const allIssued = this.#next.n >= this.#base + this.#queue.length;
        if (inflight.length > 0 && (inflight.length >= this.#maxInflight || allIssued)) {
          const { prepared, acknowledged } = inflight[0];
          await acknowledged;
          inflight.shift();
          if (attempt > 0 || this.#problem) this.#recovered(attempt);
          attempt = 0;
          this.#acknowledge(prepared);
          continue;
        }
        if (allIssued) {
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
        const prepared = await this.#prepare(session);
        this.#next = prepared.end;
        // Compressed on the worker while the next one is written; handed to the connections
        // strictly after the one before, so the broker sees the sequence numbers in order.
        const previous = this.#issued;
        const issued = Promise.withResolvers<void>();
        this.#issued = issued.promise;
        const before = prepared.waits ? inflight.map((r) => r.acknowledged) : [];
        const acknowledged = (async () => {
          try {
            const requests = await prepared.ready;
            await previous;
            if (before.length > 0) {
              const earlier = await Promise.allSettled(before);
              if (earlier.some((e) => e.status === "rejected")) throw new NotSentError();
            }
            await this.#transmit(session, requests, issued.resolve);
          } finally {
            issued.resolve();
          }
        })();
        acknowledged.catch(() => {}); // its failure shows when it is awaited
        inflight.push({ prepared, acknowledged });
      } catch (error) {
        const failed = await this.#recover(error, inflight.splice(0), attempt + 1);
        // The idempotent producer's sequence numbers may be out of step after a failure: start a
        // fresh one (new producer id) rather than risk OutOfOrderSequence errors forever. The
        // records some partitions took are marked and not sent again.
        // A producer id that numbered no batch yet (the failure came before any request, as a
        // refused topic's does) is kept: no InitProducerId per retry.
        if (this.#session?.sequences.size !== 0) this.#session = undefined;
        this.#staleMetadata = true;
        this.#next = { n: this.#base, r: this.#queue[0]?.from ?? 0 };
        this.#issued = Promise.resolve();
        if (failed) {
          const delay = backoffDelay(attempt, { initialMs: 200, maxMs: 5_000, jitter: 0.5 });
          attempt++;
          this.#logFailures(failed, attempt, delay);
          await sleep(delay, this.#stop.signal).catch(() => {});
        }
      }
    }
    await Promise.allSettled(inflight.map((r) => r.acknowledged));
  }

  /** Resolves the sends a request completed, in order. */
  #acknowledge(prepared: Prepared): void {
    const done = this.#queue.splice(0, prepared.end.n - this.#base);
    this.#base = prepared.end.n;
    this.#queuedBytes -= prepared.bytes;
    if (prepared.end.r > 0) this.#queue[0].from = prepared.end.r;
    for (const p of done) p.resolve();
  }

  /** The first acknowledgement after failures: said once, and the problem cleared. */
  #recovered(attempts: number): void {
    const topic = this.#problem?.topic;
    if (attempts > 0 || this.#problem) {
      log.info("Kafka takes {what} again after {attempts} failed attempt(s); sending resumed", {
        what: topic ? `topic ${topic}` : "records",
        attempts,
      });
    }
    if (this.#problem) {
      this.#problem = undefined;
      this.#options.onProblem?.(undefined);
    }
  }

  /**
   * After a failure: waits for the requests still in flight, marks the records that partitions
   * took (so they are not sent twice), classifies every failure and carries out what
   * `decideSendFailure` says: a batch too large is split (records are cut smaller from now on),
   * a single refused record goes to the dead-letter route. Returns the failures that call for a
   * backoff (connection trouble, a refused topic), or undefined when the rest can go at once.
   */
  async #recover(
    error: unknown,
    inflight: InFlight[],
    attempt: number,
  ): Promise<SendFailure[] | undefined> {
    const settled = await Promise.allSettled(inflight.map((r) => r.acknowledged));
    const observed: Observed[] = [];
    let fromRequest = false;
    settled.forEach((outcome, i) => {
      const { prepared } = inflight[i];
      if (outcome.status === "fulfilled") {
        this.#markStored(prepared, undefined);
        return;
      }
      if (outcome.reason === error) fromRequest = true;
      // Not sent: nothing of it reached Kafka, and the failure before it says why.
      if (outcome.reason instanceof NotSentError) return;
      if (outcome.reason instanceof RequestFailure) {
        this.#markStored(prepared, outcome.reason.stored);
        for (const f of outcome.reason.failures) observed.push({ prepared, ...f });
      } else {
        observed.push({ prepared, error: outcome.reason });
      }
    });
    if (!fromRequest) observed.unshift({ topic: this.#soleTopic(), error });
    this.#options.onError?.(error);

    const failures: SendFailure[] = [];
    const reported = new Set<string>();
    let backoff = false;
    let handled = false;
    for (const o of observed) {
      const classified = classifySendError(o.error);
      const batch = classified.kind === "record_refused" && o.prepared && o.topic !== undefined
        ? this.#batchOf(o.prepared, o.topic, o.partition!)
        : [];
      const action = decideSendFailure(classified.kind, {
        records: batch.length,
        deadLetter: this.#options.deadLetter !== undefined,
      });
      const failure: SendFailure = {
        ...classified,
        topic: o.topic ?? this.#soleTopic(),
        partition: o.partition,
        action,
        attempt,
      };
      // Once per topic, code and action an attempt (a broker down fails every partition alike);
      // every refused batch or record on its own.
      const said = `${failure.topic}\u0000${failure.code}\u0000${action}`;
      const each = action === "split" || action === "dead_letter";
      if (each || !reported.has(said)) {
        reported.add(said);
        this.#options.onFailure?.(failure);
      }
      if (action === "split") {
        const bytes = batch.reduce((sum, b) => sum + b.bytes, 0);
        this.#splitLimit = Math.max(1, Math.min(this.#splitLimit ?? bytes, Math.floor(bytes / 2)));
        handled = true;
        log.warn(
          "topic {topic} refused a batch of {records} records ({bytes} bytes) on partition " +
            "{partition}: {code}; requests are cut at {limit} bytes from now on",
          { ...failure, records: batch.length, bytes, limit: this.#splitLimit },
        );
      } else if (action === "dead_letter") {
        const [{ p, i, k }] = batch;
        const { data, ends, valueEnds } = p.records;
        const from = i === 0 ? 0 : ends[i - 1];
        try {
          await this.#untilStopped(this.#options.deadLetter!.send({
            topic: failure.topic!,
            partition: failure.partition!,
            key: p.records.keys[k],
            value: data.subarray(from, valueEnds ? valueEnds[i] : ends[i]),
            ...(valueEnds ? { headers: data.subarray(valueEnds[i], ends[i]) } : {}),
            code: failure.code,
            reason: failure.message,
          }));
          (p.stored ??= new Uint8Array(p.records.ends.length))[i] = 1;
          handled = true;
        } catch (deadLetterError) {
          if (this.#stop.signal.aborted) return undefined;
          failures.push({
            ...failure,
            message: `${failure.message}; the dead-letter route failed: ${
              (deadLetterError as Error).message
            }`,
          });
          backoff = true;
        }
      } else {
        if (classified.kind !== "out_of_sequence") backoff = true;
        failures.push(failure);
      }
    }
    // Out-of-step sequence numbers alone (no failure that explains them): back off all the same,
    // so a producer id the broker forgot cannot spin the loop.
    if (!handled && failures.length > 0) backoff = true;
    if (!backoff) return undefined;
    this.#report(failures, attempt);
    return failures;
  }

  /**
   * `promise`, or a rejection once the producer is closed: a dead-letter topic that does not take
   * the letter must not keep this producer from closing.
   */
  #untilStopped<T>(promise: Promise<T>): Promise<T> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const stop = () => reject(signal.reason);
      signal.addEventListener("abort", stop, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
    });
  }

  /** The topic of every queued send, when there is only one (a producer per topic). */
  #soleTopic(): string | undefined {
    const topic = this.#queue[0]?.topic;
    for (const p of this.#queue) if (p.topic !== topic) return undefined;
    return topic;
  }

  /** Sets the problem the failures of this attempt show (the most telling one first). */
  #report(failures: SendFailure[], attempt: number): void {
    const refused = failures.find((f) => f.action === "refuse_topic");
    const main = refused ?? failures.find((f) => f.kind !== "out_of_sequence") ?? failures[0];
    if (!main) return;
    const kind = refused ? "refused" : "unreachable";
    this.#problem = {
      kind,
      topic: main.topic,
      code: main.code,
      message: main.message,
      since: this.#problem?.since ?? new Date(),
      attempts: attempt,
    };
    this.#options.onProblem?.(this.#problem);
  }

  #logFailures(failures: SendFailure[], attempt: number, delay: number): void {
    const shown = failures.filter((f) => f.kind !== "out_of_sequence");
    const first = shown[0] ?? failures[0];
    if (!first) return;
    const values = {
      topic: first.topic,
      partition: first.partition,
      attempt,
      kind: first.action === "refuse_topic" ? "refused" : first.kind,
      delay,
      code: first.code,
      error: shown.length > 1 ? `${first.message} (and ${shown.length - 1} more)` : first.message,
    };
    if (first.topic === undefined) {
      log.warn(
        "Kafka send failed (attempt {attempt}, {kind}), retrying in {delay} ms: {code}: {error}",
        values,
      );
    } else {
      log.warn(
        "Kafka send to topic {topic} failed (attempt {attempt}, {kind}), retrying in {delay} ms: " +
          "{code}: {error}",
        values,
      );
    }
  }

  /**
   * Calls `visit` for every record of `prepared` not already stored, with its send, index, key
   * run and partition (as its request computed it, from the metadata it used).
   */
  #eachRecord(
    prepared: Prepared,
    visit: (
      p: Pending,
      i: number,
      k: number,
      topic: string,
      partition: number,
      bytes: number,
    ) => void,
  ): void {
    const metadata = prepared.metadata;
    if (!metadata) return;
    const { start, end } = prepared;
    for (let n = start.n; n < end.n || (n === end.n && end.r > 0); n++) {
      const p = this.#queue[n - this.#base];
      if (!p) break;
      const { ends, keys, keyEnds } = p.records;
      const partitions = metadata.topics.get(p.topic)?.partitionsCount ?? 1;
      const r0 = n === start.n ? start.r : 0;
      const r1 = n === end.n ? end.r : ends.length;
      let k = 0;
      for (let i = r0; i < r1; i++) {
        while (keyEnds[k] <= i) k++;
        if (p.stored?.[i]) continue;
        const partition = keyPartition(textEncoder.encode(keys[k])) % partitions;
        const bytes = ends[i] - (i === 0 ? 0 : ends[i - 1]) + keys[k].length;
        visit(p, i, k, p.topic, partition, bytes);
      }
    }
  }

  /** Marks the records of `prepared` that reached Kafka: all of them, or those of `partitions`. */
  #markStored(prepared: Prepared, partitions: ReadonlySet<string> | undefined): void {
    this.#eachRecord(prepared, (p, i, _k, topic, partition) => {
      if (partitions && !partitions.has(partitionKey(topic, partition))) return;
      (p.stored ??= new Uint8Array(p.records.ends.length))[i] = 1;
    });
  }

  /** The records of `prepared` that went into the batch of `topic`/`partition`. */
  #batchOf(
    prepared: Prepared,
    topic: string,
    partition: number,
  ): { p: Pending; i: number; k: number; bytes: number }[] {
    const batch: { p: Pending; i: number; k: number; bytes: number }[] = [];
    this.#eachRecord(prepared, (p, i, k, t, part, bytes) => {
      if (t === topic && part === partition) batch.push({ p, i, k, bytes });
    });
    return batch;
  }

  /**
   * Takes records from `#next` on (whole sends up to the byte limit, at least one; once a topic
   * refused a batch as too large, records up to `#splitLimit`, at least one) and writes them into
   * one compressed record batch per partition, grouped by leader.
   */
  async #prepare(session: Session): Promise<Prepared> {
    const queue = this.#queue;
    const base = this.#base;
    const split = this.#splitLimit !== undefined;
    const limit = this.#splitLimit ?? this.#maxBatchBytes;
    const start = this.#next;
    let n = start.n;
    let r = start.r;
    let bytes = 0;
    let taken = false;
    let records = 0;
    while (n - base < queue.length) {
      const p = queue[n - base];
      if (r === 0 && !split) {
        if (taken && bytes + p.bytes > limit) break;
        bytes += p.bytes;
        taken = true;
        records += p.records.ends.length;
        n++;
        continue;
      }
      // Record by record: a send begun by an earlier request, or requests cut small.
      const { ends, keys, keyEnds } = p.records;
      let k = 0;
      let i = r;
      for (; i < ends.length; i++) {
        while (keyEnds[k] <= i) k++;
        const size = ends[i] - (i === 0 ? 0 : ends[i - 1]) + keys[k].length;
        if (taken && bytes + size > limit) break;
        bytes += size;
        taken = true;
        records++;
      }
      if (i < ends.length) {
        r = i;
        break;
      }
      n++;
      r = 0;
    }
    const end = { n, r };
    if (records === 0 || this.#allStored(start, end)) {
      return {
        start,
        end,
        bytes,
        metadata: undefined,
        ready: Promise.resolve(new Map()),
        waits: false,
      };
    }
    const topics = this.#topicsIn(start, end);
    const metadata = await session.client.metadata({
      topics,
      forceUpdate: this.#staleMetadata,
    });
    this.#staleMetadata = false;
    for (const topic of topics) {
      if (!metadata.topics.get(topic)) throw new Error(`no metadata for topic ${topic}`);
    }
    // From here to the end of #seal nothing awaits: the writers are shared (WriterPool).
    this.#write(start, end, metadata);
    const { ready, waits } = this.#seal(session, metadata);
    return { start, end, bytes, metadata, ready, waits };
  }

  /** True when every record in [start, end) was stored already (after a partial failure). */
  #allStored(start: Position, end: Position): boolean {
    for (let n = start.n; n < end.n || (n === end.n && end.r > 0); n++) {
      const p = this.#queue[n - this.#base];
      const r0 = n === start.n ? start.r : 0;
      const r1 = n === end.n ? end.r : p.records.ends.length;
      if (r0 >= r1) continue;
      if (!p.stored) return false;
      for (let i = r0; i < r1; i++) if (!p.stored[i]) return false;
    }
    return true;
  }

  /** The topics of the sends in [start, end). */
  #topicsIn(start: Position, end: Position): string[] {
    const last = end.r > 0 ? end.n : end.n - 1;
    const first = this.#queue[start.n - this.#base].topic;
    let topics: string[] | undefined;
    for (let n = start.n + 1; n <= last; n++) {
      const topic = this.#queue[n - this.#base].topic;
      if (topic !== first && !topics?.includes(topic)) (topics ??= [first]).push(topic);
    }
    return topics ?? [first];
  }

  /** Writes the records in [start, end) not already stored into their partitions' writers. */
  #write(start: Position, end: Position, metadata: ClusterMetadata): void {
    const pool = this.#connections.writers;
    pool.begin();
    let key = "";
    let keyBytes = new Uint8Array(0);
    let hash = 0;
    let lastTopic = "";
    let partitions = 0;
    let byPartition: Map<number, RecordsWriter> | undefined;
    for (let n = start.n; n < end.n || (n === end.n && end.r > 0); n++) {
      const { topic, records, stored } = this.#queue[n - this.#base];
      if (topic !== lastTopic || !byPartition) {
        lastTopic = topic;
        partitions = metadata.topics.get(topic)!.partitionsCount;
        byPartition = pool.topic(topic);
      }
      const { data, ends, valueEnds, keys, keyEnds } = records;
      const r0 = n === start.n ? start.r : 0;
      const r1 = n === end.n ? end.r : ends.length;
      let k = 0;
      while (k < keys.length && keyEnds[k] <= r0) k++;
      for (; k < keys.length && (k === 0 ? 0 : keyEnds[k - 1]) < r1; k++) {
        // Consecutive sends of one file share their key: encode and hash it once per run of it.
        if (keys[k] !== key || keyBytes.length === 0) {
          key = keys[k];
          keyBytes = textEncoder.encode(key);
          hash = keyPartition(keyBytes);
        }
        const writer = pool.writer(byPartition, hash % partitions);
        const from = Math.max(r0, k === 0 ? 0 : keyEnds[k - 1]);
        const to = Math.min(r1, keyEnds[k]);
        let offset = from === 0 ? 0 : ends[from - 1];
        for (let i = from; i < to; i++) {
          if (stored === undefined || stored[i] === 0) {
            writer.addBytes(keyBytes, data, offset, ends[i], valueEnds ? valueEnds[i] : ends[i]);
          }
          offset = ends[i];
        }
      }
    }
  }

  /**
   * The written records as one batch per partition, numbered with the partition's sequence and
   * compressed, grouped by partition leader. The writers are free again when this returns
   * (`compress` copies what it keeps); the batches are ready when the promise resolves.
   */
  #seal(
    session: Session,
    metadata: ClusterMetadata,
  ): { ready: Promise<Map<number, TopicBatches[]>>; waits: boolean } {
    const requests = new Map<number, TopicBatches[]>();
    let waits = false;
    const timestamp = Date.now();
    const compressed: Promise<void>[] = [];
    const { compressor, compression } = this.#connections;
    for (const [topic, byPartition] of this.#connections.writers.byTopic) {
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
        if (baseSequence !== 0 && !session.confirmed.has(sequenceKey)) waits = true;
        const header = {
          count: writer.count,
          timestamp,
          producerId: session.producerId,
          producerEpoch: session.producerEpoch,
          baseSequence,
          attributes: COMPRESSION_ATTRIBUTE[compression],
        };
        const batches = entry.batches;
        const index = batches.push({ partition, batch: new Uint8Array(0) }) - 1;
        compressed.push(
          compressor.compress(writer.bytes()).then((records) => {
            batches[index].batch = recordBatch(records, header, crc32c);
          }),
        );
      }
    }
    return { ready: Promise.all(compressed).then(() => requests), waits };
  }

  /**
   * Sends a request to each leader; calls `issued` once they are handed to the connections and
   * resolves when every one is acknowledged. Otherwise rejects with a RequestFailure naming the
   * partitions that took their batch and what the others answered.
   */
  async #transmit(
    session: Session,
    requests: Map<number, TopicBatches[]>,
    issued: () => void,
  ): Promise<void> {
    if (requests.size === 0) return;
    const leaders = [...requests.keys()];
    let connections: Map<number, BrokerConnection>;
    try {
      connections = await session.client.connectToBrokers(leaders);
    } catch (error) {
      throw new RequestFailure(new Set(), everyPartition(requests, leaders, error));
    }
    const answers = Promise.allSettled(leaders.map(async (leader) => {
      const connection = connections.get(leader)!;
      const parts = produceRequest(requests.get(leader)!, ACKS_ALL, this.#timeoutMs);
      return parseProduce(await connection.send(ApiKey.produce, PRODUCE_VERSION, parts));
    }));
    issued();
    const outcomes = await answers;
    const stored = new Set<string>();
    const failures: PartitionFailure[] = [];
    outcomes.forEach((outcome, i) => {
      const leader = leaders[i];
      if (outcome.status === "rejected") {
        failures.push(...everyPartition(requests, [leader], outcome.reason));
        return;
      }
      const answered = answersByPartition(outcome.value);
      for (const { topic, batches } of requests.get(leader)!) {
        for (const { partition } of batches) {
          const key = partitionKey(topic, partition);
          const answer = answered.get(key);
          if (answer?.errorCode === 0) {
            stored.add(key);
            session.confirmed.add(`${topic}:${partition}`);
            continue;
          }
          const error = answer
            ? new KafkaProtocolError(answer.errorCode, answer.errorMessage)
            : new Error(`the broker's answer does not mention ${topic}[${partition}]`);
          failures.push({ topic, partition, error });
        }
      }
    });
    if (failures.length > 0) throw new RequestFailure(stored, failures);
  }
}

/** A Produce answer's partitions by `partitionKey`. */
function answersByPartition(
  answer: ProduceAnswer,
): Map<string, { errorCode: number; errorMessage: string | null }> {
  const out = new Map<string, { errorCode: number; errorMessage: string | null }>();
  for (const { name, partitionResponses } of answer.responses) {
    for (const p of partitionResponses) out.set(partitionKey(name, p.index), p);
  }
  return out;
}

/** A failure of every partition `leaders` were sent, for an error without a per-partition answer. */
function everyPartition(
  requests: Map<number, TopicBatches[]>,
  leaders: number[],
  error: unknown,
): PartitionFailure[] {
  const out: PartitionFailure[] = [];
  for (const leader of leaders) {
    for (const { topic, batches } of requests.get(leader) ?? []) {
      for (const { partition } of batches) out.push({ topic, partition, error });
    }
  }
  return out;
}
