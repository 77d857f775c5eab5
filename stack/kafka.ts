/**
 * Apache Kafka 4 for the local stack: one KRaft node (broker + controller) on 127.0.0.1:9092
 * (controller 9093), jars resolved from Maven Central with stack/kafka/pom.xml, storage formatted
 * on first start. It answers when a client can read the cluster metadata.
 * @module
 */
import { SluiceError } from "../core/errors.ts";
import { createKafka } from "../kafka/connection.ts";
import { resolveJars } from "./maven.ts";
import { isListening } from "./ports.ts";
import { requireJava, run } from "./prerequisites.ts";
import {
  parseAddress,
  type ProbeResult,
  REPO_ROOT,
  type ServiceAddress,
  type ServiceDefinition,
} from "./service.ts";

export const KAFKA_BROKER_PORT = 9092;
export const KAFKA_CONTROLLER_PORT = 9093;
/** Heap of the broker: enough for tests and the benchmark, small beside OpenSearch. */
const KAFKA_HEAP = "768m";

/** The pom that resolves the broker's jars (the secure broker of stack/secure/ uses it too). */
export const KAFKA_POM = `${REPO_ROOT}/stack/kafka/pom.xml`;
export const KAFKA_LOG4J2_CONFIG = `${REPO_ROOT}/stack/kafka/log4j2.properties`;
const POM = KAFKA_POM;
const LOG4J2_CONFIG = KAFKA_LOG4J2_CONFIG;

/**
 * server.properties of a single KRaft node. Replication factors and min ISR are 1 because
 * there is one broker; `group.initial.rebalance.delay.ms=0` so a test's consumer group starts at
 * once instead of waiting 3 s for more members. `overrides` replace or add settings (the secure
 * broker of stack/secure/ changes the listeners and adds TLS and SASL).
 */
export function renderServerProperties(
  dataDir: string,
  overrides: Record<string, string | number | boolean> = {},
  source = "stack/kafka.ts",
): string {
  const settings: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.voters": `1@127.0.0.1:${KAFKA_CONTROLLER_PORT}`,
    "listeners":
      `PLAINTEXT://127.0.0.1:${KAFKA_BROKER_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${KAFKA_BROKER_PORT}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "log.dirs": dataDir,
    "num.partitions": 3,
    "default.replication.factor": 1,
    "min.insync.replicas": 1,
    "offsets.topic.replication.factor": 1,
    "offsets.topic.num.partitions": 10,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    "group.initial.rebalance.delay.ms": 0,
    "auto.create.topics.enable": true,
    "delete.topic.enable": true,
    // Local disks are small; a week of test topics is plenty.
    "log.retention.hours": 168,
    "log.segment.bytes": 268_435_456,
    ...overrides,
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key}=${value}`);
  return `# Written by ${source} on every start; edit it, not this file.\n${lines.join("\n")}\n`;
}

/**
 * A new Kafka cluster id: 16 random bytes in URL-safe base64 without padding, as Kafka's
 * `Uuid.randomUuid()` makes them (which also avoids a leading "-" that CLIs read as a flag).
 */
export function newClusterId(
  random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b),
): string {
  for (;;) {
    const bytes = random(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    if (!id.startsWith("-")) return id;
  }
}

/** The Kafka version of the resolved jars (from kafka_2.13-<version>.jar), if resolved. */
export async function kafkaJarVersion(libDir: string): Promise<string | undefined> {
  try {
    for await (const entry of Deno.readDir(libDir)) {
      const match = entry.name.match(/^kafka_2\.13-(.+)\.jar$/);
      if (match) return match[1];
    }
  } catch {
    // not resolved yet
  }
  return undefined;
}

function files(dir: string) {
  return {
    lib: `${dir}/lib`,
    data: `${dir}/data`,
    config: `${dir}/server.properties`,
  };
}

/**
 * Asks the broker for its cluster metadata (brokers and controller). With `nodeId` (a member of
 * a cluster) the broker answers only once that broker is among the brokers: registered with the
 * controllers and not fenced.
 */
export async function probeKafka(address: ServiceAddress, nodeId?: number): Promise<ProbeResult> {
  // A closed port fails at once here; kafkajs alone would spend seconds on retries.
  if (!await isListening(address.host.replace(/^\[|\]$/g, ""), address.port)) {
    throw new Error(`nothing listens on ${address.display}`);
  }
  const kafka = createKafka({
    brokers: [`${address.host}:${address.port}`],
    clientId: "sluice-stack-probe",
    connectionTimeoutMs: 2000,
    requestTimeoutMs: 5000,
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const { brokers } = await admin.describeCluster();
    if (brokers.length === 0) throw new Error("the cluster has no brokers yet");
    if (nodeId !== undefined && !brokers.some((b) => b.nodeId === nodeId)) {
      throw new Error(
        `broker ${nodeId} is not registered (brokers: ${brokers.map((b) => b.nodeId).join(", ")})`,
      );
    }
    return { version: "unknown" };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export const kafkaService: ServiceDefinition = {
  name: "kafka",
  defaultPort: KAFKA_BROKER_PORT,
  ports: [KAFKA_BROKER_PORT, KAFKA_CONTROLLER_PORT],
  address: (ctx) => parseAddress(ctx.endpoints.kafka[0], KAFKA_BROKER_PORT),
  async prepare(ctx) {
    const { paths, progress } = ctx;
    await requireJava();
    const f = files(ctx.dir);
    await resolveJars(POM, f.lib, "kafka", progress);
    await Deno.mkdir(f.data, { recursive: true });
    await Deno.writeTextFile(f.config, renderServerProperties(f.data));
    const formatted = await Deno.stat(`${f.data}/meta.properties`).then(() => true, () => false);
    if (formatted) return;
    progress("kafka: formatting the KRaft storage (first start)");
    const result = await run("java", [
      `-Dlog4j2.configurationFile=${LOG4J2_CONFIG}`,
      "-cp",
      `${f.lib}/*`,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      newClusterId(),
      "-c",
      f.config,
    ]);
    if (!result.ok) {
      throw new SluiceError(
        `formatting Kafka storage in ${f.data} failed:\n${result.output.trim()}\n` +
          `Fix: remove ${paths.dir} and run the command again.`,
      );
    }
  },
  command(ctx) {
    const { paths } = ctx;
    const f = files(ctx.dir);
    return Promise.resolve([
      "java",
      `-Xms256m`,
      `-Xmx${KAFKA_HEAP}`,
      "-XX:+UseG1GC",
      "-XX:MaxGCPauseMillis=20",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${LOG4J2_CONFIG}`,
      `-Dkafka.logs.dir=${paths.dir}`,
      "-cp",
      `${f.lib}/*`,
      "kafka.Kafka",
      f.config,
    ]);
  },
  async installedVersion(ctx) {
    return await kafkaJarVersion(files(ctx.dir).lib);
  },
  probe: (_ctx, address) => probeKafka(address),
  startTimeoutMs: 120_000,
  stopGraceMs: 30_000,
};
