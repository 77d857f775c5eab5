/**
 * `deno task agent`: runs one agent until SIGTERM or SIGINT, then stops cleanly (stop reading,
 * flush to Kafka, save checkpoints, deregister) and exits 0 within the shutdown timeout.
 * @module
 */
import { parseCommand, runMain } from "../core/cli.ts";
import { getLogger, setupLogging } from "../core/log.ts";
import { Agent } from "./agent.ts";
import { AGENT_OPTIONS, loadSettings } from "./settings.ts";

const SPEC = {
  name: "deno task agent",
  summary: "tail the log files the config plane assigns to this host and send them to Kafka",
  options: AGENT_OPTIONS,
  epilog: `What to collect comes from the config plane (etcd); see docs/agent.md.
/healthz answers as docs/health.md says.
Exit codes: 0 stopped cleanly, 1 failure, 2 invalid settings.`,
};

/** Parses the command line, runs the agent and waits for a stop signal. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseCommand(SPEC, args);
  const settings = await loadSettings(values, Deno.env.toObject(), Deno.hostname());
  setupLogging();
  const log = getLogger("agent");
  // Out of file descriptors (the open-file budget keeps log files under the soft limit, but
  // other files and sockets can still run out): an error in a background accept or read must
  // not end the agent. Its sources hold their reading and retry; checkpoints are retried too.
  globalThis.addEventListener("unhandledrejection", (event) => {
    if (!isOutOfDescriptors(event.reason)) return;
    event.preventDefault();
    log.error("out of file descriptors (raise the soft limit, e.g. LimitNOFILE): {error}", {
      error: String((event.reason as Error)?.message ?? event.reason),
    });
  });
  const agent = new Agent(settings);
  const stopped = Promise.withResolvers<string>();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => stopped.resolve(signal));
  }
  await agent.start();
  log.info("agent {id} started (labels {labels}, checkpoints in {dir})", {
    id: settings.agentId,
    labels: settings.labels,
    dir: settings.checkpointDir,
  });
  const signal = await stopped.promise;
  log.info("{signal}: stopping", { signal });
  // A hard bound: whatever hangs, the process ends shortly after the shutdown timeout.
  const hard = setTimeout(() => {
    log.error("clean stop took too long; exiting");
    Deno.exit(1);
  }, settings.shutdownTimeoutMs + 5_000);
  await agent.stop();
  clearTimeout(hard);
  log.info("agent stopped cleanly");
  return 0;
}

/** True for the error a system call gives when the process has no file descriptor left. */
export function isOutOfDescriptors(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /too many open files|EMFILE|os error 24/i.test(message);
}

if (import.meta.main) runMain(() => main(Deno.args));
