/**
 * Durations as operators write them in a config (`"30s"`, `"5m"`, `"24h"`, `"7d"`, `"250ms"`):
 * one parser for the schema's check and for the agent.
 * @module
 */

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The pattern the schema uses for a duration. */
export const DURATION_PATTERN = "^[0-9]+(ms|s|m|h|d)$";

/**
 * A duration in ms, or undefined when `text` is not one.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * parseDuration("5m"); // 300000
 * parseDuration("1.5h"); // undefined
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNITS[m[2]];
  return Number.isSafeInteger(ms) ? ms : undefined;
}
