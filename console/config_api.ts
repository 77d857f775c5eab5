/**
 * What the console does with the config plane: the revision timeline, a revision's state, the
 * diff of two revisions, plan → apply of a desired-state text, and rollback. The same library
 * calls, validation and conflict checks as `config:*` (config_plane/cli.ts), answering data.
 * @module
 */
import { createHash } from "node:crypto";
import { stringify as toYaml } from "yaml";
import {
  canonicalJson,
  type ConfigEvent,
  type ConfigPlane,
  type DesiredState,
  foldOps,
  formatPlan,
  logagentOpsFromText,
  type Op,
  opsForPlan,
  type Plan,
  planChanges,
  readLogagentOps,
  validateState,
  type ValidationIssue,
} from "../config_plane/mod.ts";
import { checkStateText } from "../config_plane/state_file.ts";
import { ConflictError, InvalidInputError } from "../core/errors.ts";
import type {
  ApplyRequest,
  ImportApplyRequest,
  ImportRequest,
  PlanRequest,
  RollbackRequest,
} from "./requests.ts";

/** Invalid input with the field errors the API returns beside the message. */
export class FieldErrors extends InvalidInputError {
  readonly errors: ValidationIssue[];
  constructor(message: string, errors: ValidationIssue[]) {
    super(message);
    this.errors = errors;
  }
}

/** One row of the timeline. */
export interface RevisionSummary {
  seq: number;
  at: string;
  author: string;
  message: string;
  base: number;
  /** What the event does, e.g. `put app,web; delete old`. */
  change: string;
  rollback_of?: number;
  import_of?: string;
}

/** A plan as the API returns it: data for the page and the CLI's text. */
export interface PlanView {
  base: number;
  head: number;
  plan: Plan;
  text: string;
}

/** An import's plan: what the logagent value adds or replaces, and where it came from. */
export interface ImportPlanView extends PlanView {
  /** Recorded in the event: `<format>:<etcd key or file name>`. */
  import_of: string;
  /** How many sources the value holds. */
  sources: number;
}

/** The outcome of an apply or a rollback. */
export interface WriteResult extends PlanView {
  /** The appended event; null when there was nothing to change. */
  appended: ConfigEvent | null;
  /** False when the same change had already been appended (idempotency key). */
  created: boolean;
}

/**
 * What an event changes, in a few words (the CHANGE column of `config:history`).
 *
 * @example
 * ```ts
 * import { summarizeChange } from "./config_api.ts";
 * summarizeChange([{ op: "delete_source", id: "old" }]); // "delete old"
 * ```
 */
export function summarizeChange(ops: Op[], rollbackOf?: number): string {
  if (rollbackOf !== undefined) return `rollback to ${rollbackOf}`;
  const ids = (kind: "put_source" | "delete_source") =>
    ops.flatMap((o) =>
      o.op === kind ? [o.op === "put_source" ? o.source.id : (o as { id: string }).id] : []
    );
  const parts: string[] = [];
  if (ops.some((o) => o.op === "replace")) parts.push("replace all");
  if (ids("put_source").length) parts.push(`put ${ids("put_source").join(", ")}`);
  if (ids("delete_source").length) parts.push(`delete ${ids("delete_source").join(", ")}`);
  if (ops.some((o) => o.op === "set_defaults")) parts.push("defaults");
  return parts.join("; ");
}

/**
 * The idempotency key of a console write: the same change, on the same base, by the same author,
 * for the same reason is appended once, so a double click or a retried request never appends twice.
 */
export function writeId(base: number, ops: Op[], author: string, message: string): string {
  const digest = createHash("sha256").update(canonicalJson({ base, ops, author, message }))
    .digest("hex");
  return `console-${digest.slice(0, 24)}`;
}

/** The newest revisions first (at most `limit`, at or below `before`), with the head. */
export async function readHistory(
  plane: ConfigPlane,
  options: { limit: number; before?: number },
): Promise<{ head: number; revisions: RevisionSummary[] }> {
  const head = await plane.head();
  const events = await plane.history({ limit: options.limit, before: options.before ?? head });
  return {
    head,
    revisions: events.map((e) => {
      const row: RevisionSummary = {
        seq: e.seq,
        at: e.at,
        author: e.author,
        message: e.message,
        base: e.base,
        change: summarizeChange(e.ops, e.rollback_of),
      };
      if (e.rollback_of !== undefined) row.rollback_of = e.rollback_of;
      if (e.import_of !== undefined) row.import_of = e.import_of;
      return row;
    }),
  };
}

/** The state at `seq` (as data and YAML) and the event that made it. */
export async function readRevision(plane: ConfigPlane, seq: number) {
  const head = await plane.head();
  const state = await plane.stateAt(seq, head); // InvalidInputError past the head
  const event = seq > 0 ? (await plane.event(seq)) ?? null : null;
  return { seq, head, event, state, yaml: toYaml(state) };
}

/** What changes from revision `from` to revision `to`. */
export async function readDiff(plane: ConfigPlane, from: number, to: number) {
  const head = await plane.head();
  const [a, b] = await Promise.all([plane.stateAt(from, head), plane.stateAt(to, head)]);
  const plan = planChanges(a, b);
  return { from, to, head, plan, text: formatPlan(plan) };
}

function parseState(request: PlanRequest) {
  const result = checkStateText(request.text, request.filename); // unparseable → InvalidInputError
  if (!result.ok) {
    throw new FieldErrors(
      `${request.filename} is not a valid desired state:\n${result.message}`,
      result.errors,
    );
  }
  return result.state;
}

/** The head and the state at `base` (default: the head); a base past the head is invalid. */
async function baseState(plane: ConfigPlane, base: number | undefined) {
  const head = await plane.head();
  const at = base ?? head;
  if (at > head) {
    throw new FieldErrors(`revision ${at} does not exist: the head is ${head}.`, [
      { path: "base", message: `is past the head (${head})` },
    ]);
  }
  return { head, base: at, current: await plane.stateAt(at, head) };
}

async function headMoved(plane: ConfigPlane, base: number): Promise<ConflictError> {
  const head = await plane.head();
  const latest = head > 0 ? await plane.event(head) : undefined;
  const by = latest ? ` by ${latest.author} at ${latest.at} ("${latest.message}")` : "";
  return new ConflictError(
    `the config head moved: the change was planned against revision ${base}, but the head is now ` +
      `revision ${head}${by}. Nothing was appended; plan again against the new head and review it.`,
  );
}

/** The plan of making `request.text` the config, against the head. Invalid text → FieldErrors. */
export async function planText(plane: ConfigPlane, request: PlanRequest): Promise<PlanView> {
  const desired = parseState(request);
  const { head, base, current } = await baseState(plane, undefined);
  const plan = planChanges(current, desired);
  return { base, head, plan, text: formatPlan(plan) };
}

async function commit(
  plane: ConfigPlane,
  view: PlanView,
  input: {
    ops: Op[];
    author: string;
    message: string;
    idText: string;
    rollback_of?: number;
    import_of?: string;
  },
): Promise<WriteResult> {
  // Planned on an old head: the append below still goes first, so that a retry of a write that
  // went through answers "already applied" (same idempotency key) rather than a conflict.
  if (view.plan.empty) {
    if (view.base < view.head) throw await headMoved(plane, view.base);
    return { ...view, appended: null, created: false };
  }
  try {
    const { event, created } = await plane.append({
      base: view.base,
      ops: input.ops,
      author: input.author,
      message: input.message,
      id: writeId(view.base, input.ops, input.author, input.idText),
      rollback_of: input.rollback_of,
      import_of: input.import_of,
    });
    return { ...view, appended: event, created };
  } catch (error) {
    if (error instanceof ConflictError) throw await headMoved(plane, view.base);
    throw error;
  }
}

/**
 * Appends `request.text` as the new revision, planned against `request.base` (the plan the user
 * reviewed): ConflictError when the head moved since, FieldErrors when the text is invalid.
 */
export async function applyText(
  plane: ConfigPlane,
  request: ApplyRequest,
  author: string,
): Promise<WriteResult> {
  const desired = parseState(request);
  const { head, base, current } = await baseState(plane, request.base);
  const plan = planChanges(current, desired);
  return await commit(plane, { base, head, plan, text: formatPlan(plan) }, {
    ops: opsForPlan(plan, desired),
    author,
    message: request.message,
    idText: request.message,
  });
}

/** Appends a revision restoring the state of `request.revision` (history is kept). */
export async function rollbackTo(
  plane: ConfigPlane,
  request: RollbackRequest,
  author: string,
): Promise<WriteResult> {
  const { head, base, current } = await baseState(plane, request.base);
  if (request.revision > head) {
    throw new FieldErrors(`revision ${request.revision} does not exist: the head is ${head}.`, [
      { path: "revision", message: `is past the head (${head})` },
    ]);
  }
  const target = await plane.stateAt(request.revision, head);
  const plan = planChanges(current, target);
  const ops: Op[] = [{ op: "replace", state: target }];
  return await commit(plane, { base, head, plan, text: formatPlan(plan) }, {
    ops,
    author,
    message: request.message,
    idText: `rollback ${request.revision}: ${request.message}`,
    rollback_of: request.revision,
  });
}

/**
 * Checks desired-state text without touching etcd (`config:validate`): the source count when it
 * is valid, FieldErrors listing every problem when not.
 *
 * @example
 * ```ts
 * import { validateText } from "./config_api.ts";
 * validateText({ text: "sources: []", filename: "pasted.yaml" }); // { ok: true, sources: 0, defaults: false }
 * ```
 */
export function validateText(
  request: PlanRequest,
): { ok: true; sources: number; defaults: boolean } {
  const state = parseState(request);
  return { ok: true, sources: state.sources.length, defaults: state.defaults !== undefined };
}

/** The ops of the logagent value of `request` and where it came from (`config:import`'s reading). */
async function importOps(
  plane: ConfigPlane,
  request: ImportRequest,
): Promise<{ ops: Op[]; origin: string }> {
  if (request.key !== undefined) {
    const ops = await readLogagentOps(plane, request.format, request.key, request.host);
    if (!ops) {
      const below = request.format === "logagent-host-key"
        ? " (nor /<ip>/logconfig keys below it)"
        : "";
      throw new FieldErrors(
        `${request.key}: no etcd key with a value there${below}. ` +
          "Check the key with 'etcdctl get --prefix /logagent'.",
        [{ path: "key", message: `has no value in etcd${below}` }],
      );
    }
    return { ops, origin: request.key };
  }
  const origin = request.filename ?? "pasted";
  return {
    ops: logagentOpsFromText(request.format, request.text ?? "", { origin, host: request.host }),
    origin,
  };
}

function checkedState(state: DesiredState): DesiredState {
  const result = validateState(state);
  if (!result.ok) {
    throw new FieldErrors(
      "the imported sources would leave the config invalid; fix the logagent value",
      result.errors,
    );
  }
  return state;
}

async function planImportAt(plane: ConfigPlane, request: ImportRequest, base?: number) {
  const { ops, origin } = await importOps(plane, request);
  const { head, base: at, current } = await baseState(plane, base);
  // Imported sources are added to (or replace same-id sources of) the state, as config:import does.
  const plan = planChanges(current, checkedState(foldOps(ops, current)));
  const view: ImportPlanView = {
    base: at,
    head,
    plan,
    text: formatPlan(plan),
    import_of: `${request.format}:${origin}`,
    sources: ops.length,
  };
  return { view, ops, origin };
}

/**
 * The plan of importing a Go logagent value (pasted text or an etcd key) against the head: the
 * same reading, conversion and folding as `config:import`.
 */
export function planImport(plane: ConfigPlane, request: ImportRequest): Promise<ImportPlanView> {
  return planImportAt(plane, request).then((r) => r.view);
}

/**
 * Appends the import planned against `request.base`: ConflictError when the head moved since,
 * nothing when the sources are already there (an import is idempotent, like `config:import`).
 */
export async function applyImport(
  plane: ConfigPlane,
  request: ImportApplyRequest,
  author: string,
): Promise<WriteResult & ImportPlanView> {
  const { view, ops, origin } = await planImportAt(plane, request, request.base);
  const message = request.message ?? `import ${request.format} from ${origin}`;
  const result = await commit(plane, view, {
    ops,
    author,
    message,
    idText: `import ${view.import_of}: ${message}`,
    import_of: view.import_of,
  });
  return { ...view, ...result };
}
