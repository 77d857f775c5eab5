/**
 * `deno task stack:up | stack:down | stack:status`: the local etcd, Kafka and OpenSearch without
 * Docker, as the plain stack, the secure one (`--secure`) or the cluster (`--cluster`). The work
 * is done by stack/stack.ts; this file only parses flags and prints.
 * @module
 */
import { type CommandSpec, parseCommand, runMain } from "../core/cli.ts";
import { ExitCode, InvalidInputError } from "../core/errors.ts";
import { REPO_ROOT, SERVICE_NAMES, type ServiceName } from "./service.ts";
import { ensureStack, OVERRIDE_VARIABLE, stackStatus, stopStack } from "./stack.ts";
import { SECURE_STACK_DIR, type VariantName } from "./variants.ts";
import { secureClientEnv } from "./secure/credentials.ts";
import { clusterClientEnv } from "./cluster/topology.ts";
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

const CLUSTER_EPILOG = `With --cluster: the cluster variant instead, beside the others and on its
own ports: etcd members etcd-1..3 (http://127.0.0.1:12379, :12381, :12383; peers one above),
Kafka voters kafka-controller-1..3 (127.0.0.1:19093, :19095, :19097) and brokers kafka-1..3
(127.0.0.1:19092, :19094, :19096; replication factor 3, min.insync.replicas 2), OpenSearch nodes
opensearch-1..2 (http://127.0.0.1:19200, :19201; transport 19300, 19301; one replica per shard).
--only SERVICE acts on every member of a service. Data and logs are under .stack/cluster/.`;

const secureOption = {
  type: "boolean",
  description: "Act on the secure variant (TLS, SASL/SCRAM, auth; other ports).",
} as const;

const clusterOption = {
  type: "boolean",
  description: "Act on the cluster variant (3 etcd, 3+3 Kafka, 2 OpenSearch; other ports).",
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
    usage: "[--secure | --cluster] [--only SERVICE]...",
    options: { only: onlyOption, secure: secureOption, cluster: clusterOption },
    epilog:
      `${SERVICES_EPILOG}\n\n${SECURE_EPILOG}\nstack:up --secure prints the variables that point sluice at it.\n\n${CLUSTER_EPILOG}\nstack:up --cluster prints them too.\n\nExit codes: 0 all answer, 1 a service did not come up, 2 bad flag,\n4 an external service does not answer.`,
  },
  down: {
    name: "deno task stack:down",
    summary:
      "Stop the services that stack:up started (SIGTERM, then SIGKILL after a grace period).",
    usage: "[--secure | --cluster] [--only SERVICE]...",
    options: { only: onlyOption, secure: secureOption, cluster: clusterOption },
    epilog:
      `${SERVICES_EPILOG}\nExternal services are never stopped.\n\n${SECURE_EPILOG}\n\n${CLUSTER_EPILOG}`,
  },
  status: {
    name: "deno task stack:status",
    summary: "Show each service's state, version, address, pid and log file.",
    usage: "[--secure | --cluster] [--json] [--only SERVICE]...",
    options: {
      json: {
        type: "boolean",
        description: "Print JSON (one array of services) instead of a table.",
      },
      only: onlyOption,
      secure: secureOption,
      cluster: clusterOption,
    },
    epilog:
      `${SERVICES_EPILOG}\n\n${SECURE_EPILOG}\n\n${CLUSTER_EPILOG}\n\nExit codes: 0 every service (member) answers, 4 at least one does not.`,
  },
};

/** The services the cluster variant runs (no Elasticsearch: docs/stack.md says why). */
const CLUSTER_SERVICES: readonly ServiceName[] = ["etcd", "kafka", "opensearch"];

function selectedServices(value: unknown, variant: VariantName): ServiceName[] {
  const names = (value as string[] | undefined)?.flatMap((v) => v.split(",")).map((v) => v.trim());
  const offered = variant === "cluster" ? CLUSTER_SERVICES : SERVICE_NAMES;
  if (!names || names.length === 0) return [...offered];
  for (const name of names) {
    if (!offered.includes(name as ServiceName)) {
      throw new InvalidInputError(
        `unknown service '${name}'${variant === "cluster" ? " in the cluster" : ""}: use one of ${
          offered.join(", ")
        }.`,
      );
    }
  }
  return offered.filter((name) => names.includes(name));
}

function variantOf(values: Record<string, unknown>): VariantName {
  if (values.secure && values.cluster) {
    throw new InvalidInputError("--secure and --cluster are two variants: give one of them.");
  }
  return values.cluster ? "cluster" : values.secure ? "secure" : "plain";
}

async function up(args: string[]): Promise<number> {
  const { values } = parseCommand(SPECS.up, args);
  const variant = variantOf(values);
  const services = selectedServices(values.only, variant);
  const started = Date.now();
  const handle = await ensureStack({ variant, services });
  const which = variant === "plain" ? "" : ` (${variant})`;
  console.error(
    handle.started.length > 0
      ? `started: ${handle.started.join(", ")}${which} in ${
        ((Date.now() - started) / 1000).toFixed(0)
      } s`
      : `nothing to start: every${which ? ` ${variant}` : ""} service already answers`,
  );
  console.log(formatStatusTable(handle.statuses, REPO_ROOT));
  if (variant === "cluster") {
    console.log("\n# Point sluice at the cluster (every member of each service):");
    for (const [name, value] of Object.entries(clusterClientEnv())) {
      console.log(`export ${name}=${value}`);
    }
  }
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
  const variant = variantOf(values);
  const services = selectedServices(values.only, variant);
  const stopped = await stopStack(services, { variant });
  const statuses = await stackStatus({ variant, services });
  const external = statuses.filter((s) => s.state === "external").map((s) => s.name);
  const which = variant === "plain" ? "" : ` (${variant})`;
  console.error(stopped.length > 0 ? `stopped: ${stopped.join(", ")}${which}` : "nothing to stop");
  if (external.length > 0) {
    console.error(`left alone (not started by stack:up): ${external.join(", ")}`);
  }
  console.log(formatStatusTable(statuses, REPO_ROOT));
  return ExitCode.Ok;
}

async function status(args: string[]): Promise<number> {
  const { values } = parseCommand(SPECS.status, args);
  const variant = variantOf(values);
  const services = selectedServices(values.only, variant);
  const statuses = await stackStatus({ variant, services });
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
