/**
 * Folding the config event log into a desired state: `state(seq)` = the ops of events 1..seq
 * applied in order. Pure, so the CLI, the watcher, the agent and the tests compute the same state.
 * @module
 */
import type { ConfigEvent, Defaults, DesiredState, Op, Source } from "./types.ts";

/** The state before the first event: no defaults, no sources. */
export const EMPTY_STATE: DesiredState = Object.freeze({ sources: [] }) as DesiredState;

function byId(a: Source, b: Source): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * A state in its one canonical form: sources sorted by id, `defaults` left out when empty.
 * Two states that mean the same compare equal after this.
 *
 * @example
 * ```ts
 * import { normalizeState } from "./fold.ts";
 * normalizeState({ defaults: {}, sources: [{ id: "b", paths: ["/b"] }, { id: "a", paths: ["/a"] }] });
 * // { sources: [{ id: "a", ... }, { id: "b", ... }] }
 * ```
 */
export function normalizeState(state: DesiredState): DesiredState {
  const sources = [...state.sources].sort(byId);
  return hasDefaults(state.defaults) ? { defaults: state.defaults, sources } : { sources };
}

function hasDefaults(defaults: Defaults | undefined): defaults is Defaults {
  return defaults !== undefined && Object.keys(defaults).length > 0;
}

function applyOp(sources: Map<string, Source>, defaults: { value?: Defaults }, op: Op): void {
  switch (op.op) {
    case "put_source":
      sources.set(op.source.id, op.source);
      break;
    case "delete_source":
      sources.delete(op.id);
      break;
    case "set_defaults":
      defaults.value = op.defaults;
      break;
    case "replace":
      sources.clear();
      for (const s of op.state.sources) sources.set(s.id, s);
      defaults.value = op.state.defaults;
      break;
  }
}

/**
 * Applies the ops of `events`, in order, to `initial` (default: the empty state). Pure: the
 * inputs are not changed and the result shares nothing with them. Sources come out sorted by id.
 *
 * @example
 * ```ts
 * import { foldEvents } from "./fold.ts";
 * const state = foldEvents([
 *   { seq: 1, id: "a", at: "2025-01-01T00:00:00Z", author: "ann", message: "add", base: 0,
 *     ops: [{ op: "put_source", source: { id: "app", paths: ["/var/log/app.log"], topic: "logs" } }] },
 *   { seq: 2, id: "b", at: "2025-01-01T00:01:00Z", author: "ann", message: "drop", base: 1,
 *     ops: [{ op: "delete_source", id: "app" }] },
 * ]);
 * // state.sources.length === 0
 * ```
 */
export function foldEvents(
  events: ConfigEvent[],
  initial: DesiredState = EMPTY_STATE,
): DesiredState {
  return foldOps(events.flatMap((e) => e.ops), initial);
}

/**
 * Applies `ops` in order to `state` (pure); what an event would make of the state.
 *
 * @example
 * ```ts
 * import { EMPTY_STATE, foldOps } from "./fold.ts";
 * foldOps([{ op: "set_defaults", defaults: { topic: "logs" } }], EMPTY_STATE).defaults; // { topic: "logs" }
 * ```
 */
export function foldOps(ops: Op[], state: DesiredState): DesiredState {
  const sources = new Map<string, Source>(state.sources.map((s) => [s.id, s]));
  const defaults: { value?: Defaults } = { value: state.defaults };
  for (const op of ops) applyOp(sources, defaults, op);
  const folded = normalizeState({ defaults: defaults.value, sources: [...sources.values()] });
  return structuredClone(folded);
}
