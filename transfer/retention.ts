/**
 * Retention: which date shards are old enough to delete. The choice is pure (index names + now
 * → names); `applyRetention` is the thin I/O around it. Only names that parse as
 * `<prefix>-<stream>-YYYY.MM.DD` are ever considered, so other indices are never touched.
 * @module
 */
import type { SearchEngine } from "./engine.ts";

const DAY_MS = 86_400_000;

/** The UTC day (ms at midnight) of a date shard of `prefix`, or undefined for other names. */
export function shardDay(index: string, prefix: string): number | undefined {
  if (!index.startsWith(`${prefix}-`)) return undefined;
  const match = /^(.+)-(\d{4})\.(\d{2})\.(\d{2})$/.exec(index.slice(prefix.length + 1));
  if (!match) return undefined;
  const [, , y, m, d] = match;
  const ms = Date.UTC(Number(y), Number(m) - 1, Number(d));
  const date = new Date(ms);
  // Rejects 2024.02.31 and the like, which Date.UTC would roll over into March.
  if (date.getUTCMonth() !== Number(m) - 1 || date.getUTCDate() !== Number(d)) return undefined;
  return ms;
}

/**
 * The date shards among `indices` older than `days` whole days before `now` (UTC): with
 * `days = 7` on 2024-03-10 the shards of 2024-03-03 and before go, the 2024-03-04 one stays.
 *
 * @example
 * ```ts
 * import { expiredIndices } from "./retention.ts";
 * expiredIndices(["s-a-2024.03.02", "s-a-2024.03.04", "other"], "s", 7, Date.parse("2024-03-10T12:00:00Z"));
 * // ["s-a-2024.03.02"]
 * ```
 */
export function expiredIndices(
  indices: readonly string[],
  prefix: string,
  days: number,
  now: number,
): string[] {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const oldestKept = today - (days - 1) * DAY_MS;
  return indices.filter((index) => {
    const day = shardDay(index, prefix);
    return day !== undefined && day < oldestKept;
  }).sort();
}

/**
 * Deletes the date shards of `prefix` older than `days` days; returns what was deleted.
 *
 * @example
 * ```ts ignore
 * import { applyRetention } from "./retention.ts";
 * await applyRetention(engine, "sluice", 14);
 * ```
 */
export async function applyRetention(
  engine: SearchEngine,
  prefix: string,
  days: number,
  now = Date.now(),
): Promise<string[]> {
  if (days <= 0) return [];
  const expired = expiredIndices(await engine.listIndices(`${prefix}-*`), prefix, days, now);
  // Delete in slices: a URL naming thousands of indices would exceed the HTTP line limit.
  for (let i = 0; i < expired.length; i += 50) {
    await engine.deleteIndices(expired.slice(i, i + 50));
  }
  return expired;
}
