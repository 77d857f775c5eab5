/**
 * What the console does with the config plane: the revision timeline, a revision's state, the
 * diff of two revisions, plan → apply of a desired-state text, rollback and import. Changes are
 * planned and committed by config_plane/change.ts, as `config:*` does (config_plane/main.ts);
 * this module reads the requests and answers data.
 * @module
 */
import { stringify as toYaml } from "yaml";
import {
  commitChange,
  type CommittedChange,
  type ConfigEvent,
  type ConfigPlane,
  FieldErrors,
  formatPlan,
  logagentOpsFromText,
  type Op,
  type Plan,
  planApply,
  planChanges,
  planImport as planImportChange,
  type PlannedChange,
  planRollback,
  readLogagentOps,
  type RevisionSummary,
  summarizeRevision,
} from "../config_plane/mod.ts";
import { checkStateText } from "../config_plane/state_file.ts";
import type {
  ApplyRequest,
  ImportApplyRequest,
  ImportRequest,
  PlanRequest,
  RollbackRequest,
} from "./requests.ts";

export { FieldErrors, type RevisionSummary };

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

/** A plan as the API answers it. */
function planView(change: PlannedChange): PlanView {
  return { base: change.base, head: change.head, plan: change.plan, text: formatPlan(change.plan) };
}

/** A committed change as the API answers it. */
function writeResult(change: CommittedChange): WriteResult {
  return {
    ...planView(change),
    appended: change.appended?.event ?? null,
    created: change.appended?.created ?? false,
  };
}

/** The newest revisions first (at most `limit`, at or below `before`), with the head. */
export async function readHistory(
  plane: ConfigPlane,
  options: { limit: number; before?: number },
): Promise<{ head: number; revisions: RevisionSummary[] }> {
  const head = await plane.head();
  const events = await plane.history({ limit: options.limit, before: options.before ?? head });
  return { head, revisions: events.map(summarizeRevision) };
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

/** The plan of making `request.text` the config, against the head. Invalid text → FieldErrors. */
export async function planText(plane: ConfigPlane, request: PlanRequest): Promise<PlanView> {
  return planView(await planApply(plane, parseState(request)));
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
  const change = await planApply(plane, parseState(request), request.base);
  return writeResult(await commitChange(plane, change, { author, message: request.message }));
}

/** Appends a revision restoring the state of `request.revision` (history is kept). */
export async function rollbackTo(
  plane: ConfigPlane,
  request: RollbackRequest,
  author: string,
): Promise<WriteResult> {
  const change = await planRollback(plane, request.revision, request.base);
  return writeResult(await commitChange(plane, change, { author, message: request.message }));
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

async function planImportAt(plane: ConfigPlane, request: ImportRequest, base?: number) {
  const { ops, origin } = await importOps(plane, request);
  const importOf = `${request.format}:${origin}`;
  // Imported sources are added to (or replace same-id sources of) the state, as config:import does.
  const change = await planImportChange(plane, ops, importOf, base);
  const view: ImportPlanView = { ...planView(change), import_of: importOf, sources: ops.length };
  return { change, view, origin };
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
  const { change, view, origin } = await planImportAt(plane, request, request.base);
  const message = request.message ?? `import ${request.format} from ${origin}`;
  return { ...view, ...writeResult(await commitChange(plane, change, { author, message })) };
}
