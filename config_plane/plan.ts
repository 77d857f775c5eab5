/**
 * What changes between two desired states, source by source and field by field, as data (for
 * `--json` and the console) and as text (for the CLI); and the ops that make one into the other.
 * @module
 */
import { normalizeState } from "./fold.ts";
import { canonicalJson } from "./source.ts";
import type { DesiredState, Op, Source } from "./types.ts";

/** One field that differs; `from`/`to` are absent when the field is absent on that side. */
export interface FieldChange {
  /** Dotted path inside the source or the defaults, e.g. `rate.lines_per_sec`. */
  path: string;
  from?: unknown;
  to?: unknown;
}

export interface SourceChange {
  id: string;
  changes: FieldChange[];
  /** The source before and after. */
  from: Source;
  to: Source;
}

export interface Plan {
  added: Source[];
  removed: Source[];
  changed: SourceChange[];
  /** Field changes of the defaults (they apply to every source that does not set the field). */
  defaults: FieldChange[];
  /** True when there is nothing to change. */
  empty: boolean;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Field-by-field differences of two values; scalars and lists of scalars (`paths`) compare as a
 * whole, lists of objects (`processors`) item by item, so a changed step is one short line.
 *
 * @example
 * ```ts
 * import { diffFields } from "./plan.ts";
 * diffFields({ rate: { lines_per_sec: 1 } }, { rate: { lines_per_sec: 2 } });
 * // [{ path: "rate.lines_per_sec", from: 1, to: 2 }]
 * diffFields({ processors: [{ type: "drop", pattern: "a" }] }, { processors: [{ type: "drop", pattern: "b" }] });
 * // [{ path: "processors[0].pattern", from: "a", to: "b" }]
 * ```
 */
export function diffFields(from: unknown, to: unknown, path = ""): FieldChange[] {
  if (isPlainObject(from) && isPlainObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    return keys.flatMap((k) => diffFields(from[k], to[k], path ? `${path}.${k}` : k));
  }
  if (
    Array.isArray(from) && Array.isArray(to) && from.length + to.length > 0 &&
    from.every(isPlainObject) && to.every(isPlainObject)
  ) {
    const length = Math.max(from.length, to.length);
    return Array.from({ length }, (_, i) => {
      const [a, b] = [from[i], to[i]];
      // An item that became another kind of step is one change, not a change of every field.
      if (a && b && a.type === b.type) return diffFields(a, b, `${path}[${i}]`);
      return [{ path: `${path}[${i}]`, ...(a && { from: a }), ...(b && { to: b }) }];
    }).flat();
  }
  if (canonicalJson(from) === canonicalJson(to)) return [];
  const change: FieldChange = { path: path || "(all)" };
  if (from !== undefined) change.from = from;
  if (to !== undefined) change.to = to;
  return [change];
}

/**
 * The changes that turn `from` into `to`. Pure.
 *
 * @example
 * ```ts
 * import { planChanges } from "./plan.ts";
 * const plan = planChanges(
 *   { sources: [{ id: "app", paths: ["/a.log"], topic: "logs" }] },
 *   { sources: [{ id: "app", paths: ["/a.log"], topic: "logs-v2" }, { id: "web", paths: ["/w.log"], topic: "logs" }] },
 * );
 * // plan.added[0].id === "web"; plan.changed[0].changes[0] is { path: "topic", from: "logs", to: "logs-v2" }
 * ```
 */
export function planChanges(from: DesiredState, to: DesiredState): Plan {
  const a = normalizeState(from);
  const b = normalizeState(to);
  const before = new Map(a.sources.map((s) => [s.id, s]));
  const after = new Map(b.sources.map((s) => [s.id, s]));
  const added = b.sources.filter((s) => !before.has(s.id));
  const removed = a.sources.filter((s) => !after.has(s.id));
  const changed: SourceChange[] = [];
  for (const s of b.sources) {
    const old = before.get(s.id);
    if (!old) continue;
    const changes = diffFields(old, s);
    if (changes.length > 0) changed.push({ id: s.id, changes, from: old, to: s });
  }
  const defaults = diffFields(a.defaults ?? {}, b.defaults ?? {});
  const empty = added.length + removed.length + changed.length + defaults.length === 0;
  return { added, removed, changed, defaults, empty };
}

/**
 * The ops of one event that turn the state the plan started from into `to`: one op per source
 * added, changed or removed (readable in the history), `set_defaults` when the defaults change.
 *
 * @example
 * ```ts
 * import { opsForPlan, planChanges } from "./plan.ts";
 * const to = { defaults: { topic: "logs" }, sources: [] };
 * opsForPlan(planChanges({ sources: [] }, to), to);
 * // [{ op: "set_defaults", defaults: { topic: "logs" } }]
 * ```
 */
export function opsForPlan(plan: Plan, to: DesiredState): Op[] {
  const ops: Op[] = [];
  // set_defaults replaces the defaults whole, so it carries the target's, not just the changes.
  if (plan.defaults.length > 0) ops.push({ op: "set_defaults", defaults: to.defaults ?? {} });
  for (const s of plan.removed) ops.push({ op: "delete_source", id: s.id });
  for (const s of plan.added) ops.push({ op: "put_source", source: s });
  for (const c of plan.changed) ops.push({ op: "put_source", source: c.to });
  return ops;
}

function show(value: unknown): string {
  return value === undefined ? "(unset)" : JSON.stringify(value);
}

/**
 * The plan as text for a terminal: `+` added, `-` removed, `~` changed with one line per field,
 * and a summary line.
 *
 * @example
 * ```ts
 * import { formatPlan, planChanges } from "./plan.ts";
 * console.log(formatPlan(planChanges({ sources: [] }, { sources: [{ id: "app", paths: ["/a.log"], topic: "t" }] })));
 * // + source app  paths ["/a.log"] → topic "t"
 * //
 * // Plan: 1 to add, 0 to change, 0 to remove.
 * ```
 */
export function formatPlan(plan: Plan): string {
  if (plan.empty) return "No changes.";
  const lines: string[] = [];
  if (plan.defaults.length > 0) {
    lines.push("~ defaults");
    for (const c of plan.defaults) lines.push(`    ${c.path}: ${show(c.from)} → ${show(c.to)}`);
  }
  for (const s of plan.added) {
    lines.push(
      `+ source ${s.id}  paths ${JSON.stringify(s.paths)}${s.topic ? ` → topic "${s.topic}"` : ""}`,
    );
  }
  for (const c of plan.changed) {
    lines.push(`~ source ${c.id}`);
    for (const f of c.changes) lines.push(`    ${f.path}: ${show(f.from)} → ${show(f.to)}`);
  }
  for (const s of plan.removed) lines.push(`- source ${s.id}`);
  lines.push(
    "",
    `Plan: ${plan.added.length} to add, ${plan.changed.length} to change, ${plan.removed.length} to remove${
      plan.defaults.length > 0 ? ", defaults changed" : ""
    }.`,
  );
  return lines.join("\n");
}
