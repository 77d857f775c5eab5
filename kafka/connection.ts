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

/**
 * Registers the snappy codec with kafkajs (once per process), so that consumers read batches
 * compressed with snappy (kafkajs reads gzip by itself).
 */
function registerCodecs(): void {
  if (codecsRegistered) return;
  codecsRegistered = true;
  (CompressionCodecs as Record<number, () => unknown>)[CompressionTypes.Snappy] = SnappyCodec;
}

/** Builds a kafkajs client whose own log lines go through the sluice logger. */
export function createKafka(options: KafkaConnectionOptions): Kafka {
  const security = options.security ?? kafkaSecurityFromEnv();
  // Consumers read batches compressed with snappy too.
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

/** Creates `topic` if it does not exist (idempotent). */
export async function ensureTopic(
  kafka: Kafka,
  topic: string,
  options: { partitions?: number; replicationFactor?: number } = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (existing.includes(topic)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic,
        numPartitions: options.partitions ?? 3,
        replicationFactor: options.replicationFactor ?? 1,
      }],
    });
  } finally {
    await admin.disconnect();
  }
}
