/**
 * One in-order producer per topic over shared connections, so that a topic Kafka refuses (a bad
 * name, no permission, a record over its limit without a dead-letter topic) holds only the sends
 * to that topic: the others keep flowing. Each topic's producer keeps the order of its sends (one
 * file's lines stay in order), has its own idempotent producer id and retries on its own; the
 * client's connections, metadata cache, compressor and record buffers are shared, so a topic
 * costs a queue and a producer id, not connections (docs/decisions/0006-kafka-output-per-topic.md).
 * @module
 */
import {
  createLogProducer,
  type DeadLetterRoute,
  type LogProducer,
  type LogProducerOptions,
  ProducerClosedError,
  ProducerConnections,
  type ProducerRecord,
  type RefusedRecord,
  type SendFailure,
  type SendProblem,
} from "./producer.ts";
import type { EncodedRecords } from "./record_batch.ts";

/** Where the records a topic refuses go, and how such a record is turned into a letter. */
export interface DeadLetterTopic {
  topic: string;
  /** The letter for a refused record (its key and value for the dead-letter topic). */
  letter(record: RefusedRecord): ProducerRecord;
}

export interface TopicProducersOptions
  extends Omit<LogProducerOptions, "onProblem" | "onFailure" | "deadLetter" | "connections"> {
  /** Every failure of every topic's attempts (metrics, logs). */
  onFailure?: (failure: SendFailure) => void;
  /**
   * After each failed attempt of a topic's producer that is retried after a backoff, and with
   * undefined once that topic takes records again (or its producer is closed).
   */
  onProblem?: (topic: string, problem: SendProblem | undefined) => void;
  /** The dead-letter topic; without one a record no batch can carry holds its topic. */
  deadLetter?: DeadLetterTopic;
}

/**
 * A LogProducer that routes each send to the producer of its topic (made on first use).
 *
 * @example
 * ```ts ignore
 * import { createTopicProducers } from "./topic_producers.ts";
 * const output = createTopicProducers({ brokers: ["127.0.0.1:9092"] });
 * await output.send("logs", [{ key: "web-1/2049-12-ab", value: '{"message":"hi"}' }]);
 * output.problems(); // Map {} while every topic takes its records
 * await output.close();
 * ```
 */
export class TopicProducers implements LogProducer {
  readonly #options: TopicProducersOptions;
  readonly #connections: ProducerConnections;
  readonly #producers = new Map<string, LogProducer>();
  readonly #problems = new Map<string, SendProblem>();
  readonly #closing: Promise<void>[] = [];
  #closed = false;

  constructor(options: TopicProducersOptions) {
    this.#options = options;
    this.#connections = new ProducerConnections(options);
  }

  /** Queues records on their topic's producer: in order with the earlier sends to that topic. */
  send(topic: string, records: ProducerRecord[]): Promise<void> {
    if (this.#closed) return Promise.reject(new ProducerClosedError());
    return this.producerFor(topic).send(topic, records);
  }

  /** `send` of records already encoded (`LogProducer.sendEncoded`). */
  sendEncoded(topic: string, records: EncodedRecords): Promise<void> {
    if (this.#closed) return Promise.reject(new ProducerClosedError());
    return this.producerFor(topic).sendEncoded(topic, records);
  }

  /** The producer of `topic` (made on first use). */
  producerFor(topic: string): LogProducer {
    let producer = this.#producers.get(topic);
    if (!producer) {
      producer = this.#create(topic);
      this.#producers.set(topic, producer);
    }
    return producer;
  }

  /** The topics with a producer now. */
  topics(): string[] {
    return [...this.#producers.keys()];
  }

  /** Why topics are not taking records now, by topic (empty while all are). */
  problems(): ReadonlyMap<string, SendProblem> {
    return this.#problems;
  }

  /**
   * Closes the producers of topics not in `topics` (and not the dead-letter topic): what they
   * still hold is rejected, so its lines are read again by whoever sends them next. Called once
   * the sources of those topics stopped; returns once they are closed.
   */
  async retain(topics: Iterable<string>): Promise<void> {
    const keep = new Set(topics);
    const dead = this.#options.deadLetter?.topic;
    const closing: Promise<void>[] = [];
    for (const [topic, producer] of this.#producers) {
      if (keep.has(topic) || topic === dead) continue;
      this.#producers.delete(topic);
      closing.push(this.#closeOne(topic, producer, 0));
    }
    await Promise.all(closing);
  }

  /** Waits up to `timeoutMs` for every topic's queued records, then closes everything. */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closed = true;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const dead = this.#options.deadLetter?.topic;
    // The dead-letter topic's producer last: the others may still hand it letters meanwhile.
    const others = [...this.#producers].filter(([topic]) => topic !== dead);
    await Promise.all(others.map(([t, p]) => this.#closeOne(t, p, timeoutMs)));
    const last = dead === undefined ? undefined : this.#producers.get(dead);
    if (last) await this.#closeOne(dead!, last, timeoutMs);
    this.#producers.clear();
    await Promise.all(this.#closing);
    await this.#connections.close();
  }

  #closeOne(topic: string, producer: LogProducer, timeoutMs: number): Promise<void> {
    const closed = producer.close({ timeoutMs }).finally(() => {
      if (this.#problems.delete(topic)) this.#options.onProblem?.(topic, undefined);
    });
    this.#closing.push(closed.catch(() => {}));
    return closed;
  }

  #create(topic: string): LogProducer {
    const dead = this.#options.deadLetter;
    // The dead-letter topic's own refused records are not dead-lettered again: they hold it.
    // Letters are taken while closing too, until the dead-letter producer itself closes.
    const route: DeadLetterRoute | undefined = dead && dead.topic !== topic
      ? { send: (record) => this.producerFor(dead.topic).send(dead.topic, [dead.letter(record)]) }
      : undefined;
    return createLogProducer({
      ...this.#options,
      connections: this.#connections,
      deadLetter: route,
      onFailure: this.#options.onFailure,
      onProblem: (problem) => {
        if (problem) this.#problems.set(topic, { ...problem, topic: problem.topic ?? topic });
        else if (!this.#problems.delete(topic)) return;
        this.#options.onProblem?.(topic, this.#problems.get(topic));
      },
    });
  }
}

/**
 * A `TopicProducers` for `options`.
 *
 * @example
 * ```ts ignore
 * import { createTopicProducers } from "./topic_producers.ts";
 * const output = createTopicProducers({
 *   brokers: ["127.0.0.1:9092"],
 *   onProblem: (topic, problem) => console.log(topic, problem?.code ?? "fine again"),
 * });
 * ```
 */
export function createTopicProducers(options: TopicProducersOptions): TopicProducers {
  return new TopicProducers(options);
}
