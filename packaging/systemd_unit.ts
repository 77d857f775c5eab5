/**
 * Reads systemd unit files: the package's tests check its units against the agent's and the
 * transfer's own bounds, and run an installed command the way its unit says. Pure.
 * @module
 */

/** Section → key → every value it was given, in order. */
export type Unit = Record<string, Record<string, string[]>>;

/**
 * Parses a unit file: `[Section]` headers, `Key=Value` lines, `#`/`;` comments, and lines
 * continued by a trailing backslash.
 *
 * @example
 * ```ts
 * import { parseUnit } from "./systemd_unit.ts";
 * const unit = parseUnit("[Service]\nExecStart=/usr/bin/x --a\nEnvironment=A=1\nEnvironment=B=2\n");
 * // unit.Service.Environment → ["A=1", "B=2"]
 * ```
 */
export function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section: Record<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = unit[header[1]] ??= {};
      return;
    }
    const eq = line.indexOf("=");
    if (eq <= 0 || !section) throw new Error(`unit line ${i + 1}: not a Key=Value in a section`);
    (section[line.slice(0, eq).trim()] ??= []).push(line.slice(eq + 1).trim());
  });
  return unit;
}

/** The last value of a key (a later assignment overrides), or undefined. */
export function unitValue(unit: Unit, section: string, key: string): string | undefined {
  return unit[section]?.[key]?.at(-1);
}

/**
 * A systemd time span in seconds: `20`, `20s`, `1min 30s`, `500ms`, `2h`.
 *
 * @example
 * ```ts
 * import { timespanSeconds } from "./systemd_unit.ts";
 * timespanSeconds("1min 30s"); // 90
 * ```
 */
export function timespanSeconds(span: string): number {
  const units: Record<string, number> = {
    "": 1,
    ms: 0.001,
    s: 1,
    sec: 1,
    m: 60,
    min: 60,
    h: 3600,
    hr: 3600,
  };
  let total = 0;
  const rest = span.trim().replace(/(\d+(?:\.\d+)?)\s*([a-z]*)\s*/g, (_, n, unit) => {
    if (!(unit in units)) throw new Error(`time span '${span}': unknown unit '${unit}'`);
    total += Number(n) * units[unit];
    return "";
  });
  if (rest !== "" || span.trim() === "") throw new Error(`time span '${span}' does not parse`);
  return total;
}

/** `Environment=` values as one record (`A=1 B="x y"` is not used by our units: one per line). */
export function unitEnvironment(unit: Unit, section = "Service"): Record<string, string> {
  const env: Record<string, string> = {};
  for (const assignment of unit[section]?.Environment ?? []) {
    const eq = assignment.indexOf("=");
    if (eq <= 0 || /\s/.test(assignment)) {
      throw new Error(`Environment=${assignment}: write one NAME=value per line, without spaces`);
    }
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  return env;
}
