/**
 * The secure Kafka: a second single-node KRaft cluster whose only client listener is SASL_SSL on
 * 127.0.0.1:9192 (SCRAM-SHA-512; TLS with the stack's server certificate), controller on
 * 127.0.0.1:9193 (loopback, plaintext: only the node talks to itself there). Brokers talk to each
 * other over SASL_SSL as `admin`. The SCRAM users `admin` and `sluice` are written when the
 * storage is formatted (`--add-scram`), so they exist before the broker takes a connection.
 * @module
 */
import { SluiceError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import { createKafka } from "../../kafka/connection.ts";
import {
  KAFKA_LOG4J2_CONFIG,
  KAFKA_POM,
  kafkaJarVersion,
  newClusterId,
  renderServerProperties,
} from "../kafka.ts";
import { resolveJars } from "../maven.ts";
import { isListening } from "../ports.ts";
import { requireJava, run } from "../prerequisites.ts";
import { STACK_DIR } from "../service.ts";
import { readPassword, SECURE_ADDRESSES, SECURE_PORTS, SLUICE_USER } from "./credentials.ts";
import { parseAddress, type SecureContext, type ServiceDefinition } from "../service.ts";

/** The jars of the plaintext broker are the same; resolve them once. */
const LIB = `${STACK_DIR}/kafka/lib`;

/** The JAAS line of a SCRAM login (pure; quotes in a password are escaped). */
export function scramJaas(username: string, password: string): string {
  const quote = (s: string) => `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  return "org.apache.kafka.common.security.scram.ScramLoginModule required " +
    `username=${quote(username)} password=${quote(password)};`;
}

/** server.properties of the secure node (pure). */
export function renderSecureServerProperties(
  dataDir: string,
  tls: { keystore: string; keystorePassword: string; ca: string },
  adminPassword: string,
): string {
  const broker = SECURE_ADDRESSES.kafka;
  return renderServerProperties(dataDir, {
    "controller.quorum.voters": `1@127.0.0.1:${SECURE_PORTS.kafkaController}`,
    "listeners": `SASL_SSL://${broker},CONTROLLER://127.0.0.1:${SECURE_PORTS.kafkaController}`,
    "advertised.listeners": `SASL_SSL://${broker}`,
    "inter.broker.listener.name": "SASL_SSL",
    "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
    "sasl.enabled.mechanisms": "SCRAM-SHA-512",
    "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scramJaas("admin", adminPassword),
    "ssl.keystore.type": "PKCS12",
    "ssl.keystore.location": tls.keystore,
    "ssl.keystore.password": tls.keystorePassword,
    "ssl.key.password": tls.keystorePassword,
    // The broker is a TLS client of itself (inter-broker): it trusts the stack's CA.
    "ssl.truststore.type": "PEM",
    "ssl.truststore.location": tls.ca,
    "ssl.client.auth": "none",
  }, "stack/secure/kafka.ts");
}

async function probe(ctx: SecureContext): Promise<string> {
  if (!await isListening("127.0.0.1", SECURE_PORTS.kafkaBroker)) {
    throw new Error(`nothing listens on ${SECURE_ADDRESSES.kafka}`);
  }
  const kafka = createKafka({
    brokers: [SECURE_ADDRESSES.kafka],
    clientId: "sluice-stack-probe",
    connectionTimeoutMs: 3000,
    requestTimeoutMs: 5000,
    security: {
      tls: { ca: await Deno.readTextFile(ctx.certs.ca) },
      sasl: {
        mechanism: "scram-sha-512",
        username: SLUICE_USER,
        password: new Secret(await readPassword(ctx.credentials.kafkaSluice), "kafka-sluice"),
      },
    },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error("the cluster has no brokers yet");
  } finally {
    await admin.disconnect().catch(() => {});
  }
  return await kafkaJarVersion(LIB) ?? "unknown";
}

export const secureKafkaService: ServiceDefinition<SecureContext> = {
  name: "kafka",
  defaultPort: SECURE_PORTS.kafkaBroker,
  address: () => parseAddress(SECURE_ADDRESSES.kafka, SECURE_PORTS.kafkaBroker),
  ports: [SECURE_PORTS.kafkaBroker, SECURE_PORTS.kafkaController],
  async prepare(ctx) {
    await requireJava();
    await resolveJars(KAFKA_POM, LIB, "kafka", ctx.progress);
    const data = `${ctx.dir}/data`;
    const config = `${ctx.dir}/server.properties`;
    await Deno.mkdir(data, { recursive: true });
    const adminPassword = await readPassword(ctx.credentials.kafkaAdmin);
    const keystorePassword = await readPassword(ctx.certs.keystorePassword);
    // It holds the admin password and the key store's: its owner only.
    await Deno.writeTextFile(
      config,
      renderSecureServerProperties(
        data,
        { keystore: ctx.certs.keystore, keystorePassword, ca: ctx.certs.ca },
        adminPassword,
      ),
      { mode: 0o600 },
    );
    await Deno.chmod(config, 0o600);
    if (await Deno.stat(`${data}/meta.properties`).then(() => true, () => false)) return;
    ctx.progress("kafka (secure): formatting the KRaft storage with SCRAM users admin and sluice");
    const sluicePassword = await readPassword(ctx.credentials.kafkaSluice);
    const scram = (name: string, password: string) =>
      `SCRAM-SHA-512=[name=${name},password=${password}]`;
    const result = await run("java", [
      `-Dlog4j2.configurationFile=${KAFKA_LOG4J2_CONFIG}`,
      "-cp",
      `${LIB}/*`,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      newClusterId(),
      "-c",
      config,
      "--add-scram",
      scram("admin", adminPassword),
      "--add-scram",
      scram(SLUICE_USER, sluicePassword),
    ]);
    if (!result.ok) {
      throw new SluiceError(
        `formatting the secure Kafka storage in ${data} failed:\n` +
          `${
            result.output.replaceAll(adminPassword, "[redacted]").replaceAll(
              sluicePassword,
              "[redacted]",
            ).trim()
          }\n` +
          `Fix: remove ${ctx.dir} and start the secure stack again.`,
      );
    }
  },
  command: (ctx) =>
    Promise.resolve([
      "java",
      "-Xms256m",
      "-Xmx512m",
      "-XX:+UseG1GC",
      "-XX:MaxGCPauseMillis=20",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${KAFKA_LOG4J2_CONFIG}`,
      `-Dkafka.logs.dir=${ctx.dir}`,
      "-cp",
      `${LIB}/*`,
      "kafka.Kafka",
      `${ctx.dir}/server.properties`,
    ]),
  probe: async (ctx) => ({ version: await probe(ctx) }),
  startTimeoutMs: 120_000,
  stopGraceMs: 30_000,
};
