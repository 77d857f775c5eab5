/**
 * A fleet of agents in one process, for the config-propagation benchmark: `--agents N` `Agent`
 * instances (agent/agent.ts, the same class `deno task agent` runs), each with its own id, etcd
 * watch, status key and checkpoint dir, no metrics port. Runs until SIGTERM, then stops them all.
 * @module
 */
import { intOption, parseCommand, runMain } from "../core/cli.ts";
import { setupLogging } from "../core/log.ts";
import { Agent } from "../agent/agent.ts";
import { resolveSettings } from "../agent/settings.ts";

const spec = {
  name: "deno run -A bench/fleet.ts",
  summary: "Run N agents in one process (used by deno task bench).",
  usage: "--agents N --prefix PREFIX --dir DIR",
  options: {
    agents: { type: "string", arg: "N", description: "How many agents.", default: "100" },
    prefix: { type: "string", arg: "PREFIX", description: "Config plane prefix in etcd." },
    dir: { type: "string", arg: "DIR", description: "Where their checkpoint dirs go." },
  },
} as const;

async function main(): Promise<number> {
  const { values } = parseCommand(spec, Deno.args);
  const count = intOption(values.agents, "agents", 100);
  const prefix = values.prefix as string;
  const dir = values.dir as string;
  if (!prefix || !dir) throw new Error("--prefix and --dir are required");
  setupLogging();
  const agents: Agent[] = [];
  for (let i = 0; i < count; i++) {
    const id = `fleet-${String(i).padStart(3, "0")}`;
    agents.push(
      new Agent(resolveSettings(
        {
          "agent-id": id,
          prefix,
          "checkpoint-dir": `${dir}/${id}`,
          "metrics-addr": "",
          "shutdown-timeout-ms": "5000",
        },
        Deno.env.toObject(),
        {},
        id,
      )),
    );
  }
  // A few at a time: a hundred simultaneous etcd connects would only queue behind each other.
  for (let i = 0; i < agents.length; i += 10) {
    await Promise.all(agents.slice(i, i + 10).map((a) => a.start()));
  }
  console.log(`${count} agents started`);
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", () => stop.resolve());
  Deno.addSignalListener("SIGINT", () => stop.resolve());
  await stop.promise;
  await Promise.all(agents.map((a) => a.stop()));
  return 0;
}

if (import.meta.main) await runMain(main);
