/**
 * A live pipeline for the console's tests: a real agent process (`agent/main.ts`) tailing files
 * in a temp dir, an in-process transfer indexing its topic, and the console, all on throwaway
 * names (etcd prefix, topic, group, index prefix) of the real stack. The agent can be paused
 * (SIGSTOP) so that the moment it runs an older revision is observable, then resumed.
 * @module
 */
import { type ConfigPlane, openConfigPlane } from "../../config_plane/mod.ts";
import { type RunningConsole, startConsole } from "../../console/server.ts";
import { createEngine } from "../../transfer/engine.ts";
import { cleanUpTest, testConfig, uniqueName } from "../support/transfer_rig.ts";
import { startTransfer } from "../../transfer/transfer.ts";
import {
  consumerLagProbe,
  type Diagnostics,
  documentsProbe,
  topicRecordsProbe,
} from "../support/diagnostics.ts";
import type { TestProcess } from "../support/process.ts";
import { endpoints, spawnAgent } from "./agent_support.ts";

export interface LivePipeline {
  /** Temp dir holding `web/access.log` and `app/checkout.log`. */
  dir: string;
  webLog: string;
  appLog: string;
  /** Topic, transfer group and index prefix. */
  name: string;
  /** etcd prefix of the config plane. */
  prefix: string;
  /** The agent's id: also the host name of its selectors, envelopes and status (docs/agent.md). */
  agentId: string;
  web: RunningConsole;
  plane: ConfigPlane;
  /** Starts the agent process (once). */
  startAgent(): void;
  /** SIGSTOP: the agent keeps its registration but processes nothing until resumed. */
  pauseAgent(): void;
  resumeAgent(): void;
  /** Appends lines to a file. */
  append(path: string, lines: string[]): Promise<void>;
}

/**
 * The desired state of the tests: the web access log; with `checkout`, also the JSON app log.
 *
 * @example
 * ```ts ignore
 * liveState(pipeline, { checkout: true }); // YAML with sources web and checkout
 * ```
 */
export function liveState(
  pipeline: Pick<LivePipeline, "dir" | "name">,
  options: { checkout?: boolean } = {},
): string {
  const web = `defaults:
  topic: ${pipeline.name}
  start_at: beginning
  fields: { env: test }
sources:
  - id: web
    paths: ["${pipeline.dir}/web/*.log"]
    parser:
      type: regex
      pattern: '^(?<client>\\S+) \\S+ \\S+ \\[[^\\]]+\\] "(?<method>\\S+) (?<path>\\S+) \\S+" (?<status>\\d{3}) (?<bytes>\\d+)'
    fields: { service: web }
`;
  const checkout = `  - id: checkout
    paths: ["${pipeline.dir}/app/*.log"]
    parser: { type: json }
    fields: { service: checkout }
`;
  return options.checkout ? web + checkout : web;
}

/**
 * Starts the transfer and the console on fresh names; the agent starts with `startAgent()`. All
 * of it is stopped and removed when `d` closes; a failing test's report shows the agent's log,
 * the records in the topic, the transfer's lag, the documents and the status keys.
 */
export async function startLivePipeline(d: Diagnostics): Promise<LivePipeline> {
  const name = uniqueName("console-live");
  const prefix = `/sluice-${name}`;
  const dir = await Deno.makeTempDir({ prefix: "sluice-console-live-" });
  await Deno.mkdir(`${dir}/web`);
  await Deno.mkdir(`${dir}/app`);
  const config = testConfig(name);
  const engine = await createEngine({ url: config.searchUrl });
  const transfer = await startTransfer(config);
  const web = await startConsole({ port: 0, etcdPrefix: prefix, indexPrefix: name });
  const plane = openConfigPlane({ prefix });
  const agentId = "web-1"; // registered under this run's own prefix, so no other agent clashes
  let agent: TestProcess | undefined;
  d.defer(async () => {
    await web.stop().catch(() => {});
    await transfer.stop().catch(() => {});
    await cleanUpTest(config, engine).catch(() => {});
    await plane.kv.delete().all().catch(() => {});
    plane.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  });
  const kafka = { brokers: endpoints.kafka };
  d.probe(`records in ${name}`, topicRecordsProbe(kafka, name));
  d.probe(`transfer group ${name}`, consumerLagProbe(kafka, name, name));
  d.probe(`documents in ${name}-*`, documentsProbe(engine, `${name}-*`));
  d.probe("status keys", async () => await plane.listAgents());
  return {
    dir,
    webLog: `${dir}/web/access.log`,
    appLog: `${dir}/app/checkout.log`,
    name,
    prefix,
    agentId,
    web,
    plane,
    startAgent() {
      if (agent) return;
      agent = d.track(spawnAgent({
        agentId,
        labels: ["role=web", "zone=local"],
        prefix,
        checkpointDir: `${dir}/checkpoints`,
        pollMs: 100,
        scanMs: 300,
      }));
    },
    pauseAgent() {
      agent!.signal("SIGSTOP");
    },
    resumeAgent() {
      agent!.signal("SIGCONT");
    },
    async append(path: string, lines: string[]) {
      await Deno.writeTextFile(path, lines.map((l) => `${l}\n`).join(""), { append: true });
    },
  };
}
