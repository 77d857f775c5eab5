/**
 * Checking the bodies and parameters of the console's write and read requests before anything
 * touches etcd or the search engine. Pure: each returns the typed request or the field errors
 * that the API sends back as a 400.
 * @module
 */
import {
  LOGAGENT_FORMATS,
  type LogagentFormat,
  type ValidationIssue,
} from "../config_plane/mod.ts";

/** A checked request, or every problem found with it. */
export type Checked<T> = { ok: true; value: T } | { ok: false; errors: ValidationIssue[] };

/** `POST /api/config/plan`: desired-state text, as pasted or uploaded. */
export interface PlanRequest {
  text: string;
  /** The uploaded file's name; `.json` is parsed as JSON, anything else as YAML. */
  filename: string;
}

/** `POST /api/config/apply`: the reviewed plan's text and base, and why. */
export interface ApplyRequest extends PlanRequest {
  message: string;
  /** The head the plan was made on; the apply is a conflict (409) if the head moved. */
  base: number;
  author?: string;
}

/** `POST /api/config/rollback`. */
export interface RollbackRequest {
  revision: number;
  message: string;
  /** When given, a conflict (409) if the head is no longer this revision. */
  base?: number;
  author?: string;
}

/**
 * `POST /api/config/import/plan`: a Go logagent value to import, given as JSON text (pasted or
 * uploaded) or as the etcd key to read it from.
 */
export interface ImportRequest {
  format: LogagentFormat;
  /** The value as JSON text; exactly one of `text` and `key`. */
  text?: string;
  /** The etcd key holding the value (for `logagent-host-key` also a prefix such as /logagent). */
  key?: string;
  /** `logagent-host-key`: the host the entries belong to (default: the <ip> of the key). */
  host?: string;
  /** The uploaded file's name, naming the origin of `text` (default "pasted"). */
  filename?: string;
}

/** `POST /api/config/import`: the reviewed import, its base, and why. */
export interface ImportApplyRequest extends ImportRequest {
  /** The head the plan was made on; the import is a conflict (409) if the head moved. */
  base: number;
  /** Why; default `import <format> from <key or file name>` as `config:import` says. */
  message?: string;
  author?: string;
}

/** Largest desired-state text accepted: etcd refuses larger requests anyway. */
export const MAX_STATE_TEXT = 1_572_864;

function record(body: unknown): Record<string, unknown> | undefined {
  return typeof body === "object" && body !== null && !Array.isArray(body)
    ? body as Record<string, unknown>
    : undefined;
}

function revisionField(
  value: unknown,
  path: string,
  errors: ValidationIssue[],
): number | undefined {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    errors.push({ path, message: "must be a revision number (a whole number ≥ 0)" });
    return undefined;
  }
  return n;
}

function optionalAuthor(body: Record<string, unknown>, errors: ValidationIssue[]) {
  if (body.author === undefined || body.author === null || body.author === "") return undefined;
  if (typeof body.author !== "string" || body.author.trim().length > 200) {
    errors.push({ path: "author", message: "must be a name of at most 200 characters" });
    return undefined;
  }
  return body.author.trim();
}

function requiredMessage(body: Record<string, unknown>, errors: ValidationIssue[]): string {
  const message = typeof body.message === "string" ? body.message.trim() : "";
  if (!message) {
    errors.push({
      path: "message",
      message: "is required: say why the change is made; it is kept in the history",
    });
  }
  return message;
}

function stateText(body: Record<string, unknown>, errors: ValidationIssue[]): PlanRequest {
  const filename = typeof body.filename === "string" && body.filename.trim()
    ? body.filename.trim()
    : "pasted.yaml";
  if (typeof body.text !== "string" || body.text.trim() === "") {
    errors.push({ path: "text", message: "is required: paste or upload a desired-state file" });
    return { text: "", filename };
  }
  if (body.text.length > MAX_STATE_TEXT) {
    errors.push({ path: "text", message: `is longer than ${MAX_STATE_TEXT} characters` });
  }
  return { text: body.text, filename };
}

const NOT_AN_OBJECT: Checked<never> = {
  ok: false,
  errors: [{ path: "(top level)", message: "the request body must be a JSON object" }],
};

/**
 * Checks a plan request.
 *
 * @example
 * ```ts
 * import { checkPlanRequest } from "./requests.ts";
 * checkPlanRequest({ text: "sources: []" }); // { ok: true, value: { text: "sources: []", filename: "pasted.yaml" } }
 * ```
 */
export function checkPlanRequest(body: unknown): Checked<PlanRequest> {
  const b = record(body);
  if (!b) return NOT_AN_OBJECT;
  const errors: ValidationIssue[] = [];
  const value = stateText(b, errors);
  return errors.length ? { ok: false, errors } : { ok: true, value };
}

/**
 * Checks an apply request: text, message and base are required.
 *
 * @example
 * ```ts
 * import { checkApplyRequest } from "./requests.ts";
 * checkApplyRequest({ text: "sources: []", base: 3 }).ok; // false: message is missing
 * ```
 */
export function checkApplyRequest(body: unknown): Checked<ApplyRequest> {
  const b = record(body);
  if (!b) return NOT_AN_OBJECT;
  const errors: ValidationIssue[] = [];
  const text = stateText(b, errors);
  const message = requiredMessage(b, errors);
  const base = revisionField(b.base, "base", errors);
  const author = optionalAuthor(b, errors);
  if (errors.length) return { ok: false, errors };
  return { ok: true, value: { ...text, message, base: base!, author } };
}

/**
 * Checks a rollback request: revision and message are required, base is optional.
 *
 * @example
 * ```ts
 * import { checkRollbackRequest } from "./requests.ts";
 * checkRollbackRequest({ revision: 2, message: "the rate overloads Kafka" }).ok; // true
 * ```
 */
export function checkRollbackRequest(body: unknown): Checked<RollbackRequest> {
  const b = record(body);
  if (!b) return NOT_AN_OBJECT;
  const errors: ValidationIssue[] = [];
  const revision = revisionField(b.revision, "revision", errors);
  const message = requiredMessage(b, errors);
  const base = b.base === undefined || b.base === null || b.base === ""
    ? undefined
    : revisionField(b.base, "base", errors);
  const author = optionalAuthor(b, errors);
  if (errors.length) return { ok: false, errors };
  return { ok: true, value: { revision: revision!, message, base, author } };
}

function importSource(b: Record<string, unknown>, errors: ValidationIssue[]): ImportRequest {
  const format = b.format as LogagentFormat;
  if (!LOGAGENT_FORMATS.includes(format)) {
    errors.push({ path: "format", message: `must be one of: ${LOGAGENT_FORMATS.join(", ")}` });
  }
  const given = (v: unknown) => v !== undefined && v !== null && v !== "";
  const value: ImportRequest = { format };
  if (given(b.text) === given(b.key)) {
    errors.push({
      path: "text",
      message:
        "or key: give exactly one, the logagent value as JSON text or the etcd key it is under",
    });
  }
  if (given(b.text)) {
    if (typeof b.text !== "string" || b.text.trim() === "") {
      errors.push({ path: "text", message: "must be the logagent value as JSON text" });
    } else if (b.text.length > MAX_STATE_TEXT) {
      errors.push({ path: "text", message: `is longer than ${MAX_STATE_TEXT} characters` });
    } else value.text = b.text;
  }
  if (given(b.key)) {
    if (typeof b.key !== "string" || b.key.trim() === "" || b.key.trim().length > 1024) {
      errors.push({
        path: "key",
        message: "must be an etcd key such as /logagent/10.0.0.5/logconfig",
      });
    } else value.key = b.key.trim();
  }
  if (given(b.host)) {
    if (typeof b.host !== "string" || !/^[^\s/]{1,253}$/.test(b.host.trim())) {
      errors.push({ path: "host", message: "must be a host name or address (no spaces or /)" });
    } else value.host = b.host.trim();
  }
  if (typeof b.filename === "string" && b.filename.trim()) value.filename = b.filename.trim();
  return value;
}

/**
 * Checks an import plan request: a known format and exactly one of `text` and `key`.
 *
 * @example
 * ```ts
 * import { checkImportRequest } from "./requests.ts";
 * checkImportRequest({ format: "logagent-list", key: "/logagent/collect" }).ok; // true
 * ```
 */
export function checkImportRequest(body: unknown): Checked<ImportRequest> {
  const b = record(body);
  if (!b) return NOT_AN_OBJECT;
  const errors: ValidationIssue[] = [];
  const value = importSource(b, errors);
  return errors.length ? { ok: false, errors } : { ok: true, value };
}

/**
 * Checks an import apply request: as a plan request, plus the base of the reviewed plan; the
 * message is optional (the CLI's default names the format and the origin).
 *
 * @example
 * ```ts
 * import { checkImportApplyRequest } from "./requests.ts";
 * checkImportApplyRequest({ format: "logagent-list", key: "/logagent/collect" }).ok; // false: base
 * ```
 */
export function checkImportApplyRequest(body: unknown): Checked<ImportApplyRequest> {
  const b = record(body);
  if (!b) return NOT_AN_OBJECT;
  const errors: ValidationIssue[] = [];
  const value = importSource(b, errors);
  const base = revisionField(b.base, "base", errors);
  if (b.message !== undefined && b.message !== null && typeof b.message !== "string") {
    errors.push({ path: "message", message: "must be text: why the import is made" });
  }
  const message = typeof b.message === "string" && b.message.trim() ? b.message.trim() : undefined;
  const author = optionalAuthor(b, errors);
  if (errors.length) return { ok: false, errors };
  return { ok: true, value: { ...value, base: base!, message, author } };
}

/**
 * A revision from a URL parameter.
 *
 * @example
 * ```ts
 * import { checkRevisionParam } from "./requests.ts";
 * checkRevisionParam("7", "from"); // { ok: true, value: 7 }
 * ```
 */
export function checkRevisionParam(value: string | null, name: string): Checked<number> {
  const errors: ValidationIssue[] = [];
  const n = revisionField(value ?? undefined, name, errors);
  return errors.length ? { ok: false, errors } : { ok: true, value: n! };
}

/**
 * The author recorded for a write: the basic-auth user when there is one (it cannot be
 * overridden), else the request's `author`, else "console".
 *
 * @example
 * ```ts
 * import { authorOf } from "./requests.ts";
 * authorOf(undefined, "ann"); // "ann"
 * authorOf("bob", "ann"); // "bob"
 * ```
 */
export function authorOf(authUser: string | undefined, requested: string | undefined): string {
  return authUser ?? requested ?? "console";
}
