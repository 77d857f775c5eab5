/**
 * A config change, from plan to appended event. Apply (a whole desired state), rollback (the
 * state of an earlier revision) and import (logagent sources added to the state) are planned
 * against a base revision and committed here, for `config:*` (main.ts) and the web console
 * alike: one idempotency key, one conflict message, one line in the history. `appendEvent`, the
 * checked append under them all (and `ConfigPlane.append`), refuses before writing anything what
 * must not be appended.
 * @module
 */
import { createHash } from "node:crypto";
import { ConflictError, InvalidInputError } from "../core/errors.ts";
import { getLogger } from "../core/log.ts";
import {
  formatIssues,
  validateEvent,
  validateState,
  type ValidationIssue,
} from "../schemas/validate.ts";
import type { EventStore } from "./event_store.ts";
import { foldOps } from "./fold.ts";
import { opsForPlan, type Plan, planChanges } from "./plan.ts";
import { canonicalJson } from "./source.ts";
import type { ConfigEvent, DesiredState, Op } from "./types.ts";

const log = getLogger("config_plane");

/** Room kept for the transaction around the event (keys, compares, head, id). */
const TXN_OVERHEAD_BYTES = 4_096;
const encoder = new TextEncoder();

/** Invalid input with the fields at fault, which the console answers beside the message. */
export class FieldErrors extends InvalidInputError {
  readonly errors: ValidationIssue[];
  constructor(message: string, errors: ValidationIssue[]) {
    super(message);
    this.errors = errors;
  }
}

export interface AppendInput {
  /** The head seq the change was planned against; the append fails if the head moved. */
  base: number;
  ops: Op[];
  author: string;
  /** Why. */
  message: string;
  /** Idempotency key (default: a random UUID). The same key again returns the first event. */
  id?: string;
  rollback_of?: number;
  import_of?: string;
}

export interface AppendResult {
  event: ConfigEvent;
  /** False when the idempotency key had already been appended (nothing new was written). */
  created: boolean;
}

/** What a change does: the three ways the config is changed. */
export type ChangeKind = "apply" | "rollback" | "import";

/** A change planned against a base revision: what `commitChange` appends. */
export interface PlannedChange {
  kind: ChangeKind;
  /** The revision planned against: committing conflicts when the head is no longer it. */
  base: number;
  /** The head when it was planned. */
  head: number;
  /** From the state at `base` to the state the change leads to. */
  plan: Plan;
  /** The ops of the event. */
  ops: Op[];
  rollback_of?: number;
  import_of?: string;
}

/** A change after `commitChange`. */
export interface CommittedChange extends PlannedChange {
  /** The append; absent when there was nothing to change. */
  appended?: AppendResult;
}

/** Who commits a change and why; `id` overrides the idempotency key (`changeId`). */
export interface CommitInput {
  author: string;
  message: string;
  id?: string;
}

/** The head and the state at `base` (default: the head); a base past the head is refused. */
async function planningBase(store: EventStore, base?: number) {
  const head = await store.head();
  const at = base ?? head;
  if (at > head) {
    throw new FieldErrors(`base revision ${at} does not exist: the head is ${head}.`, [
      { path: "base", message: `is past the head (${head})` },
    ]);
  }
  return { head, base: at, current: await store.stateAt(at, head) };
}

/**
 * Plans making `desired` (a whole, valid desired state) the config: one op per source added,
 * changed or removed, so the history reads as what changed.
 *
 * @example
 * ```ts ignore
 * import { openConfigPlane } from "./plane.ts";
 * import { commitChange, planApply } from "./change.ts";
 * const plane = openConfigPlane({ prefix: "/sluice-example" });
 * const change = await planApply(plane, { sources: [{ id: "app", paths: ["/var/log/app.log"], topic: "logs" }] });
 * await commitChange(plane, change, { author: "ann", message: "collect the app log" });
 * plane.close();
 * ```
 */
export async function planApply(
  store: EventStore,
  desired: DesiredState,
  base?: number,
): Promise<PlannedChange> {
  const planned = await planningBase(store, base);
  const plan = planChanges(planned.current, desired);
  return {
    kind: "apply",
    base: planned.base,
    head: planned.head,
    plan,
    ops: opsForPlan(plan, desired),
  };
}

/**
 * Plans a rollback to `revision`: one `replace` op carrying its state, `rollback_of` set;
 * history is never rewritten.
 *
 * @example
 * ```ts ignore
 * import { openConfigPlane } from "./plane.ts";
 * import { commitChange, planRollback } from "./change.ts";
 * const plane = openConfigPlane({ prefix: "/sluice-example" });
 * const change = await planRollback(plane, 1);
 * const { appended } = await commitChange(plane, change, { author: "ann", message: "revert the topic change" });
 * console.log(appended ? `now at ${appended.event.seq}` : "nothing to do");
 * plane.close();
 * ```
 */
export async function planRollback(
  store: EventStore,
  revision: number,
  base?: number,
): Promise<PlannedChange> {
  const planned = await planningBase(store, base);
  if (revision > planned.head) {
    throw new FieldErrors(
      `revision ${revision} does not exist: the head is ${planned.head}.`,
      [{ path: "revision", message: `is past the head (${planned.head})` }],
    );
  }
  const target = await store.stateAt(revision, planned.head);
  return {
    kind: "rollback",
    base: planned.base,
    head: planned.head,
    plan: planChanges(planned.current, target),
    ops: [{ op: "replace", state: target }],
    rollback_of: revision,
  };
}

/**
 * Plans an import: `ops` (from `importLogagent`) added to the state, replacing same-id sources;
 * `importOf` (`<format>:<key or file>`) is kept in the event. A result that would be invalid is
 * refused here, before a plan is shown.
 *
 * @example
 * ```ts ignore
 * import { openConfigPlane } from "./plane.ts";
 * import { planImport } from "./change.ts";
 * import { logagentOpsFromText } from "./logagent_values.ts";
 * const plane = openConfigPlane({ prefix: "/sluice-example" });
 * const ops = logagentOpsFromText("logagent-list", '[{"path": "/var/log/a.log", "topic": "a"}]', { origin: "pasted" });
 * console.log((await planImport(plane, ops, "logagent-list:pasted")).plan.added.length);
 * plane.close();
 * ```
 */
export async function planImport(
  store: EventStore,
  ops: Op[],
  importOf: string,
  base?: number,
): Promise<PlannedChange> {
  const planned = await planningBase(store, base);
  const after = foldOps(ops, planned.current);
  const result = validateState(after);
  if (!result.ok) {
    throw new FieldErrors(
      `the imported sources would leave the config invalid; fix the logagent value:\n${
        formatIssues(result.errors, "state")
      }`,
      result.errors,
    );
  }
  return {
    kind: "import",
    base: planned.base,
    head: planned.head,
    plan: planChanges(planned.current, after),
    ops,
    import_of: importOf,
  };
}

/**
 * Appends a planned change as one event, under the idempotency key `changeId` (or `input.id`).
 * Nothing is appended when the plan is empty; but an empty plan made on an old head is a
 * ConflictError, because it says nothing about the head. A moved head is a ConflictError too,
 * unless the same change was already appended (a retry): then `appended.created` is false.
 */
export async function commitChange(
  store: EventStore,
  change: PlannedChange,
  input: CommitInput,
): Promise<CommittedChange> {
  if (change.plan.empty) {
    const head = await store.head();
    if (change.base < head) throw await headMoved(store, change.base, head);
    return { ...change };
  }
  // Planned on an old head, the append still goes first: a retry of a change that went through
  // must answer "already applied" (same key), not a conflict with its own event.
  const appended = await appendEvent(store, {
    base: change.base,
    ops: change.ops,
    author: input.author,
    message: input.message,
    id: input.id ?? changeId(change, input.author, input.message),
    rollback_of: change.rollback_of,
    import_of: change.import_of,
  });
  return { ...change, appended };
}

/**
 * The idempotency key of a change: the same change (kind, base, ops, rollback or import origin)
 * by the same author for the same reason is appended once, from the CLI or the console alike, so
 * a retried command, request or double click never appends twice.
 *
 * @example
 * ```ts
 * import { changeId } from "./change.ts";
 * changeId({ kind: "apply", base: 3, ops: [{ op: "delete_source", id: "old" }] }, "ann", "why");
 * // "apply-" and 24 hex digits
 * ```
 */
export function changeId(
  change: Pick<PlannedChange, "kind" | "base" | "ops" | "rollback_of" | "import_of">,
  author: string,
  message: string,
): string {
  const { kind, base, ops, rollback_of, import_of } = change;
  const digest = createHash("sha256")
    .update(canonicalJson({ base, ops, author, message, rollback_of, import_of }))
    .digest("hex");
  return `${kind}-${digest.slice(0, 24)}`;
}

/**
 * Why a change planned against `base` was not appended: the head moved to `head`, by whom, when
 * and why (`latest`, the head's event), and what to do.
 *
 * @example
 * ```ts
 * import { conflictMessage } from "./change.ts";
 * conflictMessage(1, 2, { author: "bob", at: "2025-01-01T00:00:00.000Z", message: "more" });
 * // "the config head moved: the change was planned against revision 1, but the head is now revision 2 by bob ..."
 * ```
 */
export function conflictMessage(
  base: number,
  head: number,
  latest?: Pick<ConfigEvent, "author" | "at" | "message">,
): string {
  const by = latest ? ` by ${latest.author} at ${latest.at} ("${latest.message}")` : "";
  return `the config head moved: the change was planned against revision ${base}, but the head is now ` +
    `revision ${head}${by}. Nothing was appended; re-run the command to plan against the new head ` +
    "and review the plan again.";
}

async function headMoved(store: EventStore, base: number, head: number): Promise<ConflictError> {
  // The head's event names who moved it; a value that is no event only loses that detail.
  const latest = head > 0 ? await store.event(head).catch(() => undefined) : undefined;
  return new ConflictError(conflictMessage(base, head, latest));
}

/** One row of the history, as `config:history` and the console show it. */
export interface RevisionSummary {
  seq: number;
  at: string;
  author: string;
  message: string;
  base: number;
  /** What the event does, e.g. `put app, web; delete old`. */
  change: string;
  /** Set when the stored event is no valid event: agents skip it. */
  refused?: true;
  rollback_of?: number;
  import_of?: string;
}

/**
 * What an event does, in a few words: `rollback to N`, or `replace all`, `put <ids>`,
 * `delete <ids>`, `defaults`, joined by `; `.
 *
 * @example
 * ```ts
 * import { summarizeChange } from "./change.ts";
 * summarizeChange([{ op: "delete_source", id: "old" }]); // "delete old"
 * ```
 */
export function summarizeChange(ops: Op[], rollbackOf?: number): string {
  if (rollbackOf !== undefined) return `rollback to ${rollbackOf}`;
  const puts = ops.flatMap((o) => (o.op === "put_source" ? [o.source.id] : []));
  const deletes = ops.flatMap((o) => (o.op === "delete_source" ? [o.id] : []));
  const parts: string[] = [];
  if (ops.some((o) => o.op === "replace")) parts.push("replace all");
  if (puts.length) parts.push(`put ${puts.join(", ")}`);
  if (deletes.length) parts.push(`delete ${deletes.join(", ")}`);
  if (ops.some((o) => o.op === "set_defaults")) parts.push("defaults");
  return parts.join("; ");
}

/**
 * The history row of a stored event. An event written past `append` that is no valid event is
 * shown, not thrown on: agents skip it, and the row says so.
 *
 * @example
 * ```ts
 * import { summarizeRevision } from "./change.ts";
 * summarizeRevision({ seq: 3, ops: "not a list" } as never).change; // "REFUSED: not a valid event, agents skip it"
 * ```
 */
export function summarizeRevision(event: ConfigEvent): RevisionSummary {
  if (!validateEvent(event).ok) {
    return {
      seq: event.seq,
      at: "?",
      author: "?",
      message: "",
      base: typeof event.base === "number" ? event.base : event.seq - 1,
      change: "REFUSED: not a valid event, agents skip it",
      refused: true,
    };
  }
  const row: RevisionSummary = {
    seq: event.seq,
    at: event.at,
    author: event.author,
    message: event.message,
    base: event.base,
    change: summarizeChange(event.ops, event.rollback_of),
  };
  if (event.rollback_of !== undefined) row.rollback_of = event.rollback_of;
  if (event.import_of !== undefined) row.import_of = event.import_of;
  return row;
}

function checkSize(limit: number, what: string, json: string): void {
  const bytes = encoder.encode(json).length;
  if (bytes + TXN_OVERHEAD_BYTES > limit) {
    throw new InvalidInputError(
      `the change was not appended: ${what} is ${bytes} bytes, over etcd's request limit of ` +
        `${limit} bytes (--max-request-bytes, minus ${TXN_OVERHEAD_BYTES} for the transaction). ` +
        "Split it into smaller applies, or shrink large fields.",
    );
  }
}

/**
 * Appends one event if the head is still `input.base` (one etcd transaction). Refuses before
 * writing anything: an invalid event or resulting state (InvalidInputError), an event over
 * etcd's request limit (InvalidInputError). A moved head → ConflictError naming it. The same
 * idempotency `id` again → the first event, `created: false`.
 *
 * @example
 * ```ts ignore
 * import { openConfigPlane } from "./plane.ts";
 * import { appendEvent } from "./change.ts";
 * const plane = openConfigPlane({ prefix: "/sluice-example" });
 * const { event } = await appendEvent(plane, {
 *   base: await plane.head(), author: "ann", message: "collect the app log",
 *   ops: [{ op: "put_source", source: { id: "app", paths: ["/var/log/app.log"], topic: "logs" } }],
 * });
 * console.log(event.seq);
 * plane.close();
 * ```
 */
export async function appendEvent(store: EventStore, input: AppendInput): Promise<AppendResult> {
  const event: ConfigEvent = {
    seq: input.base + 1,
    id: input.id ?? crypto.randomUUID(),
    at: new Date().toISOString(),
    author: input.author,
    message: input.message,
    base: input.base,
    ops: input.ops,
  };
  if (input.rollback_of !== undefined) event.rollback_of = input.rollback_of;
  if (input.import_of !== undefined) event.import_of = input.import_of;
  const checked = validateEvent(event);
  if (!checked.ok) {
    throw new InvalidInputError(
      `the change was not appended, it is invalid:\n${formatIssues(checked.errors, "event")}`,
    );
  }

  // A retry of an append that went through must not be judged against the moved head.
  const existing = await store.eventForId(event.id);
  if (existing) return { event: existing, created: false };

  const head = await store.head();
  if (head !== input.base) throw await headMoved(store, input.base, head);
  const after = foldOps(event.ops, await store.stateAt(input.base, head));
  const result = validateState(after);
  if (!result.ok) {
    throw new InvalidInputError(
      `the change was not appended, it would leave the config invalid:\n${
        formatIssues(result.errors, "state")
      }`,
    );
  }
  checkSize(store.maxRequestBytes, "the event", JSON.stringify(event));
  checkSize(
    store.maxRequestBytes,
    "the resulting state (snapshots and rollbacks carry it whole)",
    JSON.stringify(after),
  );

  if (!await store.writeEvent(event, after)) {
    const again = await store.eventForId(event.id);
    if (again) return { event: again, created: false };
    throw await headMoved(store, input.base, await store.head());
  }
  log.info("appended config event {seq} by {author}: {message}", {
    seq: event.seq,
    author: event.author,
    message: event.message,
  });
  return { event, created: true };
}
