/**
 * The cluster's Kafka 4: three controller-only KRaft voters (19093, 19095, 19097) and three
 * brokers (19092, 19094, 19096), same jars as the plain broker. Every topic is replicated three
 * times with min.insync.replicas=2 and no unclean leader election, so a write acknowledged by
 * "all in-sync replicas" is on at least two brokers. One cluster id (made once, kept beside the
 * members' folders) formats every member's storage.
 * @module
 */
import { SluiceError } from "../../core/errors.ts";
import {
  KAFKA_LOG4J2_CONFIG,
  KAFKA_POM,
  kafkaJarVersion,
  newClusterId,
  probeKafka,
} from "../kafka.ts";
import { resolveJars } from "../maven.ts";
import { isListening } from "../ports.ts";
import { requireJava, run } from "../prerequisites.ts";
import { withLockFile } from "../process.ts";
import {
  parseAddress,
  type ServiceContext,
  type ServiceDefinition,
  STACK_DIR,
} from "../service.ts";
import {
  KAFKA_BROKERS,
  KAFKA_MEMBERS,
  KAFKA_REPLICATION,
  kafkaAddress,
  type KafkaMemberSpec,
} from "./topology.ts";

/** The plain broker's jars: the same version, resolved once. */
const LIB = `${STACK_DIR}/kafka/lib`;
/** Heaps: a broker holds the page cache's index and the producers' state; a voter only metadata. */
const BROKER_HEAP = "512m";
const CONTROLLER_HEAP = "256m";

/** `controller.quorum.voters` of the cluster: `101@127.0.0.1:19093,…` (pure). */
export function quorumVoters(members: readonly KafkaMemberSpec[] = KAFKA_MEMBERS): string {
  return members.filter((m) => m.role === "controller")
    .map((m) => `${m.nodeId}@${kafkaAddress(m)}`).join(",");
}

/**
 * server.properties of one member (pure). Brokers: replication factor 3 everywhere (topics,
 * offsets, transactions), min.insync.replicas 2, unclean leader election off; a 3 s
 * rebalance delay is not wanted by tests (`group.initial.rebalance.delay.ms=0`).
 */
export function renderClusterProperties(
  self: KafkaMemberSpec,
  dataDir: string,
  members: readonly KafkaMemberSpec[] = KAFKA_MEMBERS,
): string {
  const { factor, minInsync } = KAFKA_REPLICATION;
  const common: Record<string, string | number | boolean> = {
    "process.roles": self.role,
    "node.id": self.nodeId,
    "controller.quorum.voters": quorumVoters(members),
    "controller.listener.names": "CONTROLLER",
    "log.dirs": dataDir,
    // In KRaft the controllers create topics and keep the cluster-wide defaults: a topic made
    // without a replication factor gets the active controller's, so every member says the same.
    "num.partitions": 3,
    "default.replication.factor": factor,
    "min.insync.replicas": minInsync,
    "unclean.leader.election.enable": false,
  };
  const role: Record<string, string | number | boolean> = self.role === "controller"
    ? {
      "listeners": `CONTROLLER://${kafkaAddress(self)}`,
      "listener.security.protocol.map": "CONTROLLER:PLAINTEXT",
    }
    : {
      "listeners": `PLAINTEXT://${kafkaAddress(self)}`,
      "advertised.listeners": `PLAINTEXT://${kafkaAddress(self)}`,
      "inter.broker.listener.name": "PLAINTEXT",
      "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      "offsets.topic.replication.factor": factor,
      "offsets.topic.num.partitions": 10,
      "transaction.state.log.replication.factor": factor,
      "transaction.state.log.min.isr": minInsync,
      "share.coordinator.state.topic.replication.factor": factor,
      "share.coordinator.state.topic.min.isr": minInsync,
      "group.initial.rebalance.delay.ms": 0,
      "auto.create.topics.enable": true,
      "delete.topic.enable": true,
      "log.retention.hours": 168,
      "log.segment.bytes": 268_435_456,
    };
  const lines = Object.entries({ ...common, ...role }).map(([k, v]) => `${k}=${v}`);
  return `# Written by stack/cluster/kafka.ts on every start; edit it, not this file.\n${
    lines.join("\n")
  }\n`;
}

/** The one cluster id of the variant's Kafka (made on the first start of any member). */
async function clusterId(root: string): Promise<string> {
  const path = `${root}/kafka-cluster-id`;
  return await withLockFile(`${path}.lock`, 30_000, async () => {
    const known = (await Deno.readTextFile(path).catch(() => "")).trim();
    if (known) return known;
    const id = newClusterId();
    await Deno.writeTextFile(path, `${id}\n`);
    return id;
  });
}

async function prepare(self: KafkaMemberSpec, ctx: ServiceContext): Promise<void> {
  await requireJava();
  // The members prepare side by side; one resolves the shared jars.
  await withLockFile(`${STACK_DIR}/kafka-lib.lock`, 600_000, async () => {
    await Deno.mkdir(`${STACK_DIR}/kafka`, { recursive: true });
    await resolveJars(KAFKA_POM, LIB, "kafka", ctx.progress);
  });
  const data = `${ctx.dir}/data`;
  const config = `${ctx.dir}/server.properties`;
  await Deno.mkdir(data, { recursive: true });
  await Deno.writeTextFile(config, renderClusterProperties(self, data));
  if (await Deno.stat(`${data}/meta.properties`).then(() => true, () => false)) return;
  ctx.progress(`${self.id} (cluster): formatting the KRaft storage (first start)`);
  const result = await run("java", [
    `-Dlog4j2.configurationFile=${KAFKA_LOG4J2_CONFIG}`,
    "-cp",
    `${LIB}/*`,
    "kafka.tools.StorageTool",
    "format",
    "-t",
    await clusterId(ctx.root),
    "-c",
    config,
  ]);
  if (!result.ok) {
    throw new SluiceError(
      `formatting Kafka storage in ${data} failed:\n${result.output.trim()}\n` +
        `Fix: remove ${ctx.root} (the whole cluster: its members share one cluster id) and run ` +
        "the command again.",
    );
  }
}

/** The service definition of one Kafka member (voter or broker) of the cluster. */
export function clusterKafkaMember(self: KafkaMemberSpec): ServiceDefinition {
  const heap = self.role === "broker" ? BROKER_HEAP : CONTROLLER_HEAP;
  return {
    name: "kafka",
    defaultPort: self.port,
    ports: [self.port],
    address: () => parseAddress(kafkaAddress(self), self.port),
    prepare: (ctx) => prepare(self, ctx),
    command: (ctx) =>
      Promise.resolve([
        "java",
        `-Xms${heap}`,
        `-Xmx${heap}`,
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        `-Dlog4j2.configurationFile=${KAFKA_LOG4J2_CONFIG}`,
        `-Dkafka.logs.dir=${ctx.paths.dir}`,
        "-cp",
        `${LIB}/*`,
        "kafka.Kafka",
        `${ctx.dir}/server.properties`,
      ]),
    installedVersion: () => kafkaJarVersion(LIB),
    // A voter serves no client API: it answers when its controller port accepts connections; the
    // brokers' probes, which need a quorum to register, check the rest.
    probe: async (_ctx, address) => {
      if (self.role === "broker") return await probeKafka(address, self.nodeId);
      if (!await isListening(address.host, address.port)) {
        throw new Error(`nothing listens on ${address.display}`);
      }
      return { version: "unknown" };
    },
    startTimeoutMs: 120_000,
    stopGraceMs: 30_000,
  };
}

/** Every broker's `host:port` (bootstrap list). */
export const CLUSTER_BROKERS: readonly string[] = KAFKA_BROKERS.map(kafkaAddress);
