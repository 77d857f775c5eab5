/**
 * `deno task test:faults`: runs the fault and bad-input scenarios (tests/faults/scenarios/)
 * against the local stack, which it starts when it is not running, then writes
 * docs/RELIABILITY.md from the rows they recorded. Run it under the shared stack lock: the
 * scenarios stop and restart etcd, Kafka and OpenSearch.
 * @module
 */
import { parseCommand, runMain } from "../../core/cli.ts";
import { ensureStack, stopStack } from "../../stack/mod.ts";
import { loadRows, renderReport, REPORT_PATH, RESULTS_DIR } from "./report.ts";

const spec = {
  name: "deno task test:faults",
  summary: "Break the pipeline as an operator would; count lost and duplicated lines.",
  usage: "[--filter TEXT] [--render]",
  options: {
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
    "Exit code 0 when no scenario failed, 1 otherwise.",
  ].join("\n"),
} as const;

const root = new URL("../../", import.meta.url).pathname;

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
    // A full run starts from no rows, so the report holds this run only.
    if (!filter) await Deno.remove(RESULTS_DIR, { recursive: true }).catch(() => {});
    const stack = await ensureStack({ progress: (line) => console.log(line) });
    let code: number;
    try {
      const args = [
        "test",
        "-A",
        ...(filter ? ["--filter", filter] : []),
        "tests/faults/scenarios/",
      ];
      code = (await new Deno.Command(Deno.execPath(), { args, cwd: root, stdin: "null" }).spawn()
        .status).code;
    } finally {
      if (stack.started.length > 0) await stopStack(stack);
    }
    const rows = await writeReport();
    console.log(`${REPORT_PATH}: ${rows} scenarios`);
    return code === 0 ? 0 : 1;
  }
  console.log(`${REPORT_PATH}: ${await writeReport()} scenarios`);
  return 0;
}

if (import.meta.main) await runMain(main);
