/**
 * `deno task stack:up | stack:down | stack:status`: the local etcd, Kafka and OpenSearch without
 * Docker. The work is done by stack/stack.ts; this file only parses flags and prints.
 * @module
 */
import { type CommandSpec, parseCommand, runMain } from "../core/cli.ts";
import { ExitCode, InvalidInputError } from "../core/errors.ts";
import { REPO_ROOT, SERVICE_NAMES, type ServiceName } from "./service.ts";
import { ensureStack, OVERRIDE_VARIABLE, stackStatus, stopStack } from "./stack.ts";
import { SECURE_STACK_DIR } from "./variants.ts";
import { secureClientEnv } from "./secure/credentials.ts";
import { formatProblems, formatStatusTable } from "./table.ts";

const SERVICES_EPILOG = `Services: etcd (127.0.0.1:2379), kafka (127.0.0.1:9092, controller 9093),
opensearch (127.0.0.1:9200), elasticsearch (127.0.0.1:9220, transport 9320; runs as the system
user sluice-es, made when missing). Data, logs and pid files are under .stack/.
A service whose address is moved elsewhere with ${OVERRIDE_VARIABLE.etcd},
${OVERRIDE_VARIABLE.kafka} or ${OVERRIDE_VARIABLE.opensearch} is "external": only checked
(${OVERRIDE_VARIABLE.opensearch} moves the engine it names; an address elsewhere moves OpenSearch).`;

const SECURE_EPILOG = `With --secure: the secure variant instead, beside the plaintext stack and on
its own ports: etcd https://127.0.0.1:2479 (TLS, user/password auth), Kafka 127.0.0.1:9192
(SASL_SSL, SCRAM-SHA-512), OpenSearch https://127.0.0.1:9201 and Elasticsearch
https://127.0.0.1:9222 (TLS, basic auth). Its CA, generated
passwords, data and logs are under .stack/secure/; see docs/security.md.`;

const secureOption = {
  type: "boolean",
  description: "Act on the secure variant (TLS, SASL/SCRAM, auth; other ports).",
} as const;

const onlyOption = {
  type: "string",
  multiple: true,
  arg: "SERVICE",
  description: "Act on this service only (etcd, kafka, opensearch, elasticsearch); repeatable.",
} as const;

const SPECS: Record<string, CommandSpec> = {
  up: {
    name: "deno task stack:up",
    summary:
      "Start the local stack (what is not running yet) and wait until every service answers.",
    usage: "[--secure] [--only SERVICE]...",
    options: { only: onlyOption, secure: secureOption },
    epilog:
      `${SERVICES_EPILOG}\n\n${SECURE_EPILOG}\nstack:up --secure prints the variables that point sluice at it.\n\nExit codes: 0 all answer, 1 a service did not come up, 2 bad flag,\n4 an external service does not answer.`,
  },
  down: {
    name: "deno task stack:down",
    summary:
      "Stop the services that stack:up started (SIGTERM, then SIGKILL after a grace period).",
    usage: "[--secure] [--only SERVICE]...",
    options: { only: onlyOption, secure: secureOption },
    epilog: `${SERVICES_EPILOG}\nExternal services are never stopped.\n\n${SECURE_EPILOG}`,
  },
  status: {
    name: "deno task stack:status",
    summary: "Show each service's state, version, address, pid and log file.",
    usage: "[--secure] [--json] [--only SERVICE]...",
    options: {
      json: {
        type: "boolean",
        description: "Print JSON (one array of services) instead of a table.",
      },
      only: onlyOption,
      secure: secureOption,
    },
    epilog:
      `${SERVICES_EPILOG}\n\n${SECURE_EPILOG}\n\nExit codes: 0 every service answers, 4 at least one does not.`,
  },
};

function selectedServices(value: unknown): ServiceName[] {
  const names = (value as string[] | undefined)?.flatMap((v) => v.split(",")).map((v) => v.trim());
  if (!names || names.length === 0) return [...SERVICE_NAMES];
  for (const name of names) {
    if (!SERVICE_NAMES.includes(name as ServiceName)) {
      throw new InvalidInputError(
        `unknown service '${name}': use one of ${SERVICE_NAMES.join(", ")}.`,
      );
    }
  }
  return SERVICE_NAMES.filter((name) => names.includes(name));
}

async function up(args: string[]): Promise<number> {
  const { values } = parseCommand(SPECS.up, args);
  const services = selectedServices(values.only);
  const variant = values.secure ? "secure" : "plain";
  const handle = await ensureStack({ variant, services });
  const which = values.secure ? " (secure)" : "";
  console.error(
    handle.started.length > 0
      ? `started: ${handle.started.join(", ")}${which}`
      : `nothing to start: every${which ? " secure" : ""} service already answers`,
  );
  console.log(formatStatusTable(handle.statuses, REPO_ROOT));
  if (values.secure) {
    console.log("\n# Point sluice at the secure stack (passwords are read from the files):");
    const openSearch = secureClientEnv(SECURE_STACK_DIR);
    for (const [name, value] of Object.entries(openSearch)) {
      console.log(`export ${name}=${value}`);
    }
    console.log("# or the secure Elasticsearch as the search engine:");
    for (
      const [name, value] of Object.entries(secureClientEnv(SECURE_STACK_DIR, "elasticsearch"))
    ) {
      if (openSearch[name] !== value) console.log(`export ${name}=${value}`);
    }
  }
  return ExitCode.Ok;
}

async function down(args: string[]): Promise<number> {
  const { values } = parseCommand(SPECS.down, args);
  const services = selectedServices(values.only);
  const variant = values.secure ? "secure" : "plain";
  const stopped = await stopStack(services, { variant });
  const statuses = await stackStatus({ variant, services });
  const external = statuses.filter((s) => s.state === "external").map((s) => s.name);
  const which = values.secure ? " (secure)" : "";
  console.error(stopped.length > 0 ? `stopped: ${stopped.join(", ")}${which}` : "nothing to stop");
  if (external.length > 0) {
    console.error(`left alone (not started by stack:up): ${external.join(", ")}`);
  }
  console.log(formatStatusTable(statuses, REPO_ROOT));
  return ExitCode.Ok;
}

async function status(args: string[]): Promise<number> {
  const { values } = parseCommand(SPECS.status, args);
  const services = selectedServices(values.only);
  const statuses = await stackStatus({ variant: values.secure ? "secure" : "plain", services });
  if (values.json) {
    console.log(JSON.stringify(statuses, null, 2));
  } else {
    console.log(formatStatusTable(statuses, REPO_ROOT));
    for (const line of formatProblems(statuses)) console.error(line);
  }
  return statuses.every((s) => s.answering) ? ExitCode.Ok : ExitCode.Unreachable;
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = { up, down, status };

if (import.meta.main) {
  runMain(() => {
    const [command, ...rest] = Deno.args;
    const run = COMMANDS[command];
    if (!run) {
      throw new InvalidInputError(
        `unknown command '${
          command ?? ""
        }': use up, down or status (e.g. deno task stack:up --help).`,
      );
    }
    return run(rest);
  });
}
