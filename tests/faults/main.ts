/**
 * `deno task test:faults`: runs the fault and bad-input scenarios (tests/faults/scenarios/)
 * against the local stack, which it starts when it is not running, then writes
 * docs/RELIABILITY.md from the rows they recorded. Run it under the shared stack lock: the
 * scenarios stop and restart etcd, Kafka and OpenSearch.
 * @module
 */
import { parseCommand, runMain } from "../../core/cli.ts";
import { ensureStack, type StackOptions, stopStack } from "../../stack/mod.ts";
import { clusterClientEnv } from "../../stack/cluster/topology.ts";
import { loadRows, renderReport, REPORT_PATH, RESULTS_DIR } from "./report.ts";

const spec = {
  name: "deno task test:faults",
  summary: "Break the pipeline as an operator would; count lost and duplicated lines.",
  usage: "[--cluster] [--filter TEXT] [--render]",
  options: {
    cluster: {
      type: "boolean",
      description: "The cluster scenarios (tests/faults/cluster/) on `stack:up --cluster`, " +
        "which it starts when it is not running (3 etcd, 3 Kafka brokers, 2 OpenSearch nodes).",
    },
    filter: {
      type: "string",
      arg: "TEXT",
      description: "Only scenarios whose name contains TEXT (the other rows are kept).",
    },
    render: {
      type: "boolean",
      description: "Only write docs/RELIABILITY.md from the rows recorded so far.",
    },
  },
  epilog: [
    `Rows are kept in ${RESULTS_DIR}; the report goes to docs/RELIABILITY.md.`,
    "Run it as: flock /tmp/sluice-stack.lock deno task test:faults",
    "The cluster rows are kept beside the single-node ones; the report shows both.",
    "Exit code 0 when no scenario failed, 1 otherwise.",
  ].join("\n"),
} as const;

const root = new URL("../../", import.meta.url).pathname;

/**
 * What `--cluster` runs: the cluster's own scenarios, and the single-node scenarios that hold
 * on any deployment and name their row after it (the consumer group's rebalances).
 */
const CLUSTER_SCENARIOS = [
  "tests/faults/cluster/",
  "tests/faults/scenarios/transfer_group_test.ts",
];

/** Removes the recorded rows of the cluster scenarios (ids `cluster-…`) or of the others. */
async function removeRows(cluster: boolean): Promise<void> {
  for (const row of await loadRows()) {
    if (row.id.startsWith("cluster-") === cluster) {
      await Deno.remove(`${RESULTS_DIR}/${row.id}.json`).catch(() => {});
    }
  }
}

/** Writes the report from the recorded rows; returns how many rows it holds. */
export async function writeReport(): Promise<number> {
  const rows = await loadRows();
  await Deno.writeTextFile(REPORT_PATH, renderReport(rows));
  return rows.length;
}

async function main(): Promise<number> {
  const { values } = parseCommand(spec, Deno.args);
  if (!values.render) {
    const filter = values.filter as string | undefined;
    const cluster = values.cluster === true;
    // A full run starts from no rows of its kind, so the report holds this run's only.
    if (!filter) await removeRows(cluster);
    const options: StackOptions = cluster
      ? { variant: "cluster", progress: (line) => console.log(line) }
      : { progress: (line) => console.log(line) };
    const stack = await ensureStack(options);
    let code: number;
    try {
      const args = [
        "test",
        "-A",
        ...(filter ? ["--filter", filter] : []),
        ...(cluster ? CLUSTER_SCENARIOS : ["tests/faults/scenarios/"]),
      ];
      code = (await new Deno.Command(Deno.execPath(), {
        args,
        cwd: root,
        stdin: "null",
        env: cluster ? clusterClientEnv() : undefined,
      }).spawn().status).code;
    } finally {
      if (stack.started.length > 0) await stopStack(stack, options);
    }
    const rows = await writeReport();
    console.log(`${REPORT_PATH}: ${rows} scenarios`);
    return code === 0 ? 0 : 1;
  }
  console.log(`${REPORT_PATH}: ${await writeReport()} scenarios`);
  return 0;
}

if (import.meta.main) await runMain(main);
