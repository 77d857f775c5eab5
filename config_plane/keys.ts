/**
 * The key layout of the config plane in etcd (DESIGN.md, "Config plane"), relative to the
 * plane's prefix: events, head, snapshots, idempotency ids, and the leased agent keys.
 * @module
 */

/**
 * Sequence numbers are zero-padded to 20 digits so that key order is seq order.
 *
 * @example
 * ```ts
 * import { padSeq } from "./keys.ts";
 * padSeq(42); // "00000000000000000042"
 * ```
 */
export function padSeq(seq: number): string {
  return String(seq).padStart(20, "0");
}

/** Keys relative to the prefix namespace (`<prefix>/`). */
export const KEYS = {
  head: "config/head",
  eventsPrefix: "config/events/",
  event: (seq: number) => `config/events/${padSeq(seq)}`,
  snapshotsPrefix: "config/snapshots/",
  snapshot: (seq: number) => `config/snapshots/${padSeq(seq)}`,
  /** Which seq an idempotency id was appended as; written in the append transaction. */
  idempotency: (id: string) => `config/ids/${encodeURIComponent(id)}`,
  agentsPrefix: "agents/",
  agent: (agentId: string) => `agents/${agentId}`,
};

/**
 * The seq of an event or snapshot key (`.../00000000000000000042` → 42), or undefined.
 *
 * @example
 * ```ts
 * import { seqOfKey } from "./keys.ts";
 * seqOfKey("config/events/00000000000000000042"); // 42
 * ```
 */
export function seqOfKey(key: string): number | undefined {
  const match = /\/(\d{20})$/.exec(key);
  return match ? Number(match[1]) : undefined;
}
