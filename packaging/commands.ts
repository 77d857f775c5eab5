/**
 * The commands a package installs, and the shell launcher of each: the deno.json task it is
 * named after, run on the Deno runtime inside the package with everything already cached.
 * Pure: the builder (packaging/main.ts) writes what these functions return.
 * @module
 */

/** A command of the package and the deno.json task it runs. */
export interface PackagedCommand {
  /** File name in the package's bin/ (and /usr/bin in the .deb). */
  name: string;
  /** The deno.json task whose `deno run` flags and script it uses. */
  task: string;
  /**
   * Keep the task's own arguments after the script. `config:apply` ends in `apply`, but
   * `sluice-config` takes the subcommand from the user (`sluice-config apply FILE -m WHY`).
   */
  keepTaskArgs: boolean;
}

/** The four commands, in the order --help texts and docs list them. */
export const COMMANDS: readonly PackagedCommand[] = [
  { name: "sluice-agent", task: "agent", keepTaskArgs: true },
  { name: "sluice-transfer", task: "transfer", keepTaskArgs: true },
  { name: "sluice-config", task: "config:apply", keepTaskArgs: false },
  { name: "sluice-console", task: "console", keepTaskArgs: true },
];

/** A `deno run` task taken apart. */
export interface DenoRunTask {
  /** Flags before the script, e.g. `-A`, `--v8-flags=…`. */
  flags: string[];
  /** The script, relative to deno.json. */
  script: string;
  /** Arguments after the script. */
  args: string[];
}

/**
 * Takes apart a task of the form `deno run FLAGS SCRIPT ARGS`. Throws on anything else (a task
 * that chains commands, or a flag that takes a separate value), which the launcher could not
 * reproduce faithfully.
 *
 * @example
 * ```ts
 * import { parseDenoRunTask } from "./commands.ts";
 * parseDenoRunTask("deno run -A config_plane/main.ts apply");
 * // { flags: ["-A"], script: "config_plane/main.ts", args: ["apply"] }
 * ```
 */
export function parseDenoRunTask(task: string): DenoRunTask {
  if (/[&|;<>$`'"\\]/.test(task)) {
    throw new Error(`task '${task}': only a plain 'deno run FLAGS SCRIPT ARGS' can be packaged`);
  }
  const words = task.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run") {
    throw new Error(`task '${task}' does not start with 'deno run'`);
  }
  const flags: string[] = [];
  let i = 2;
  for (; i < words.length && words[i].startsWith("-"); i++) {
    // `--flag value` cannot be told from `--boolean-flag script`; the tasks write `--flag=value`.
    flags.push(words[i]);
  }
  const script = words[i];
  if (!script || !/\.(ts|js|mjs|mts)$/.test(script)) {
    throw new Error(
      `task '${task}': no script after the flags (write flag values as --flag=value)`,
    );
  }
  return { flags, script, args: words.slice(i + 1) };
}

/**
 * The `bin/<name>` shell script of a command. It finds the package from its own path (so
 * /usr/bin symlinks and an unpacked tarball anywhere both work), and runs the task's script on
 * the packaged Deno with `--cached-only` (Deno refuses to fetch anything), `--frozen` (the
 * packaged lockfile is the truth) and the packaged deno.json (import map, node_modules/).
 */
export function launcherScript(
  command: PackagedCommand,
  run: DenoRunTask,
  version: string,
): string {
  const args = command.keepTaskArgs ? run.args : [];
  const line = [
    `exec "$root/runtime/deno" run --cached-only --frozen --config "$root/app/deno.json"`,
    ...run.flags,
    `"$root/app/${run.script}"`,
    ...args,
    `"$@"`,
  ].join(" ");
  return `#!/bin/sh
# ${command.name} (sluice ${version}): \`deno task ${command.task}\` on the Deno runtime in this
# package. Every module and npm package is in the package; --cached-only makes Deno refuse to
# fetch anything. Deno keeps its caches (transpiled code, V8 code cache) in $SLUICE_DENO_DIR,
# default ~/.cache/sluice/deno; where that cannot be written, it keeps them in memory.
# SLUICE_COMMAND: the name --help and error hints show (core/cli.ts invokedAs).
root=$(dirname "$(dirname "$(readlink -f "$0")")")
DENO_DIR=\${SLUICE_DENO_DIR:-\${HOME:-/nonexistent}/.cache/sluice/deno}
DENO_NO_UPDATE_CHECK=1
DENO_NO_PROMPT=1
SLUICE_COMMAND=${command.name}
export DENO_DIR DENO_NO_UPDATE_CHECK DENO_NO_PROMPT SLUICE_COMMAND
${line}
`;
}
