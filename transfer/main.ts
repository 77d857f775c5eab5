/**
 * The transfer's command line: `deno task transfer` runs the consumer until SIGTERM/SIGINT (then
 * finishes in-flight bulks, commits, leaves the group and exits 0); `deno task transfer:replay`
 * re-indexes a range of a topic with a progress line.
 * @module
 */
import { type CommandSpec, parseCommand, runMain } from "../core/cli.ts";
import { ExitCode, InvalidInputError } from "../core/errors.ts";
import { getLogger, setupLogging } from "../core/log.ts";
import { configOptions, loadConfig } from "./config.ts";
import { formatProgress, parseFromOffsets, parseTime, runReplay } from "./replay.ts";
import { startTransfer } from "./transfer.ts";

const settingsEpilog = [
  "Settings come from defaults < --config FILE (or SLUICE_TRANSFER_CONFIG) < SLUICE_* variables",
  "< flags. Indices are PREFIX-STREAM-YYYY.MM.DD (UTC day of @timestamp); _id is the event id.",
].join("\n");

const transferSpec: CommandSpec = {
  name: "deno task transfer",
  summary:
    "Move log envelopes from Kafka into Elasticsearch/OpenSearch, date-sharded, no duplicates.",
  usage: "[options]",
  options: configOptions(),
  epilog: [
    settingsEpilog,
    "",
    "SIGTERM/SIGINT: finish in-flight bulks, commit, leave the group, exit 0 (a second signal",
    "exits at once; uncommitted records are read again on restart).",
    "Exit codes: 0 stopped cleanly, 2 invalid settings, 4 engine or Kafka unreachable at start.",
  ].join("\n"),
};

const replaySpec: CommandSpec = {
  name: "deno task transfer:replay",
  summary: "Re-index a range of a topic (from an offset or a time) without duplicates.",
  usage: "--topic TOPIC (--from-offset P:O ... | --from-time ISO) [--to-time ISO] [options]",
  options: {
    ...configOptions(),
    "from-offset": {
      type: "string",
      multiple: true,
      arg: "P:O",
      description: "Replay partition P from offset O (repeatable; other partitions are left out).",
    },
    "from-time": {
      type: "string",
      arg: "ISO",
      description: "Replay every partition from its first record at or after this time.",
    },
    "to-time": {
      type: "string",
      arg: "ISO",
      description: "Stop before the first record after this time (default: the end at start).",
    },
  },
  epilog: [
    "Replay reads through a throwaway consumer group (deleted afterwards): the transfer's own",
    "group and its offsets are never touched. Documents keep their _id, so nothing is duplicated.",
    "Records the engine rejects go to the dead-letter topic again.",
    "",
    settingsEpilog,
    "",
    "Example: deno task transfer:replay --topic logs --from-time 2024-03-09T00:00:00Z",
  ].join("\n"),
};

async function runTransfer(args: string[]): Promise<number> {
  const { values } = parseCommand(transferSpec, args);
  const config = await loadConfig(values);
  setupLogging();
  const log = getLogger("transfer");
  // The metrics server logs its own address (core/metrics_server.ts).
  const transfer = await startTransfer(config);
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) {
      log.warn("second signal: exiting without waiting");
      Deno.exit(130);
    }
    void transfer.stop();
  };
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  await transfer.done;
  Deno.removeSignalListener("SIGTERM", onSignal);
  Deno.removeSignalListener("SIGINT", onSignal);
  return ExitCode.Ok;
}

async function runReplayCommand(args: string[]): Promise<number> {
  const { values } = parseCommand(replaySpec, args);
  const topics = (values.topic as string[] | undefined) ?? [];
  if (topics.length !== 1 || topics[0].includes(",")) {
    throw new InvalidInputError("replay takes exactly one --topic");
  }
  const config = await loadConfig(values);
  setupLogging();
  const fromOffsets = values["from-offset"]
    ? parseFromOffsets(values["from-offset"] as string[])
    : undefined;
  const fromTime = values["from-time"]
    ? parseTime(values["from-time"] as string, "--from-time")
    : undefined;
  const toTime = values["to-time"]
    ? parseTime(values["to-time"] as string, "--to-time")
    : undefined;
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error("interrupted"));
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const result = await runReplay(config, { topic: topics[0], fromOffsets, fromTime, toTime }, {
    signal: controller.signal,
    // On a terminal the line rewrites itself; in a log file each update is its own line.
    onProgress: (p) =>
      Deno.stderr.writeSync(
        encoder.encode(`${tty ? "\r\x1b[2K" : ""}${formatProgress(p)}${tty ? "" : "\n"}`),
      ),
  });
  if (tty) Deno.stderr.writeSync(encoder.encode("\n"));
  console.log(
    JSON.stringify({
      topic: result.topic,
      total: result.total,
      read: result.read,
      indexed: result.indexed,
      dead_lettered: result.deadLettered,
    }),
  );
  return ExitCode.Ok;
}

/** Runs `transfer` (default) or `transfer replay`. */
export function main(args: string[]): Promise<number> {
  if (args[0] === "replay") return runReplayCommand(args.slice(1));
  if (args[0] === "run") return runTransfer(args.slice(1));
  return runTransfer(args);
}

if (import.meta.main) await runMain(() => main(Deno.args));
