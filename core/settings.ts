/**
 * The one settings loader of sluice's long-running programs (agent, transfer). Each declares a
 * table of its settings: flag, SLUICE_* variable, settings-file key and kind; this module turns
 * the table into the `--help` options (for core/cli.ts) and resolves the layers — defaults, then
 * the settings file (YAML or JSON), then the environment, then flags: later layers win.
 * @module
 */
import { parse as parseYaml } from "yaml";
import type { OptionSpec } from "./cli.ts";
import { InvalidInputError } from "./errors.ts";

/**
 * How a setting's text is read: `string` as given (trimmed, then `parse` when set), `list`
 * comma-separated and repeatable, `int` a whole number ≥ 0, `choice` one of `choices`, `pairs`
 * KEY=VALUE items (or a mapping in the file) merged key by key across the layers.
 */
export type SettingKind = "string" | "list" | "int" | "choice" | "pairs";

/** One row of a settings table. */
export interface Setting<K extends string = string> {
  /** The field of the resolved settings. */
  key: K;
  /** The command-line flag, without `--`. */
  flag: string;
  /** The environment variable, if the setting has one. */
  env?: string;
  /** The key in the settings file (snake_case). */
  file: string;
  /** Other spellings the settings file accepts for this key. */
  fileAliases?: readonly string[];
  kind: SettingKind;
  /** The allowed values of a `choice`. */
  choices?: readonly string[];
  /** Turns a `string` setting's text into its value; throws InvalidInputError when it cannot. */
  parse?: (text: string, where: string) => unknown;
  /** Placeholder in --help, e.g. "MS". */
  arg: string;
  /** One line for --help; the default and the variable are added to it. */
  description: string;
  /** The default as --help shows it, when the value itself would not tell ("host name"). */
  shownDefault?: string;
}

/** The layers over the defaults, lowest first: file, environment, flags. */
export interface SettingLayers {
  /** The settings file's content (snake_case keys), e.g. from readSettingsFile. */
  file?: Record<string, unknown>;
  /** The environment. */
  env?: Record<string, string | undefined>;
  /** Flag values from parseCommand (keys = flag names). */
  flags?: Record<string, unknown>;
}

/**
 * The options of a table for core/cli.ts: one per setting, its description followed by the
 * default and the environment variable, e.g. `Documents per bulk request, at most. (default:
 * 5000) [SLUICE_BULK_MAX_DOCS]`. List and pairs flags may be repeated.
 *
 * @example
 * ```ts
 * import { settingOptions } from "./settings.ts";
 * const options = settingOptions(
 *   [{ key: "lingerMs", flag: "linger-ms", env: "X_LINGER_MS", file: "linger_ms", kind: "int", arg: "MS", description: "Wait." }],
 *   { lingerMs: 10 },
 * );
 * options["linger-ms"].description; // "Wait. (default: 10) [X_LINGER_MS]"
 * ```
 */
export function settingOptions<T extends object>(
  table: readonly Setting<Extract<keyof T, string>>[],
  defaults: T,
): Record<string, OptionSpec> {
  const options: Record<string, OptionSpec> = {};
  for (const s of table) {
    // The default is only shown: a parseArgs default would hide the environment variable.
    const shown = s.shownDefault ?? shownValue(defaults[s.key]);
    options[s.flag] = {
      type: "string",
      multiple: s.kind === "list" || s.kind === "pairs",
      arg: s.arg,
      description: `${s.description}${shown ? ` (default: ${shown})` : ""}${
        s.env ? ` [${s.env}]` : ""
      }`,
    };
  }
  return options;
}

function shownValue(value: unknown): string {
  if (value === undefined || value === null || value === "") return "";
  if (Array.isArray(value)) return value.join(",");
  if (typeof value === "object") {
    return Object.entries(value).map(([k, v]) => `${k}=${v}`).join(",");
  }
  return String(value);
}

/**
 * The settings of a table: `defaults`, then the file, the environment and the flags of `layers`
 * (an empty variable counts as unset). Throws InvalidInputError naming the flag, variable or file
 * key at fault, and for a file key the table does not know (a typo would otherwise be ignored).
 * `fileNoun` names the file in messages ("settings file", "config file"). Pure.
 *
 * @example
 * ```ts
 * import { resolveSettingTable, type Setting } from "./settings.ts";
 * const table: Setting<"topics" | "lingerMs">[] = [
 *   { key: "topics", flag: "topic", env: "X_TOPICS", file: "topics", kind: "list", arg: "T", description: "Topics." },
 *   { key: "lingerMs", flag: "linger-ms", file: "linger_ms", kind: "int", arg: "MS", description: "Wait." },
 * ];
 * const s = resolveSettingTable(table, { topics: ["logs"], lingerMs: 10 }, {
 *   file: { linger_ms: 50 },
 *   env: { X_TOPICS: "a,b" },
 *   flags: { "linger-ms": "0" },
 * });
 * // s.topics = ["a", "b"], s.lingerMs === 0
 * ```
 */
export function resolveSettingTable<T extends object>(
  table: readonly Setting<Extract<keyof T, string>>[],
  defaults: T,
  layers: SettingLayers,
  fileNoun = "settings file",
): T {
  const file = layers.file ?? {};
  const env = layers.env ?? {};
  const flags = layers.flags ?? {};
  const known = table.flatMap((s) => [s.file, ...(s.fileAliases ?? [])]);
  for (const key of Object.keys(file)) {
    if (!known.includes(key)) {
      throw new InvalidInputError(
        `${fileNoun}: unknown setting '${key}' (known: ${table.map((s) => s.file).join(", ")})`,
      );
    }
  }
  const values = { ...defaults } as Record<string, unknown>;
  for (const s of table) {
    const fileKey = [s.file, ...(s.fileAliases ?? [])].find((k) =>
      file[k] !== undefined && file[k] !== null
    );
    const given: [unknown, string][] = [];
    if (fileKey !== undefined) given.push([file[fileKey], `${fileNoun} key '${fileKey}'`]);
    const envValue = s.env === undefined ? undefined : env[s.env];
    if (envValue !== undefined && envValue !== "") given.push([envValue, s.env!]);
    const flagValue = flags[s.flag];
    if (flagValue !== undefined && !(Array.isArray(flagValue) && flagValue.length === 0)) {
      given.push([flagValue, `--${s.flag}`]);
    }
    for (const [value, where] of given) {
      const read = readValue(s, value, where);
      values[s.key] = s.kind === "pairs"
        ? { ...(values[s.key] as Record<string, string>), ...(read as Record<string, string>) }
        : read;
    }
  }
  return values as T;
}

function listItems(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(","))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

function readValue(setting: Setting, value: unknown, where: string): unknown {
  switch (setting.kind) {
    case "list": {
      const items = listItems(value);
      if (items.length === 0) throw new InvalidInputError(`${where} is empty`);
      return items;
    }
    case "int": {
      const n = typeof value === "number" ? value : Number(String(value).trim());
      if (!Number.isInteger(n) || n < 0) {
        throw new InvalidInputError(`${where} must be a whole number ≥ 0, got '${value}'`);
      }
      return n;
    }
    case "choice": {
      const text = String(value).trim();
      if (!setting.choices!.includes(text)) {
        throw new InvalidInputError(
          `${where} must be one of ${setting.choices!.join(", ")}, got '${text}'`,
        );
      }
      return text;
    }
    case "pairs": {
      if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
      }
      const pairs: Record<string, string> = {};
      for (const item of listItems(value)) {
        const eq = item.indexOf("=");
        if (eq <= 0) throw new InvalidInputError(`${where} must be KEY=VALUE, got '${item}'`);
        pairs[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
      }
      return pairs;
    }
    default: {
      const text = (Array.isArray(value) ? value.join(",") : String(value)).trim();
      return setting.parse ? setting.parse(text, where) : text;
    }
  }
}

/**
 * Reads a settings file, YAML or JSON (by its `.json` name), that must hold a mapping; {}
 * without a path. Throws InvalidInputError naming the file when it cannot be read or parsed.
 *
 * @example
 * ```ts ignore
 * import { readSettingsFile } from "./settings.ts";
 * const file = await readSettingsFile("/etc/sluice/agent.yaml"); // { agent_id: "web-1", ... }
 * ```
 */
export async function readSettingsFile(
  path: string | undefined,
  fileNoun = "settings file",
): Promise<Record<string, unknown>> {
  if (!path) return {};
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new InvalidInputError(`cannot read ${fileNoun} ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new InvalidInputError(`${fileNoun} ${path} does not parse: ${(error as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidInputError(`${fileNoun} ${path} must hold a mapping of settings`);
  }
  return value as Record<string, unknown>;
}
