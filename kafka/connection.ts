/**
 * The one place Kafka clients are configured, so TLS/SASL settings and timeouts are handled alike
 * by both clients sluice uses: `producerConnection` for the @platformatic/kafka producer
 * (kafka/producer.ts: the agent and the transfer's dead letters), `createKafka` for kafkajs
 * (kafka/consumer.ts: the transfer's consumer group; admin calls of tools and tests). Nothing
 * outside kafka/ imports either client; docs/decisions/0002-producer-on-platformatic-kafka.md
 * says why there are two.
 * @module
 */
import process from "node:process";
import type { ConnectionOptions as PlatformaticConnection } from "@platformatic/kafka";
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from "kafkajs";
import { SluiceError } from "../core/errors.ts";
import { getLogger } from "../core/log.ts";
import {
  classifySecurityFailure,
  type KafkaSecurity,
  kafkaSecurityFromEnv,
} from "../core/security.ts";
import { registerCodecs } from "./codecs.ts";

// kafkajs schedules its request-queue check with a negative delay when no broker throttles it;
// the runtime clamps that to 1 ms (what kafkajs expects) and prints a TimeoutNegativeWarning per
// client. Only that warning is dropped; every other process warning is printed as before.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
  const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string })?.type;
  if (type === "TimeoutNegativeWarning") return;
  return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
} as typeof process.emitWarning;

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId: string;
  /** TLS and SASL (default: from the SLUICE_KAFKA_* variables, core/security.ts). */
  security?: KafkaSecurity;
  /** Connection timeout in ms (default 3000). */
  connectionTimeoutMs?: number;
  /** Request timeout in ms (default 30000). */
  requestTimeoutMs?: number;
}

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
    const { ca, cert, key } = security.tls;
    out.ssl = ca || cert
      ? {
        ...(ca ? { ca: [ca] } : {}),
        ...(cert ? { cert, key: key?.reveal() } : {}),
        rejectUnauthorized: true,
      }
      : true;
  }
  if (security.sasl) {
    const { mechanism, username, password } = security.sasl;
    out.sasl = { mechanism, username, password: password.reveal() } as SASLOptions;
  }
  return out;
}

/** @platformatic/kafka's SASL mechanism names for ours. */
const PLATFORMATIC_MECHANISMS = {
  "plain": "PLAIN",
  "scram-sha-256": "SCRAM-SHA-256",
  "scram-sha-512": "SCRAM-SHA-512",
} as const;

/**
 * @platformatic/kafka's connection options for `options`: bootstrap brokers, timeouts, and `tls`
 * and `sasl` for its security. As with kafkajs, the password is revealed only here.
 *
 * @example
 * ```ts
 * import { producerConnection } from "./connection.ts";
 * producerConnection({ brokers: ["k:9092"], clientId: "a", security: {} }).bootstrapBrokers;
 * // ["k:9092"]
 * ```
 */
export function producerConnection(options: KafkaConnectionOptions): PlatformaticConnection & {
  clientId: string;
  bootstrapBrokers: string[];
  timeout: number;
} {
  const security = options.security ?? kafkaSecurityFromEnv();
  const out: ReturnType<typeof producerConnection> = {
    clientId: options.clientId,
    bootstrapBrokers: options.brokers,
    connectTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30000,
    timeout: options.requestTimeoutMs ?? 30000,
  };
  if (security.tls) {
    const { ca, cert, key } = security.tls;
    out.tls = {
      ...(ca ? { ca: [ca] } : {}),
      ...(cert ? { cert, key: key?.reveal() } : {}),
      rejectUnauthorized: true,
    };
  }
  if (security.sasl) {
    const { mechanism, username, password } = security.sasl;
    out.sasl = {
      mechanism: PLATFORMATIC_MECHANISMS[mechanism],
      username,
      password: password.reveal(),
    };
  }
  return out;
}

/**
 * A Kafka error as an operator-facing sentence when it is about TLS or SASL (a wrong CA, a
 * rejected password), naming the variables to check; undefined for any other error.
 *
 * @example
 * ```ts
 * import { explainKafkaSecurityError } from "./connection.ts";
 * explainKafkaSecurityError(new Error("SASL SCRAM SHA512 authentication failed"), ["k:9093"]);
 * // "Kafka at k:9093 rejected the SASL credentials (...): check SLUICE_KAFKA_USERNAME ..."
 * ```
 */
export function explainKafkaSecurityError(error: unknown, brokers: string[]): string | undefined {
  // Our own errors (a settings file that cannot be read) already say what to do.
  if (error instanceof SluiceError) return undefined;
  const message = errorChainText(error);
  const failure = classifySecurityFailure(message);
  if (failure === "tls") {
    return `TLS with Kafka at ${brokers.join(",")} failed (${message}): check that ` +
      "SLUICE_KAFKA_TLS_CA(_FILE) holds the CA that signed the broker's certificate and that " +
      "the broker address is a TLS listener";
  }
  if (failure === "auth") {
    return `Kafka at ${brokers.join(",")} rejected the SASL credentials (${message}): check ` +
      "SLUICE_KAFKA_USERNAME, SLUICE_KAFKA_PASSWORD(_FILE) and SLUICE_KAFKA_SASL_MECHANISM";
  }
  return undefined;
}

/**
 * The messages of an error and its causes, joined: kafkajs wraps the error it got in
 * `originalError`, @platformatic/kafka in `cause` and in the `errors` of an AggregateError.
 */
export function errorChainText(error: unknown): string {
  const parts: string[] = [];
  const visit = (e: unknown, depth: number) => {
    if (!e || depth > 5) return;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && message && !parts.includes(message)) parts.push(message);
    const inner = e as { cause?: unknown; originalError?: unknown; errors?: unknown };
    visit(inner.cause ?? inner.originalError, depth + 1);
    if (Array.isArray(inner.errors)) { for (const each of inner.errors) visit(each, depth + 1); }
  };
  visit(error, 0);
  return parts.join(": ") || String(error);
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
