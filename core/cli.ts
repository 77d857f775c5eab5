/**
 * The one command-line parser of sluice (on `node:util` parseArgs, which Deno ships) plus the
 * `--help` text and the top-level error handler every entry point uses.
 * @module
 */
import { parseArgs } from "node:util";
import { ExitCode, InvalidInputError, SluiceError } from "./errors.ts";
import { scrubSecrets } from "./secret.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Shown in --help. */
  description: string;
  /** Placeholder in --help, e.g. "FILE". */
  arg?: string;
  default?: string | boolean | string[];
}

export interface CommandSpec {
  /** How the command is invoked, e.g. "deno task config:apply". */
  name: string;
  /** One line on what it does. */
  summary: string;
  /** Usage line after the name, e.g. "FILE -m WHY [--dry-run]". */
  usage?: string;
  options: Record<string, OptionSpec>;
  /** Free text after the options (exit codes, examples). */
  epilog?: string;
}

export interface ParsedCommand {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * How the user invoked a command named `name` ("deno task config:apply"): the same, or, run from
 * a package's launcher (packaging/commands.ts sets SLUICE_COMMAND to its own name), that name
 * with the task's subcommand ("sluice-config apply").
 *
 * @example
 * ```ts
 * import { invokedAs } from "./cli.ts";
 * invokedAs("deno task config:apply", "sluice-config"); // "sluice-config apply"
 * invokedAs("deno task agent", "sluice-agent"); // "sluice-agent"
 * invokedAs("deno task agent", undefined); // "deno task agent"
 * ```
 */
export function invokedAs(
  name: string,
  command: string | undefined = Deno.env.get("SLUICE_COMMAND"),
): string {
  const task = /^deno task ([\w-]+)(?::([\w-]+))?$/.exec(name);
  if (!command || !task) return name;
  return task[2] ? `${command} ${task[2]}` : command;
}

/** The --help text of a command. */
export function helpText(spec: CommandSpec): string {
  const name = invokedAs(spec.name);
  const lines = [
    `${name}: ${spec.summary}`,
    "",
    `Usage: ${name} ${spec.usage ?? "[options]"}`,
  ];
  const entries = Object.entries({
    ...spec.options,
    help: { type: "boolean", short: "h", description: "Show this help and exit." } as OptionSpec,
    version: { type: "boolean", description: "Show the version and exit." } as OptionSpec,
  });
  lines.push("", "Options:");
  const left = entries.map(([name, o]) =>
    `${o.short ? `-${o.short}, ` : "    "}--${name}${
      o.type === "string" ? ` ${o.arg ?? "VALUE"}` : ""
    }`
  );
  const width = Math.max(...left.map((l) => l.length)) + 2;
  entries.forEach(([, o], i) => {
    const dflt = o.default !== undefined && o.default !== false ? ` (default: ${o.default})` : "";
    lines.push(`  ${left[i].padEnd(width)}${o.description}${dflt}`);
  });
  if (spec.epilog) lines.push("", spec.epilog.trimEnd());
  return lines.join("\n");
}

/**
 * Parses `args` against `spec`. Prints help and exits 0 on `--help`, the version and exits 0 on
 * `--version`; throws InvalidInputError (exit code 2) on an unknown or malformed option.
 *
 * @example
 * ```ts
 * import { parseCommand } from "./cli.ts";
 * const { values, positionals } = parseCommand({
 *   name: "demo",
 *   summary: "example",
 *   options: { limit: { type: "string", description: "How many" } },
 * }, ["--limit", "5", "file.yaml"]);
 * // values.limit === "5", positionals[0] === "file.yaml"
 * ```
 */
export function parseCommand(spec: CommandSpec, args: string[]): ParsedCommand {
  const options: Record<
    string,
    {
      type: "string" | "boolean";
      short?: string;
      multiple?: boolean;
      default?: string | boolean | string[];
    }
  > = {
    help: { type: "boolean", short: "h" },
    version: { type: "boolean" },
  };
  for (const [name, o] of Object.entries(spec.options)) {
    // node:util refuses keys that are present but undefined, so copy only what is set.
    const option: (typeof options)[string] = { type: o.type };
    if (o.short !== undefined) option.short = o.short;
    if (o.multiple !== undefined) option.multiple = o.multiple;
    if (o.default !== undefined) option.default = o.default;
    options[name] = option;
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new InvalidInputError(
      `${(error as Error).message}\nRun '${invokedAs(spec.name)} --help' for usage.`,
    );
  }
  if (parsed.values.help) {
    console.log(helpText(spec));
    Deno.exit(ExitCode.Ok);
  }
  if (parsed.values.version) {
    console.log(versionText());
    Deno.exit(ExitCode.Ok);
  }
  return { values: parsed.values as ParsedCommand["values"], positionals: parsed.positionals };
}

/** The line `--version` prints, e.g. `sluice 0.1.0+git412.1a2b3c4d5e6f (deno 2.9.6)`. */
export function versionText(): string {
  return `sluice ${sluiceVersion()} (deno ${Deno.version.deno})`;
}

/**
 * The version of this copy of sluice: the stamp a package carries (the file `VERSION` beside its
 * deno.json, written by `deno task package`), else deno.json's `version` with, in a git checkout,
 * the commit it was built from (see `checkoutVersion`).
 */
export function sluiceVersion(root: URL = new URL("../", import.meta.url)): string {
  try {
    return Deno.readTextFileSync(new URL("VERSION", root)).trim();
  } catch {
    // Not a package: a checkout (or a copy of one).
  }
  let base = "0.0.0";
  try {
    base = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root))).version ?? base;
  } catch {
    // No readable deno.json: the version is unknown, say so with the placeholder.
  }
  const git = (...args: string[]): string | undefined => {
    try {
      const out = new Deno.Command("git", {
        args,
        cwd: root,
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
    } catch {
      return undefined; // no git on this host, or no permission to run it
    }
  };
  return checkoutVersion(
    base,
    git("rev-list", "--count", "HEAD"),
    git("rev-parse", "--short=12", "HEAD"),
  );
}

/**
 * The version of a checkout: deno.json's version, then `+git<commits>.<commit>` when both are
 * known. The commit count makes a later commit compare higher (a Debian version is compared
 * digit run by digit run), so a package built from it upgrades one built earlier. Pure.
 *
 * @example
 * ```ts
 * import { checkoutVersion } from "./cli.ts";
 * checkoutVersion("0.1.0", "412", "1a2b3c4d5e6f"); // "0.1.0+git412.1a2b3c4d5e6f"
 * checkoutVersion("0.1.0", undefined, undefined); // "0.1.0"
 * ```
 */
export function checkoutVersion(base: string, count?: string, commit?: string): string {
  if (!count || !commit || !/^\d+$/.test(count) || !/^[0-9a-f]+$/.test(commit)) return base;
  return `${base}+git${count}.${commit}`;
}

/** A string option parsed as a positive integer, or the default; InvalidInputError otherwise. */
export function intOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new InvalidInputError(`--${name} must be a whole number ≥ 0, got '${value}'.`);
  }
  return n;
}

/**
 * How the user runs Deno, for the commands a hint tells them to type: `npx -y deno@<version>` when
 * this process runs on the Deno that npx fetched (the README's first commands, no Deno installed),
 * else `deno`.
 */
export function denoCommand(execPath = Deno.execPath(), version = Deno.version.deno): string {
  return /[\\/]_npx[\\/]/.test(execPath) ? `npx -y deno@${version}` : "deno";
}

/**
 * Runs a command's main function: a SluiceError ends the process with its exit code and its
 * message on stderr (no stack trace); anything else is a bug and prints the stack (exit 1).
 */
export async function runMain(main: () => Promise<number | void>): Promise<never> {
  try {
    const code = await main();
    Deno.exit(code ?? ExitCode.Ok);
  } catch (error) {
    // A library's error may quote a password it was given: scrub before printing.
    if (error instanceof SluiceError) {
      console.error(scrubSecrets(`error: ${error.message}`));
      Deno.exit(error.exitCode);
    }
    console.error(scrubSecrets(Deno.inspect(error)));
    Deno.exit(ExitCode.Failure);
  }
}
