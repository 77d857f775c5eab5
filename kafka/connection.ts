/**
 * The one place a Kafka client is built. Agent (producer), transfer (consumer) and tools
 * (admin) all go through `createKafka`, so TLS/SASL settings and logging are handled alike.
 * kafkajs is wrapped here and in kafka/producer.ts / kafka/consumer.ts only; see
 * docs/decisions/0001-kafka-client.md for why kafkajs and how to swap it.
 * @module
 */
import process from "node:process";
import { Kafka, logLevel, type SASLOptions } from "kafkajs";
import { getLogger } from "../core/log.ts";
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
  /** TLS: true for system CAs, or PEM strings. */
  ssl?: boolean | { ca?: string[]; cert?: string; key?: string; rejectUnauthorized?: boolean };
  sasl?: {
    mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
    username: string;
    password: string;
  };
  /** Connection timeout in ms (default 3000). */
  connectionTimeoutMs?: number;
  /** Request timeout in ms (default 30000). */
  requestTimeoutMs?: number;
}

const log = getLogger("kafka");

/** Builds a kafkajs client whose own log lines go through the sluice logger. */
export function createKafka(options: KafkaConnectionOptions): Kafka {
  // Producers compress with, and consumers read batches compressed by, snappy and lz4 too.
  registerCodecs();
  // kafkajs warns about its v2 partitioner change on every producer; sluice sets keys itself.
  Deno.env.set("KAFKAJS_NO_PARTITIONER_WARNING", "1");
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ssl: options.ssl,
    sasl: options.sasl as SASLOptions | undefined,
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
