/**
 * kafkajs clients: `createKafka` for the transfer's consumer group (kafka/consumer.ts) and the
 * admin calls of tools and tests, from the same settings as the producer's (kafka/options.ts), so
 * TLS/SASL and timeouts are handled alike by both clients. Nothing outside kafka/ imports a
 * client library; docs/decisions/0002-producer-on-platformatic-kafka.md says why there are two.
 * @module
 */
import process from "node:process";
import {
  CompressionCodecs,
  CompressionTypes,
  Kafka,
  type KafkaConfig,
  logLevel,
  type SASLOptions,
} from "kafkajs";
import SnappyCodec from "kafkajs-snappy";
import { Buffer } from "node:buffer";
import { compressSync, decompressSync, loadCodec } from "./codec_sync.ts";
import { retry } from "../core/backoff.ts";
import { getLogger } from "../core/log.ts";
import { type KafkaSecurity, kafkaSecurityFromEnv } from "../core/security.ts";
import {
  explainKafkaSecurityError,
  type KafkaConnectionOptions,
  tlsConnectOptions,
} from "./options.ts";

export { explainKafkaSecurityError, type KafkaConnectionOptions };

// kafkajs schedules its request-queue check with a negative delay when no broker throttles it;
// the runtime clamps that to 1 ms (what kafkajs expects) and prints a TimeoutNegativeWarning per
// client. Only that warning is dropped; every other process warning is printed as before.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
  const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string })?.type;
  if (type === "TimeoutNegativeWarning") return;
  return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
} as typeof process.emitWarning;

const log = getLogger("kafka");

/**
 * kafkajs' `ssl` and `sasl` options for `security`. The password is revealed here, at the one
 * place it is handed to the client, and nowhere else.
 *
 * @example
 * ```ts
 * import { kafkaTlsAndSasl } from "./connection.ts";
 * kafkaTlsAndSasl({}); // {} (plaintext, no SASL)
 * kafkaTlsAndSasl({ tls: {} }).ssl; // true (TLS with the system's CAs)
 * ```
 */
export function kafkaTlsAndSasl(security: KafkaSecurity): Pick<KafkaConfig, "ssl" | "sasl"> {
  const out: Pick<KafkaConfig, "ssl" | "sasl"> = {};
  if (security.tls) {
    out.ssl = security.tls.ca || security.tls.cert ? tlsConnectOptions(security.tls) : true;
  }
  if (security.sasl) {
    const { mechanism, username, password } = security.sasl;
    out.sasl = { mechanism, username, password: password.reveal() } as SASLOptions;
  }
  return out;
}

let codecsRegistered = false;

/** A kafkajs codec over one of kafka/codec_sync.ts's. */
function kafkajsCodec(codec: "lz4" | "zstd") {
  return () => ({
    compress: async (encoder: { buffer: Uint8Array }) => {
      await loadCodec(codec);
      return Buffer.from(compressSync(codec, encoder.buffer));
    },
    decompress: async (data: Uint8Array) => {
      await loadCodec(codec);
      return Buffer.from(decompressSync(codec, data));
    },
  });
}

/**
 * Registers the snappy, lz4 and zstd codecs with kafkajs (once per process), so that consumers
 * read batches compressed with any codec the agent offers (kafkajs reads gzip by itself).
 */
function registerCodecs(): void {
  if (codecsRegistered) return;
  codecsRegistered = true;
  const codecs = CompressionCodecs as Record<number, () => unknown>;
  codecs[CompressionTypes.Snappy] = SnappyCodec;
  codecs[CompressionTypes.LZ4] = kafkajsCodec("lz4");
  codecs[CompressionTypes.ZSTD] = kafkajsCodec("zstd");
}

/** Builds a kafkajs client whose own log lines go through the sluice logger. */
export function createKafka(options: KafkaConnectionOptions): Kafka {
  const security = options.security ?? kafkaSecurityFromEnv();
  // Consumers read batches compressed with snappy, lz4 and zstd too.
  registerCodecs();
  // kafkajs warns about its v2 partitioner change on every producer; sluice sets keys itself.
  Deno.env.set("KAFKAJS_NO_PARTITIONER_WARNING", "1");
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...kafkaTlsAndSasl(security),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30000,
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log: entry }) => {
      const { message, ...rest } = entry;
      const text = `${namespace}: ${message}`;
      if (level <= logLevel.ERROR) log.warn(text, rest);
      else if (level === logLevel.WARN) log.info(text, rest);
      else log.debug(text, rest);
    },
  });
}

/**
 * Kafka error types that mean "not yet" while a topic is being created: a broker that has not
 * caught up with the controller's metadata yet, a partition whose leader is still being elected,
 * a controller that moved. Anything else (a refused name, an authorization error) is final.
 */
const NOT_YET = new Set([
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "NOT_CONTROLLER",
  "NOT_LEADER_OR_FOLLOWER",
  "NOT_LEADER_FOR_PARTITION",
  "REQUEST_TIMED_OUT",
]);

/**
 * True when `error` (a kafkajs error, or an aggregate of them) only says the topic is not ready
 * yet, so asking again shortly is right.
 *
 * @example
 * ```ts
 * import { topicNotReadyYet } from "./connection.ts";
 * topicNotReadyYet({ type: "UNKNOWN_TOPIC_OR_PARTITION" }); // true
 * topicNotReadyYet({ type: "TOPIC_AUTHORIZATION_FAILED" }); // false
 * ```
 */
export function topicNotReadyYet(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { type, errors } = error as { type?: unknown; errors?: unknown };
  if (Array.isArray(errors) && errors.length > 0) return errors.every(topicNotReadyYet);
  return typeof type === "string" && NOT_YET.has(type);
}

/** True when a topic's metadata lists partitions and each has a leader. */
export function topicHasLeaders(partitions: readonly { leader: number }[]): boolean {
  return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
}

export interface EnsureTopicOptions {
  /** Partitions of a topic this call creates (default 3). */
  partitions?: number;
  /** Replicas of a topic this call creates (default: the cluster's default.replication.factor). */
  replicationFactor?: number;
  /** How long a topic may take to get a leader for every partition, ms (default 60 s). */
  readyTimeoutMs?: number;
}

/**
 * Creates `topic` if it does not exist, and returns once every partition has a leader. Safe
 * against a creation racing with it (a producer's auto-creation, another transfer): a topic that
 * exists already is not an error, and a broker that does not know the new topic yet is asked
 * again until `readyTimeoutMs`.
 */
export async function ensureTopic(
  kafka: Kafka,
  topic: string,
  options: EnsureTopicOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await retry(async () => {
      if (!(await admin.listTopics()).includes(topic)) {
        // false when someone else created it meanwhile: fine, it is waited for below.
        await admin.createTopics({
          waitForLeaders: false,
          topics: [{
            topic,
            numPartitions: options.partitions ?? 3,
            ...(options.replicationFactor ? { replicationFactor: options.replicationFactor } : {}),
          }],
        });
      }
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics.find((t) => t.name === topic)?.partitions ?? [];
      if (!topicHasLeaders(partitions)) {
        throw Object.assign(new Error(`topic ${topic} has no leader for every partition yet`), {
          type: "LEADER_NOT_AVAILABLE",
        });
      }
    }, {
      initialMs: 100,
      maxMs: 2_000,
      shouldRetry: (error) => topicNotReadyYet(error) && Date.now() < deadline,
      onRetry: (error, attempt) => {
        if (attempt >= 2) {
          log.info("topic {topic} is not ready yet: {reason}", {
            topic,
            reason: (error as Error).message,
          });
        }
      },
    });
  } finally {
    await admin.disconnect();
  }
}
