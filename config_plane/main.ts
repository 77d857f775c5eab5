/**
 * `deno task config:<sub>`: apply a desired-state file, roll back, read history, show and diff
 * revisions, validate a file, import logagent configs, and see whether the fleet converged.
 * Exit codes: 0 ok, 2 invalid input, 3 conflict (the head moved), 4 etcd unreachable.
 * @module
 */
import { stringify as toYaml } from "yaml";
import {
  type CommandSpec,
  intOption,
  invokedAs,
  type OptionSpec,
  parseCommand,
  runMain,
  versionText,
} from "../core/cli.ts";
import { sleep } from "../core/backoff.ts";
import { InvalidInputError } from "../core/errors.ts";
import { setupLogging } from "../core/log.ts";
import {
  commitChange,
  planApply,
  planImport,
  type PlannedChange,
  planRollback,
  type RevisionSummary,
  summarizeRevision,
} from "./change.ts";
import { LOGAGENT_FORMATS, type LogagentFormat } from "./import_logagent.ts";
import { logagentOpsFromText, readLogagentOps } from "./logagent_values.ts";
import { formatPlan, planChanges } from "./plan.ts";
import { type ConfigPlane, openConfigPlane } from "./plane.ts";
import { checkStateText, loadStateFile, readInputFile } from "./state_file.ts";
import type { Op } from "./types.ts";

const EXIT_CODES = `Exit codes:
  0  done (or nothing to change)
  2  invalid input: the message names the file, the field and what is wrong
  3  conflict: someone appended first; the message names the new head, re-run to re-plan
  4  etcd unreachable: start it ('deno task stack:up') or set SLUICE_ETCD_ENDPOINTS / --endpoints`;

const CONNECTION: Record<string, OptionSpec> = {
  endpoints: {
    type: "string",
    arg: "URLS",
    description:
      "etcd client URLs, comma separated (default: $SLUICE_ETCD_ENDPOINTS or http://127.0.0.1:2379)",
  },
  prefix: {
    type: "string",
    arg: "PREFIX",
    description: "Key prefix in etcd (default: $SLUICE_ETCD_PREFIX or /sluice)",
  },
};
const JSON_OPTION: OptionSpec = {
  type: "boolean",
  description: "Print the result as JSON (data on stdout)",
};
const AUTHOR: OptionSpec = {
  type: "string",
  arg: "NAME",
  description: "Who makes the change (default: $SLUICE_AUTHOR or $USER@hostname)",
};
const MESSAGE: OptionSpec = {
  type: "string",
  short: "m",
  arg: "WHY",
  description: "Why the change is made (kept in the history; required)",
};
const DRY_RUN: OptionSpec = { type: "boolean", description: "Print the plan, append nothing" };
const BASE: OptionSpec = {
  type: "string",
  arg: "REV",
  description:
    "Plan against this revision; refused with exit 3 if the head is no longer REV (default: the head)",
};

const COMMANDS: Record<string, CommandSpec> = {
  apply: {
    name: "deno task config:apply",
    summary: "make FILE (YAML or JSON, the whole desired state) the new config revision",
    usage: "FILE -m WHY [--author NAME] [--dry-run] [--json]",
    options: {
      message: MESSAGE,
      author: AUTHOR,
      "dry-run": DRY_RUN,
      base: BASE,
      id: {
        type: "string",
        arg: "KEY",
        description: "Idempotency key (default: derived from base, change, author and message)",
      },
      json: JSON_OPTION,
      ...CONNECTION,
    },
    epilog: `Prints the plan (sources added, removed, changed field by field), appends one event and
prints the new revision. When FILE already matches the head, says so and appends nothing.

Example:
  deno task config:apply examples/fleet.yaml -m "collect nginx access logs"

${EXIT_CODES}`,
  },
  rollback: {
    name: "deno task config:rollback",
    summary: "restore the state of revision REV by appending a new revision (history is kept)",
    usage: "REV -m WHY [--author NAME] [--dry-run] [--json]",
    options: {
      message: MESSAGE,
      author: AUTHOR,
      "dry-run": DRY_RUN,
      base: BASE,
      json: JSON_OPTION,
      ...CONNECTION,
    },
    epilog:
      `Example:\n  deno task config:rollback 3 -m "the new multiline pattern splits stack traces"\n\n${EXIT_CODES}`,
  },
  history: {
    name: "deno task config:history",
    summary: "list config revisions, newest first: who, when, why, what changed",
    usage: "[--limit N] [--json]",
    options: {
      limit: { type: "string", arg: "N", description: "How many revisions", default: "20" },
      json: JSON_OPTION,
      ...CONNECTION,
    },
    epilog: EXIT_CODES,
  },
  show: {
    name: "deno task config:show",
    summary: "print the desired state at revision REV (default: the head) as YAML",
    usage: "[REV] [--json]",
    options: { json: JSON_OPTION, ...CONNECTION },
    epilog: EXIT_CODES,
  },
  diff: {
    name: "deno task config:diff",
    summary: "what changes from revision REV_A to revision REV_B",
    usage: "REV_A REV_B [--json]",
    options: { json: JSON_OPTION, ...CONNECTION },
    epilog: `Example:\n  deno task config:diff 3 5\n\n${EXIT_CODES}`,
  },
  status: {
    name: "deno task config:status",
    summary:
      "every live agent (host, labels, revision it runs, per-source state, last error) and whether the fleet converged on the head",
    usage: "[--wait SECONDS] [--json]",
    options: {
      wait: {
        type: "string",
        arg: "SECONDS",
        description: "Wait up to SECONDS for every live agent to converge on the head",
      },
      json: JSON_OPTION,
      ...CONNECTION,
    },
    epilog:
      `Example (after an apply, in a deploy script):\n  deno task config:status --wait 60\n\n` +
      `Exit codes:
  0  every live agent runs the head revision with no source in error (or no agent is live)
  1  the fleet has not converged (after --wait: not within SECONDS)
  2  invalid input
  4  etcd unreachable: start it ('deno task stack:up') or set SLUICE_ETCD_ENDPOINTS / --endpoints`,
  },
  validate: {
    name: "deno task config:validate",
    summary: "check a desired-state FILE (YAML or JSON) without touching etcd",
    usage: "FILE [--json]",
    options: { json: JSON_OPTION },
    epilog:
      `Exit codes:\n  0  FILE is valid\n  2  FILE is invalid: every problem is listed with its field path`,
  },
  import: {
    name: "deno task config:import",
    summary: "turn a Go logagent configuration (etcd key or file) into a config revision",
    usage:
      "--format logagent-host-key|logagent-list KEY_OR_FILE [-m WHY] [--host IP] [--dry-run] [--json]",
    options: {
      format: {
        type: "string",
        arg: "FORMAT",
        description: `One of: ${LOGAGENT_FORMATS.join(", ")}`,
      },
      host: {
        type: "string",
        arg: "IP",
        description:
          "logagent-host-key: the host the entries belong to (default: the <ip> of /logagent/<ip>/logconfig)",
      },
      message: { ...MESSAGE, description: "Why (default: 'import <format> from <KEY_OR_FILE>')" },
      author: AUTHOR,
      "dry-run": DRY_RUN,
      json: JSON_OPTION,
      ...CONNECTION,
    },
    epilog: `Formats:
  logagent-host-key  a JSON list of {service, log_path, topic, send_rate} under /logagent/<ip>/logconfig;
                     KEY may also be a prefix such as /logagent to import every host below it
  logagent-list      a JSON list of {path, topic} under one key
KEY_OR_FILE is read as a file when one exists at that path, else as an etcd key (outside the prefix).
Imported sources are added to (or replace same-id sources of) the current state.

Example:
  deno task config:import --format logagent-host-key /logagent/10.0.0.5/logconfig

${EXIT_CODES}`,
  },
};

const USAGE = `sluice config plane: versioned config in etcd.

Commands (each with --help):
${commandList()}

${EXIT_CODES}`;

/** One line per command: how to run it (core/cli.ts `invokedAs`) and what it does. */
function commandList(): string {
  const specs = Object.values(COMMANDS);
  const names = specs.map((spec) => invokedAs(spec.name));
  const width = Math.max(...names.map((name) => name.length));
  return specs.map((spec, i) => `  ${names[i].padEnd(width)}  ${spec.summary}`).join("\n");
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function open(values: Record<string, unknown>): ConfigPlane {
  const endpoints = str(values.endpoints)?.split(",").map((s) => s.trim()).filter(Boolean);
  return openConfigPlane({ endpoints, prefix: str(values.prefix), callTimeoutMs: 3_000 });
}

/**
 * The author of a change when --author is not given: $SLUICE_AUTHOR, or $USER@hostname.
 *
 * @example
 * ```ts
 * import { defaultAuthor } from "./main.ts";
 * defaultAuthor({ SLUICE_AUTHOR: "ann" }); // "ann"
 * ```
 */
export function defaultAuthor(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): string {
  if (env.SLUICE_AUTHOR) return env.SLUICE_AUTHOR;
  let host = "localhost";
  try {
    host = Deno.hostname();
  } catch { /* no permission: keep localhost */ }
  return `${env.USER ?? env.USERNAME ?? "unknown"}@${host}`;
}

function requireMessage(values: Record<string, unknown>, command: string): string {
  const message = str(values.message)?.trim();
  if (!message) {
    throw new InvalidInputError(
      `${command} needs -m WHY: say why the change is made; it is kept in the history with your name.`,
    );
  }
  return message;
}

function revision(text: string | undefined, what: string, command: string): number {
  if (text === undefined) {
    throw new InvalidInputError(`${command} needs ${what}. Run '${command} --help'.`);
  }
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    throw new InvalidInputError(
      `${what} must be a revision number (a whole number ≥ 0), got '${text}'.`,
    );
  }
  return n;
}

function print(json: boolean, data: unknown, text: string): void {
  console.log(json ? JSON.stringify(data, null, 2) : text);
}

/** The revision of `--base`, or undefined (plan against the head). */
function baseOption(values: Record<string, unknown>): number | undefined {
  return values.base === undefined ? undefined : revision(str(values.base), "--base", "--base");
}

/**
 * Prints the plan of `change`, then commits it (change.ts) unless it is a dry run, and says what
 * happened. The plan, the idempotency key and the conflict are the console's too.
 */
async function commitPlanned(
  plane: ConfigPlane,
  change: PlannedChange,
  values: Record<string, unknown>,
  message: string,
  id?: string,
): Promise<number> {
  const json = values.json === true;
  const { base, plan } = change;
  const nothing = `\nNothing to change: revision ${base} already is this state. Nothing appended.`;
  if (!json) console.log(formatPlan(plan));
  if (values["dry-run"] === true) {
    print(
      json,
      { base, plan, appended: null },
      plan.empty ? nothing : "\nDry run: nothing appended.",
    );
    return 0;
  }
  const author = str(values.author) ?? defaultAuthor();
  const { appended } = await commitChange(plane, change, { author, message, id });
  if (!appended) {
    print(json, { base, plan, appended: null }, nothing);
    return 0;
  }
  const { event, created } = appended;
  print(
    json,
    { base, plan, appended: event, created },
    created
      ? `\nApplied as revision ${event.seq} (planned on ${base}) by ${event.author}.`
      : `\nAlready applied as revision ${event.seq} (same idempotency key); nothing new appended.`,
  );
  return 0;
}

async function apply(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(COMMANDS.apply, args);
  const file = positionals[0];
  if (!file) {
    throw new InvalidInputError(
      "config:apply needs FILE, a YAML or JSON desired state. Run 'deno task config:apply --help'.",
    );
  }
  const message = requireMessage(values, "config:apply");
  const desired = await loadStateFile(file); // invalid files are refused before etcd is touched
  const plane = open(values);
  try {
    const change = await planApply(plane, desired, baseOption(values));
    return await commitPlanned(plane, change, values, message, str(values.id));
  } finally {
    plane.close();
  }
}

async function rollback(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(COMMANDS.rollback, args);
  const target = revision(positionals[0], "REV", "deno task config:rollback");
  const message = requireMessage(values, "config:rollback");
  const plane = open(values);
  try {
    const change = await planRollback(plane, target, baseOption(values));
    if (!values.json) console.log(`Rollback to revision ${target}:`);
    return await commitPlanned(plane, change, values, message);
  } finally {
    plane.close();
  }
}

/** The CHANGE column: the summary every history shows, marked as an import, cut to fit. */
function changeColumn(row: RevisionSummary): string {
  if (row.refused) return row.change;
  const short = row.change.length > 40 ? `${row.change.slice(0, 37)}...` : row.change;
  return row.import_of ? `import: ${short}` : short;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  "))
    .join("\n");
}

async function history(args: string[]): Promise<number> {
  const { values } = parseCommand(COMMANDS.history, args);
  const limit = intOption(values.limit, "limit", 20);
  const plane = open(values);
  try {
    const events = await plane.history({ limit });
    if (values.json) return print(true, events, ""), 0;
    if (events.length === 0) {
      console.log("No revisions yet. Apply one with: deno task config:apply FILE -m WHY");
      return 0;
    }
    const rows = [["REV", "WHEN (UTC)", "AUTHOR", "CHANGE", "WHY"]];
    for (const row of events.map(summarizeRevision)) {
      rows.push([
        String(row.seq),
        row.at.replace("T", " ").slice(0, 19),
        row.author,
        changeColumn(row),
        row.message,
      ]);
    }
    console.log(table(rows));
    return 0;
  } finally {
    plane.close();
  }
}

async function show(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(COMMANDS.show, args);
  const plane = open(values);
  try {
    const head = await plane.head();
    const seq = positionals[0] === undefined
      ? head
      : revision(positionals[0], "REV", "deno task config:show");
    const state = await plane.stateAt(seq, head);
    print(
      values.json === true,
      { seq, head, state },
      `# revision ${seq} (head ${head})\n${toYaml(state).trimEnd()}`,
    );
    return 0;
  } finally {
    plane.close();
  }
}

async function diff(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(COMMANDS.diff, args);
  const a = revision(positionals[0], "REV_A", "deno task config:diff");
  const b = revision(positionals[1], "REV_B", "deno task config:diff");
  const plane = open(values);
  try {
    const head = await plane.head();
    const plan = planChanges(await plane.stateAt(a, head), await plane.stateAt(b, head));
    print(
      values.json === true,
      { from: a, to: b, plan },
      `From revision ${a} to ${b}:\n${formatPlan(plan)}`,
    );
    return 0;
  } finally {
    plane.close();
  }
}

async function status(args: string[]): Promise<number> {
  const { values } = parseCommand(COMMANDS.status, args);
  const waitMs = intOption(values.wait, "--wait", 0) * 1000;
  const plane = open(values);
  try {
    const deadline = Date.now() + waitMs;
    let fleet = await plane.fleetStatus();
    while (!fleet.converged && Date.now() < deadline) {
      await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
      fleet = await plane.fleetStatus();
    }
    const { head, agents } = fleet;
    const code = fleet.converged ? 0 : 1;
    if (values.json) return print(true, fleet, ""), code;
    console.log(`Config head: revision ${head}`);
    if (agents.length === 0) {
      console.log("No live agents. Start one with: deno task agent");
      return 0;
    }
    for (const row of agents) {
      const a = row.agent;
      const labels = Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(",") || "-";
      console.log(
        `\n${a.agent_id}  host ${a.host}  labels ${labels}  runs revision ${a.seq}  ` +
          (row.converged ? "converged" : `NOT converged: ${row.reasons.join("; ")}`),
      );
      for (const [id, s] of Object.entries(a.sources).sort(([x], [y]) => (x < y ? -1 : 1))) {
        const lag = s.lag_bytes !== undefined ? `, lag ${s.lag_bytes} B` : "";
        console.log(
          `    ${id}: ${s.state} (${s.files} file${s.files === 1 ? "" : "s"}${lag})${
            s.last_error ? `  error: ${s.last_error}` : ""
          }`,
        );
      }
      for (const id of row.missing) console.log(`    ${id}: not reported`);
      if (a.last_error) console.log(`    last error: ${a.last_error}`);
      if (a.rejected) console.log(`    refused revision ${a.rejected.seq}: ${a.rejected.error}`);
      console.log(`    heartbeat ${a.heartbeat_at}, version ${a.version}`);
    }
    const behind = agents.filter((r) => !r.converged).length;
    console.log(
      fleet.converged
        ? `\nFleet converged on revision ${head} (${agents.length} agent${
          agents.length === 1 ? "" : "s"
        }).`
        : `\nFleet NOT converged on revision ${head}: ${behind} of ${agents.length} agents differ` +
          (waitMs > 0 ? ` after waiting ${waitMs / 1000} s.` : "."),
    );
    return code;
  } finally {
    plane.close();
  }
}

async function validate(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(COMMANDS.validate, args);
  const file = positionals[0];
  if (!file) {
    throw new InvalidInputError(
      "config:validate needs FILE. Run 'deno task config:validate --help'.",
    );
  }
  const result = checkStateText(await readInputFile(file), file);
  if (values.json) {
    console.log(
      JSON.stringify(
        result.ok
          ? { ok: true, sources: result.state.sources.length }
          : { ok: false, errors: result.errors },
        null,
        2,
      ),
    );
    return result.ok ? 0 : 2;
  }
  if (!result.ok) {
    throw new InvalidInputError(`${file} is not a valid desired state:\n${result.message}`);
  }
  console.log(
    `${file} is valid: ${result.state.sources.length} source(s)${
      result.state.defaults ? ", with defaults" : ""
    }.`,
  );
  return 0;
}

async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(COMMANDS.import, args);
  const format = str(values.format) as LogagentFormat | undefined;
  if (!format || !LOGAGENT_FORMATS.includes(format)) {
    throw new InvalidInputError(
      `config:import needs --format ${LOGAGENT_FORMATS.join(" or ")}${
        format ? `, got '${format}'` : ""
      }.`,
    );
  }
  const source = positionals[0];
  if (!source) {
    throw new InvalidInputError(
      "config:import needs KEY_OR_FILE. Run 'deno task config:import --help'.",
    );
  }
  const plane = open(values);
  try {
    const ops = await importOps(plane, format, source, str(values.host));
    const change = await planImport(plane, ops, `${format}:${source}`);
    const message = str(values.message)?.trim() || `import ${format} from ${source}`;
    return await commitPlanned(plane, change, values, message);
  } finally {
    plane.close();
  }
}

/** Reads KEY_OR_FILE (a file if one exists, else an etcd key or key prefix) into ops. */
async function importOps(
  plane: ConfigPlane,
  format: LogagentFormat,
  from: string,
  host?: string,
): Promise<Op[]> {
  const isFile = await Deno.stat(from).then((s) => s.isFile, () => false);
  if (isFile) return logagentOpsFromText(format, await readInputFile(from), { origin: from, host });
  const ops = await readLogagentOps(plane, format, from, host);
  if (ops) return ops;
  throw new InvalidInputError(
    `${from}: neither a file nor an etcd key with a value${
      format === "logagent-host-key" ? " (nor a prefix with /<ip>/logconfig keys)" : ""
    }. ` +
      "Check the path, or the key with 'etcdctl get --prefix /logagent'.",
  );
}

const HANDLERS: Record<string, (args: string[]) => Promise<number>> = {
  apply,
  rollback,
  history,
  show,
  diff,
  status,
  validate,
  import: importCommand,
};

if (import.meta.main) {
  const env = Deno.env.toObject();
  try {
    setupLogging(env.SLUICE_LOG_LEVEL ? {} : { level: "warning" });
  } catch {
    // core/log.ts (foundation) throws today: configureSync() refuses its stream sink. Logs are
    // only warnings here; the command's own output and errors do not depend on them.
  }
  const [sub, ...rest] = Deno.args;
  runMain(async () => {
    if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
      console.log(USAGE);
      return 0;
    }
    if (sub === "--version") {
      console.log(versionText());
      return 0;
    }
    const handler = HANDLERS[sub];
    if (!handler) {
      throw new InvalidInputError(
        `unknown command '${sub}'; use one of: ${Object.keys(HANDLERS).join(", ")}.\n\n${USAGE}`,
      );
    }
    return await handler(rest);
  });
}
