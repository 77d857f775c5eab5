/**
 * The values of event keys as etcd holds them: anyone with access to etcd can write a key, so a
 * value may not be JSON. Parsing keeps those apart, named by seq, instead of failing the whole
 * read; which parsed events may run is decided in runnable_state.ts. Pure.
 * @module
 */
import { seqOfKey } from "./keys.ts";
import type { ConfigEvent } from "./types.ts";

/** What a range of event keys held: the events, and the keys that hold no JSON. */
export interface StoredEvents {
  /** Parsed values, by seq (still to be checked against the event schema). */
  events: ConfigEvent[];
  /** Keys whose value is not JSON, with the parser's complaint. */
  unreadable: { seq: number; error: string }[];
}

/**
 * Parses the values of event keys (`config/events/<seq>` → JSON), keeping what cannot be parsed
 * apart instead of throwing.
 *
 * @example
 * ```ts
 * import { parseStoredEvents } from "./stored_events.ts";
 * const { events, unreadable } = parseStoredEvents([
 *   ["config/events/00000000000000000001", '{"seq":1}'],
 *   ["config/events/00000000000000000002", "{oops"],
 * ]);
 * // events.length === 1, unreadable[0].seq === 2
 * ```
 */
export function parseStoredEvents(entries: Iterable<[key: string, value: string]>): StoredEvents {
  const events: ConfigEvent[] = [];
  const unreadable: StoredEvents["unreadable"] = [];
  for (const [key, value] of entries) {
    try {
      events.push(JSON.parse(value) as ConfigEvent);
    } catch (error) {
      unreadable.push({ seq: seqOfKey(key) ?? -1, error: `not JSON: ${(error as Error).message}` });
    }
  }
  events.sort((a, b) => a.seq - b.seq);
  return { events, unreadable };
}
