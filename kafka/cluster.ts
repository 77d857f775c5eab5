/**
 * What the producer needs of a Kafka cluster besides its Produce requests: the brokers and the
 * partition leaders of its topics (Metadata, cached for `metadataMaxAgeMs`, creating topics that
 * do not exist), idempotent producer ids (InitProducerId), and one connection per broker, opened
 * on first use and again after it failed. Shared by every producer of an agent
 * (kafka/producer.ts, `ProducerConnections`). See docs/decisions/0008-own-kafka-connections.md.
 * @module
 */

import { sleep } from "../core/backoff.ts";
import { formatHostPort, parseHostPort } from "../core/endpoints.ts";
import type { KafkaSecurity } from "../core/security.ts";
import { BrokerConnection, KafkaNetworkError } from "./broker_connection.ts";
import {
  ApiKey,
  type BrokerAddress,
  INIT_PRODUCER_ID_VERSION,
  initProducerIdRequest,
  KafkaProtocolError,
  METADATA_VERSION,
  metadataRequest,
  parseInitProducerId,
  parseMetadata,
  type WireReader,
} from "./wire.ts";

/** A topic's partitions and their leaders, by partition index. */
export interface TopicLayout {
  partitionsCount: number;
  partitions: { leader: number }[];
}

/** The layout of the topics asked for. */
export interface ClusterMetadata {
  topics: Map<string, TopicLayout>;
}

export interface KafkaClusterOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  clientId: string;
  security: KafkaSecurity;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** How long a topic's layout is used before it is asked again (default 60 s). */
  metadataMaxAgeMs?: number;
}

/** Kafka's codes of a topic being created or electing a leader: asked again shortly. */
const TRANSIENT_TOPIC_ERRORS = new Set([3, 5]); // UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE
/** Metadata attempts for a topic in transition, and the pause between them. */
const METADATA_ATTEMPTS = 4;
const METADATA_PAUSE_MS = 250;
/** COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR: a broker starting. */
const COORDINATOR_STARTING = new Set([14, 15, 16]);
const COORDINATOR_ATTEMPTS = 20;

export class KafkaCluster {
  readonly #options: KafkaClusterOptions;
  readonly #maxAgeMs: number;
  /** Open (or opening) connections by `host:port`. */
  readonly #connections = new Map<string, Promise<BrokerConnection>>();
  readonly #brokers = new Map<number, BrokerAddress>();
  readonly #layouts = new Map<string, { layout: TopicLayout; at: number }>();
  /** Which address a cluster-wide request tries first; moves on after a failure. */
  #turn = 0;
  #closed = false;

  constructor(options: KafkaClusterOptions) {
    this.#options = options;
    this.#maxAgeMs = options.metadataMaxAgeMs ?? 60_000;
  }

  /**
   * The layout of `topics`: from the cache when every one is younger than the maximum age and
   * `forceUpdate` is not set, else asked of a broker (creating missing topics). A topic being
   * created or without a leader is asked again a few times; then its error is thrown
   * (`KafkaProtocolError`, classified by kafka/send_failure.ts).
   */
  async metadata(options: { topics: string[]; forceUpdate?: boolean }): Promise<ClusterMetadata> {
    const now = Date.now();
    const topics = new Map<string, TopicLayout>();
    if (!options.forceUpdate) {
      for (const topic of options.topics) {
        const cached = this.#layouts.get(topic);
        if (!cached || now - cached.at > this.#maxAgeMs) break;
        topics.set(topic, cached.layout);
      }
      if (topics.size === options.topics.length) return { topics };
    }
    for (let attempt = 1;; attempt++) {
      const answer = parseMetadata(
        await this.#anyBroker(
          ApiKey.metadata,
          METADATA_VERSION,
          metadataRequest(options.topics, true),
        ),
      );
      for (const broker of answer.brokers) this.#brokers.set(broker.nodeId, broker);
      let failed: KafkaProtocolError | undefined;
      for (const { name, errorCode, partitions } of answer.topics) {
        const leaderless = partitions.findIndex((p) => !p || p.leader < 0);
        if (errorCode !== 0 || partitions.length === 0 || leaderless >= 0) {
          const code = errorCode !== 0 ? errorCode : 5; // LEADER_NOT_AVAILABLE
          failed = new KafkaProtocolError(
            code,
            null,
            `Metadata of topic ${name}: `,
            code === 3 ? " It does not exist and was not created." : "",
          );
          if (!TRANSIENT_TOPIC_ERRORS.has(code) || attempt >= METADATA_ATTEMPTS) throw failed;
          continue;
        }
        const layout = { partitionsCount: partitions.length, partitions };
        this.#layouts.set(name, { layout, at: Date.now() });
        topics.set(name, layout);
      }
      if (!failed) {
        for (const topic of options.topics) {
          if (!topics.has(topic)) {
            throw new KafkaProtocolError(
              3,
              null,
              `Metadata of topic ${topic}: `,
              " The cluster did not mention it.",
            );
          }
        }
        return { topics };
      }
      await sleep(METADATA_PAUSE_MS);
    }
  }

  /**
   * A fresh idempotent producer id (no transactional id), from any broker. A broker whose
   * transaction coordinator is still loading (right after it started) is asked again for up to
   * ~5 s; then its error is thrown (`unreachable`: the producer retries with backoff).
   */
  async initIdempotentProducer(): Promise<{ producerId: bigint; producerEpoch: number }> {
    for (let attempt = 1;; attempt++) {
      try {
        return parseInitProducerId(
          await this.#anyBroker(
            ApiKey.initProducerId,
            INIT_PRODUCER_ID_VERSION,
            initProducerIdRequest(),
          ),
        );
      } catch (error) {
        const starting = error instanceof KafkaProtocolError &&
          COORDINATOR_STARTING.has(error.errorCode);
        if (!starting || attempt >= COORDINATOR_ATTEMPTS) throw error;
        await sleep(METADATA_PAUSE_MS);
      }
    }
  }

  /** Connections to the brokers `nodeIds` (known from the last metadata), opened as needed. */
  async connectToBrokers(nodeIds: number[]): Promise<Map<number, BrokerConnection>> {
    const out = new Map<number, BrokerConnection>();
    await Promise.all(nodeIds.map(async (nodeId) => {
      const broker = this.#brokers.get(nodeId);
      if (!broker) throw new KafkaNetworkError(`broker ${nodeId} is not in the cluster's metadata`);
      out.set(nodeId, await this.#connection(formatHostPort(broker.host, broker.port)));
    }));
    return out;
  }

  /** Closes every connection; the cluster takes no more requests. */
  async close(): Promise<void> {
    this.#closed = true;
    const opening = [...this.#connections.values()];
    this.#connections.clear();
    for (const settled of await Promise.allSettled(opening)) {
      if (settled.status === "fulfilled") settled.value.close();
    }
  }

  /** The open connection to `address`, or a new one. */
  #connection(address: string): Promise<BrokerConnection> {
    if (this.#closed) return Promise.reject(new KafkaNetworkError("the Kafka client is closed"));
    const existing = this.#connections.get(address);
    if (existing) {
      // A connection that failed is replaced; one still opening is waited for.
      const replaced = existing.then((c) => c.closed ? this.#open(address, existing) : c);
      return replaced;
    }
    return this.#open(address);
  }

  #open(address: string, replacing?: Promise<BrokerConnection>): Promise<BrokerConnection> {
    const current = this.#connections.get(address);
    if (current && current !== replacing) return current;
    let host: string;
    let port: number;
    try {
      ({ hostname: host, port } = parseHostPort(address, "Kafka broker address"));
    } catch (error) {
      return Promise.reject(error);
    }
    const { security, clientId, connectTimeoutMs, requestTimeoutMs } = this.#options;
    const opening = BrokerConnection.open({
      host,
      port,
      clientId,
      tls: security.tls,
      sasl: security.sasl && {
        mechanism: security.sasl.mechanism,
        username: security.sasl.username,
        password: security.sasl.password.reveal(),
      },
      connectTimeoutMs,
      requestTimeoutMs,
    });
    this.#connections.set(address, opening);
    opening.catch(() => {
      if (this.#connections.get(address) === opening) this.#connections.delete(address);
    });
    return opening;
  }

  /**
   * `body` sent to one broker after another (the known brokers, then the bootstrap ones,
   * starting where the last success was) until one answers; the errors of all when none does.
   */
  async #anyBroker(apiKey: number, version: number, body: Uint8Array): Promise<WireReader> {
    const known = [...this.#brokers.values()].map((b) => formatHostPort(b.host, b.port));
    const addresses = [...new Set([...known, ...this.#options.brokers])];
    const errors: unknown[] = [];
    for (let k = 0; k < addresses.length; k++) {
      const index = (this.#turn + k) % addresses.length;
      try {
        const connection = await this.#connection(addresses[index]);
        const answer = await connection.send(apiKey, version, [body]);
        this.#turn = index;
        return answer;
      } catch (error) {
        errors.push(error);
      }
    }
    this.#turn++;
    throw new AggregateError(
      errors,
      `No Kafka broker answered (${addresses.join(", ")}): ${
        errors.map((e) => (e as Error).message).join("; ")
      }`,
    );
  }
}
