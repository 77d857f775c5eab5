/**
 * The whole pipeline against the secure stack (TLS everywhere, SASL/SCRAM on Kafka, users and
 * passwords on etcd and OpenSearch, passwords read from files): `config:apply` writes to etcd
 * over TLS as the sluice user, the agent reads its config there and ships lines to Kafka over
 * SASL_SSL, the transfer consumes over SASL_SSL and indexes into OpenSearch, and in a second test
 * into Elasticsearch, over TLS with basic auth. Every process logs at debug level; no password may appear in their output, in the
 * agent's or the transfer's /metrics, or in any etcd value.
 */
import { equal, ok } from "node:assert/strict";
import { openConfigPlane } from "../../config_plane/mod.ts";
import { freePort, waitFor } from "../../core/child.ts";
import { securityFromEnv } from "../../core/security.ts";
import { createKafka } from "../../kafka/connection.ts";
import { createEngine } from "../../transfer/engine.ts";
import { secureClientEnv } from "../../stack/secure/credentials.ts";
import { SECURE_STACK_DIR } from "../../stack/secure/stack.ts";
import {
  consumerLagProbe,
  documentsProbe,
  topicRecordsProbe,
  withDiagnostics,
} from "../support/diagnostics.ts";
import {
  allPasswords,
  deleteIndexTemplate,
  leakedPasswords,
  runSluice,
  uniqueName,
  withSecureStack,
} from "./security_support.ts";

const LINES = 300;

// Once per engine: the secure OpenSearch and the secure Elasticsearch (TLS + basic auth each).
for (const engineName of ["opensearch", "elasticsearch"] as const) {
  Deno.test({
    name:
      "secure stack: config:apply, agent and transfer over TLS + SASL/SCRAM + auth, no secret " +
      `leaks (${engineName === "opensearch" ? "OpenSearch" : "Elasticsearch"})`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      withSecureStack(() =>
        withDiagnostics(async (d) => {
          const passwords = await allPasswords();
          const env: Record<string, string> = {
            ...secureClientEnv(SECURE_STACK_DIR, engineName),
            SLUICE_LOG_LEVEL: "debug",
          };
          const security = securityFromEnv(env);
          // The password files are what the processes get: none of the values is in their env.
          ok(leakedPasswords(JSON.stringify(env), passwords).length === 0);

          const name = uniqueName("pipe");
          const prefix = `/${name}`;
          const dir = await Deno.makeTempDir({ prefix: "sluice-security-" });
          const logFile = `${dir}/app.log`;
          const stateFile = `${dir}/desired.yaml`;
          await Deno.writeTextFile(
            stateFile,
            `sources:\n  - id: secure-app\n    paths: ["${dir}/*.log"]\n    topic: ${name}\n` +
              "    start_at: beginning\n",
          );
          const engine = await createEngine({
            url: env.SLUICE_SEARCH_URL,
            security: security.search,
          });
          equal(engine.kind, engineName);
          d.defer(() => Deno.remove(dir, { recursive: true }));
          d.defer(() => engine.close());
          d.defer(() => cleanUp(name, prefix, env, security));
          const kafka = { brokers: [env.SLUICE_KAFKA_BROKERS], security: security.kafka };
          d.probe(`records in topic ${name}`, topicRecordsProbe(kafka, name));
          d.probe(`transfer group ${name}`, consumerLagProbe(kafka, name, name));
          d.probe(`documents in ${name}-*`, documentsProbe(engine, `${name}-*`));

          // 1. config:apply against etcd over TLS with the sluice user's password.
          const apply = await runSluice(
            "config_plane/main.ts",
            ["apply", stateFile, "-m", "secure pipeline test", "--prefix", prefix],
            env,
          );
          equal(apply.code, 0, `config:apply failed:\n${apply.output}`);

          // 2. The agent and the transfer, each with its /metrics on a port of its own.
          const agentMetrics = `127.0.0.1:${freePort()}`;
          const transferMetrics = `127.0.0.1:${freePort()}`;
          const agent = d.spawn({
            name: "agent",
            script: "agent/main.ts",
            env,
            metricsAddr: agentMetrics,
            args: [
              ...["--agent-id", `${name}-agent`, "--prefix", prefix],
              ...["--checkpoint-dir", `${dir}/checkpoints`, "--metrics-addr", agentMetrics],
              ...["--poll-ms", "50", "--scan-ms", "200", "--linger-ms", "5"],
              ...["--shutdown-timeout-ms", "5000"],
            ],
          });
          const transfer = d.spawn({
            name: "transfer",
            script: "transfer/main.ts",
            env,
            metricsAddr: transferMetrics,
            args: [
              ...["--topic", name, "--group", name, "--index-prefix", name],
              ...["--dead-letter-topic", `${name}-dlq`, "--metrics-addr", transferMetrics],
              ...["--index-replicas", "0", "--bulk-linger-ms", "200"],
            ],
          });

          // 3. Lines in, documents out.
          let text = "";
          for (let i = 0; i < LINES; i++) {
            text += `secure line ${String(i).padStart(4, "0")} ${"x".repeat(30)}\n`;
          }
          const started = Date.now();
          await Deno.writeTextFile(logFile, text);
          const count = await waitFor(`${LINES} documents in ${name}-*`, async () => {
            await engine.refresh(`${name}-*`);
            const n = await engine.count(`${name}-*`);
            return n >= LINES ? n : undefined;
          }, { timeoutMs: 90_000, intervalMs: 250, retryErrors: true });
          equal(count, LINES, "every line indexed exactly once");
          console.error(`${count} documents in ${name}-* after ${Date.now() - started} ms`);
          const sample = await engine.search(`${name}-*`, {
            query: { match_phrase: { message: "secure line 0042" } },
          });
          equal(sample.total, 1);

          // 4. The agent registered itself in etcd (over TLS, with its password).
          const plane = openConfigPlane({
            endpoints: [env.SLUICE_ETCD_ENDPOINTS],
            prefix,
            security: security.etcd,
          });
          let values: string[] = [];
          try {
            await waitFor("the agent's status key", async () => {
              const status = await plane.kv.get(`agents/${name}-agent`).string();
              return status ?? undefined;
            }, { timeoutMs: 20_000, intervalMs: 250, retryErrors: true });
            values = Object.values(await plane.kv.getAll().prefix("").strings());
          } finally {
            plane.close();
          }
          ok(
            values.length >= 3,
            `expected events, head and the agent status, got ${values.length}`,
          );
          equal(leakedPasswords(values.join("\n"), passwords).join(","), "", "a password in etcd");

          // 5. /metrics of both: served, about this run, and without any secret.
          const outputs: Record<string, string> = { "config:apply": apply.output };
          for (const proc of [agent, transfer]) {
            const body = await (await fetch(`http://${proc.metricsAddr}/metrics`)).text();
            ok(
              body.includes("# TYPE"),
              `${proc.name} /metrics is not Prometheus text:\n${body.slice(0, 200)}`,
            );
            outputs[`${proc.name} /metrics`] = body;
          }

          // 6. Debug-level output of every process, up to its exit: no password in any of it.
          for (const proc of [agent, transfer]) {
            equal(await proc.stop(15_000), 0, `${proc.name} did not exit cleanly`);
            outputs[proc.name] = proc.output;
          }
          console.error(
            Object.entries(outputs).map(([who, text]) => `${who}: ${text.length} bytes`).join(", "),
          );
          ok(/DBG|debug/i.test(outputs.agent), "the agent did not log at debug level");
          for (const [who, output] of Object.entries(outputs)) {
            equal(leakedPasswords(output, passwords).join(","), "", `a password in ${who} output`);
          }
          // The transfer found the engine it was pointed at (detected, not configured).
          ok(
            new RegExp(`sluice·transfer: ${engineName} \\d+\\.\\d+`).test(outputs.transfer),
            `the transfer did not report ${engineName}:\n${outputs.transfer.slice(0, 2000)}`,
          );
        })
      ),
  });
}

/** Deletes the test's topics, group, indices, template and etcd keys (best effort). */
async function cleanUp(
  name: string,
  prefix: string,
  env: Record<string, string>,
  security: ReturnType<typeof securityFromEnv>,
): Promise<void> {
  const admin = createKafka({
    brokers: [env.SLUICE_KAFKA_BROKERS],
    clientId: "sluice-security-cleanup",
    security: security.kafka,
  }).admin();
  try {
    await admin.connect();
    await admin.deleteGroups([name]).catch(() => {});
    await admin.deleteTopics({ topics: [name, `${name}-dlq`] }).catch(() => {});
  } finally {
    await admin.disconnect().catch(() => {});
  }
  const engine = await createEngine({ url: env.SLUICE_SEARCH_URL, security: security.search });
  try {
    await engine.deleteIndices(await engine.listIndices(`${name}-*`));
  } finally {
    await engine.close();
  }
  await deleteIndexTemplate(env.SLUICE_SEARCH_URL, security.search, name);
  const plane = openConfigPlane({
    endpoints: [env.SLUICE_ETCD_ENDPOINTS],
    prefix,
    security: security.etcd,
  });
  try {
    await plane.kv.delete().all();
  } finally {
    plane.close();
  }
}
