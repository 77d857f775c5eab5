/**
 * The event log as etcd holds it. `append` checks every event it writes, but anyone with access
 * to etcd can write a key, so a stored value may not be JSON, or may be JSON that is no valid
 * event. Every reader skips such events the same way — the watcher of an agent, `stateAt` behind
 * `config:show`, `config:status` and the next `config:apply` — so the state the CLI shows is the
 * state the agents run, and one bad key never stops the log from being read. Pure.
 * @module
 */
import { validateEvent } from "../schemas/validate.ts";
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

/**
 * The events that pass the event schema, in order: the ones whose ops are folded into a state.
 * An agent refuses the others (and reports them); the state is folded past them.
 *
 * @example
 * ```ts
 * import { runnableEvents } from "./stored_events.ts";
 * runnableEvents([{ seq: 1, ops: "not a list" } as never]); // []
 * ```
 */
export function runnableEvents(events: readonly ConfigEvent[]): ConfigEvent[] {
  return events.filter((e) => validateEvent(e).ok);
}
