/**
 * The last config the agent applied, kept next to its checkpoints (`_applied-config.json`; a
 * source id cannot start with `_`, so it never meets a source's checkpoint file). An agent that
 * starts while etcd cannot be reached — a host rebooted during an etcd outage, an upgrade —
 * runs that config at once instead of collecting nothing until etcd answers; etcd's state
 * replaces it as soon as it arrives, through the usual reconcile (unchanged sources untouched).
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../core/atomic_file.ts";
import { formatIssues, validateState } from "../schemas/validate.ts";
import type { DesiredState } from "../config_plane/types.ts";

export const APPLIED_CONFIG_FILE = "_applied-config.json";

/** What the file holds. */
export interface AppliedConfig {
  version: 1;
  /** The etcd prefix the config came from: another prefix's config is never run. */
  prefix: string;
  seq: number;
  /** When it was saved, ISO 8601. */
  saved_at: string;
  state: DesiredState;
}

/** A saved config ready to run, or why the file was not used. */
export type LoadedConfig =
  | { ok: true; seq: number; state: DesiredState; savedAt: string }
  | { ok: false; reason: string };

/**
 * Reads the file's text for `prefix`: the version, the prefix and the state (against the same
 * schema as a revision from etcd) are checked; anything else is refused with the reason.
 *
 * @example
 * ```ts
 * import { parseAppliedConfig } from "./applied_config.ts";
 * const text = JSON.stringify({ version: 1, prefix: "/sluice", seq: 3, saved_at: "", state: { sources: [] } });
 * parseAppliedConfig(text, "/sluice"); // { ok: true, seq: 3, ... }
 * ```
 */
export function parseAppliedConfig(text: string, prefix: string): LoadedConfig {
  let value: Partial<AppliedConfig>;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not valid JSON (${(error as Error).message})` };
  }
  if (value === null || typeof value !== "object" || value.version !== 1) {
    return { ok: false, reason: "not a version 1 applied config" };
  }
  if (value.prefix !== prefix) {
    return { ok: false, reason: `it is the config of prefix '${value.prefix}', not '${prefix}'` };
  }
  if (!Number.isInteger(value.seq) || (value.seq as number) < 0) {
    return { ok: false, reason: `its seq '${value.seq}' is not a whole number ≥ 0` };
  }
  const checked = validateState(value.state);
  if (!checked.ok) return { ok: false, reason: formatIssues(checked.errors, "state") };
  return { ok: true, seq: value.seq!, state: checked.value, savedAt: String(value.saved_at) };
}

/** The saved config of `prefix` in `dir`; undefined when there is none yet. */
export async function loadAppliedConfig(
  dir: string,
  prefix: string,
): Promise<LoadedConfig | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, APPLIED_CONFIG_FILE));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    return { ok: false, reason: (error as Error).message };
  }
  return parseAppliedConfig(text, prefix);
}

/** Saves the config just applied (atomically; throws when the disk refuses). */
export async function saveAppliedConfig(
  dir: string,
  prefix: string,
  seq: number,
  state: DesiredState,
  now = new Date(),
): Promise<void> {
  const body: AppliedConfig = { version: 1, prefix, seq, saved_at: now.toISOString(), state };
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, APPLIED_CONFIG_FILE), JSON.stringify(body));
}
