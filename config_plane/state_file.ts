/**
 * Reading a desired-state file (YAML or JSON) for `config:apply` and `config:validate`: parse
 * errors name the line and column, schema errors the field path, both prefixed with the file.
 * @module
 */
import { parse as parseYaml, YAMLParseError } from "yaml";
import { InvalidInputError } from "../core/errors.ts";
import { formatIssues, validateState, type ValidationIssue } from "../schemas/validate.ts";
import type { DesiredState } from "./types.ts";

/**
 * Parses file text as JSON (for `.json` names) or YAML (anything else; YAML is a superset of
 * JSON). Throws InvalidInputError naming the file, line and column.
 *
 * @example
 * ```ts
 * import { parseStateText } from "./state_file.ts";
 * parseStateText("sources: []\n", "fleet.yaml"); // { sources: [] }
 * ```
 */
export function parseStateText(text: string, origin: string): unknown {
  if (origin.endsWith(".json")) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new InvalidInputError(`${origin}: is not valid JSON: ${(error as Error).message}`);
    }
  }
  try {
    return parseYaml(text, { prettyErrors: true });
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const at = error.linePos?.[0];
      const where = at ? `line ${at.line}, column ${at.col}` : "somewhere";
      throw new InvalidInputError(
        `${origin}: is not valid YAML at ${where}: ${error.message.split("\n")[0]}`,
      );
    }
    throw error;
  }
}

/** Outcome of checking a file: the state, or the issues (already prefixed with the file). */
export type StateFileCheck =
  | { ok: true; state: DesiredState }
  | { ok: false; errors: ValidationIssue[]; message: string };

/**
 * Parses and validates desired-state text.
 *
 * @example
 * ```ts
 * import { checkStateText } from "./state_file.ts";
 * const r = checkStateText("sources:\n  - id: app\n", "fleet.yaml");
 * // r.ok === false; r.message === "fleet.yaml: sources[0].paths is required but missing\n..."
 * ```
 */
export function checkStateText(text: string, origin: string): StateFileCheck {
  const value = parseStateText(text, origin);
  if (value === null || value === undefined) {
    const errors = [{
      path: "(top level)",
      message: "is empty; a desired state needs at least `sources: []`",
    }];
    return { ok: false, errors, message: formatIssues(errors, origin) };
  }
  const result = validateState(value);
  if (result.ok) return { ok: true, state: result.value };
  return { ok: false, errors: result.errors, message: formatIssues(result.errors, origin) };
}

/**
 * Reads a file's text; a missing or unreadable file is InvalidInputError naming it.
 *
 * @example
 * ```ts
 * import { readInputFile } from "./state_file.ts";
 * const text = await readInputFile("examples/fleet.yaml");
 * ```
 */
export async function readInputFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new InvalidInputError(
        `${path}: no such file. Give the path of a YAML or JSON file (see examples/).`,
      );
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new InvalidInputError(`${path}: is a directory; give the path of a YAML or JSON file.`);
    }
    throw new InvalidInputError(`${path}: cannot be read: ${(error as Error).message}`);
  }
}

/**
 * Reads, parses and validates a desired-state file; InvalidInputError (exit 2) lists every issue.
 *
 * @example
 * ```ts
 * import { loadStateFile } from "./state_file.ts";
 * const state = await loadStateFile("examples/fleet.yaml");
 * console.log(state.sources.length);
 * ```
 */
export async function loadStateFile(path: string): Promise<DesiredState> {
  const result = checkStateText(await readInputFile(path), path);
  if (!result.ok) {
    throw new InvalidInputError(`${path} is not a valid desired state:\n${result.message}`);
  }
  return result.state;
}
