/**
 * The one validator of sluice: the JSON Schemas of this folder (draft 2020-12, ajv) plus the few
 * checks a schema cannot express (unique ids, regexes that compile, time formats and zones that
 * the agent can use, a topic for every source, no two topics Kafka takes for the same).
 * Every error names the field path and what is wrong, so the CLI and the agent can show it as is.
 * @module
 */
import Ajv2020 from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import sourceSchema from "./source.schema.json" with { type: "json" };
import desiredStateSchema from "./desired-state.schema.json" with { type: "json" };
import eventSchema from "./event.schema.json" with { type: "json" };
import agentStatusSchema from "./agent-status.schema.json" with { type: "json" };
import type { AgentStatus, ConfigEvent, DesiredState, Source } from "../config_plane/types.ts";
// The agent's own compiler checks formats and zones: what validates is exactly what runs.
import { timestampSpecIssues } from "../agent/event_time.ts";

/** One thing wrong with a value: where (`sources[2].rate.lines_per_sec`) and what. */
export interface ValidationIssue {
  /** Field path in dotted/bracket form; `(top level)` for the value itself. */
  path: string;
  message: string;
}

/** The outcome of a validation: the typed value, or every issue found. */
export type ValidationResult<T> =
  | { ok: true; value: T }
  | { ok: false; errors: ValidationIssue[] };

// deno-lint-ignore no-explicit-any
const AjvClass = (Ajv2020 as any).default ?? Ajv2020;
const ajv = new AjvClass({
  allErrors: true,
  discriminator: true,
  strict: true,
  verbose: true,
  // `add_fields` values may be a string, a number or true/false.
  allowUnionTypes: true,
});
ajv.addSchema([sourceSchema, desiredStateSchema, eventSchema, agentStatusSchema]);

function compiled(id: string): ValidateFunction {
  const fn = ajv.getSchema(id);
  if (!fn) throw new Error(`schema ${id} is not registered`);
  return fn;
}
const validators = {
  source: compiled(sourceSchema.$id),
  state: compiled(desiredStateSchema.$id),
  event: compiled(eventSchema.$id),
  agent: compiled(agentStatusSchema.$id),
};

/** `/sources/0/rate` → `sources[0].rate`. */
function formatPath(pointer: string, child?: string): string {
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (child !== undefined) parts.push(child);
  let out = "";
  for (const part of parts) {
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out || "(top level)";
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  const text = JSON.stringify(value);
  return `${typeof value} ${text && text.length > 60 ? text.slice(0, 57) + "..." : text}`;
}

/** Levenshtein distance, to suggest the field a typo meant. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

const article: Record<string, string> = {
  object: "an object",
  array: "a list",
  string: "a string",
  number: "a number",
  integer: "a whole number",
  boolean: "true or false",
};

function issueFromAjv(error: ErrorObject): ValidationIssue | undefined {
  const p = error.params as Record<string, unknown>;
  const schema = error.parentSchema as { description?: string; properties?: object } | undefined;
  switch (error.keyword) {
    case "required":
      return {
        path: formatPath(error.instancePath, String(p.missingProperty)),
        message: "is required but missing",
      };
    case "additionalProperties": {
      const known = schema?.properties ? Object.keys(schema.properties) : [];
      const field = String(p.additionalProperty);
      const near = known.find((k) => editDistance(k, field) <= 2);
      return {
        path: formatPath(error.instancePath, field),
        message: `is not a known field${near ? `; did you mean "${near}"?` : ""}${
          known.length > 0 ? ` (known fields: ${known.join(", ")})` : ""
        }`,
      };
    }
    case "type":
      return {
        path: formatPath(error.instancePath),
        message: `must be ${
          String(p.type).split(",").map((t) => article[t] ?? t).join(" or ")
        }, got ${describe(error.data)}`,
      };
    case "enum":
      return {
        path: formatPath(error.instancePath),
        message: `must be one of ${
          (p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")
        }, got ${describe(error.data)}`,
      };
    case "const":
      return {
        path: formatPath(error.instancePath),
        message: `must be ${JSON.stringify(p.allowedValue)}, got ${describe(error.data)}`,
      };
    case "pattern": {
      const why = (error.parentSchema as { description?: string } | undefined)?.description;
      return {
        path: formatPath(error.instancePath),
        message: `${describe(error.data)} is not allowed here${
          why ? `: ${why}` : ` (must match ${p.pattern})`
        }`,
      };
    }
    case "discriminator":
      // An unknown kind is already reported by the enum beside the discriminator.
      return p.error === "mapping" ? undefined : {
        path: formatPath(error.instancePath, String(p.tag)),
        message: "must be a string naming the kind",
      };
    case "minItems":
      return {
        path: formatPath(error.instancePath),
        message: `must have at least ${p.limit} item(s)`,
      };
    case "minProperties":
      return {
        path: formatPath(error.instancePath),
        message: `must have at least ${p.limit} field(s)`,
      };
    case "minLength":
      return { path: formatPath(error.instancePath), message: "must not be empty" };
    case "maxLength":
      return {
        path: formatPath(error.instancePath),
        message: `must be at most ${p.limit} characters`,
      };
    case "minimum":
    case "exclusiveMinimum":
      return {
        path: formatPath(error.instancePath),
        message: `must be ${p.comparison} ${p.limit}, got ${describe(error.data)}`,
      };
    case "oneOf":
    case "if":
      return undefined; // the branch's own errors say more
    default:
      return { path: formatPath(error.instancePath), message: error.message ?? error.keyword };
  }
}

function schemaIssues(fn: ValidateFunction, value: unknown): ValidationIssue[] {
  if (fn(value)) return [];
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const error of fn.errors ?? []) {
    const issue = issueFromAjv(error);
    if (!issue) continue;
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues.length > 0 ? issues : [{ path: "(top level)", message: "is not valid" }];
}

function regexIssue(
  pattern: string,
  path: string,
  needsNamedGroup: boolean,
): ValidationIssue | undefined {
  try {
    new RegExp(pattern);
  } catch (error) {
    return { path, message: `is not a valid regular expression: ${(error as Error).message}` };
  }
  if (needsNamedGroup && !/\(\?<[A-Za-z_$][\w$]*>/.test(pattern)) {
    return { path, message: "must have at least one named group, e.g. (?<status>\\d{3})" };
  }
  return undefined;
}

/** The named groups of a regex, or undefined when it does not compile. */
function namedGroups(pattern: string): Set<string> | undefined {
  try {
    new RegExp(pattern);
  } catch {
    return undefined;
  }
  return new Set([...pattern.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]));
}

const NEEDS_PARSER = "needs parsed fields: set parser to json or regex";

/** The event time's field, formats and zone (compiled by the agent's own code). */
function timestampIssues(source: Source, at: string): ValidationIssue[] {
  const spec = source.timestamp;
  if (!spec) return [];
  const here = `${at}.timestamp`;
  const issues = timestampSpecIssues(spec).map((i) => ({
    path: `${here}.${i.path}`,
    message: i.message,
  }));
  const parser = source.parser?.type ?? "none";
  if (parser === "none") {
    issues.push({
      path: `${here}.field`,
      message: `${JSON.stringify(spec.field)} ${NEEDS_PARSER}`,
    });
  } else if (source.parser?.type === "regex") {
    // The time is read before the processors run, so only the parser's groups can hold it.
    const groups = namedGroups(source.parser.pattern);
    const top = spec.field.split(".")[0];
    if (groups && !groups.has(spec.field) && !groups.has(top)) {
      issues.push({
        path: `${here}.field`,
        message: `${JSON.stringify(spec.field)} is not a named group of parser.pattern (groups: ${
          [...groups].join(", ")
        })`,
      });
    }
  }
  return issues;
}

/** Regexes that must compile, and fields that need a parser (or an earlier add_fields). */
function processorIssues(source: Source, at: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  let hasFields = (source.parser?.type ?? "none") !== "none";
  source.processors?.forEach((step, i) => {
    const here = `${at}.processors[${i}]`;
    if (step.type === "add_fields") {
      hasFields = true;
      return;
    }
    if (step.type === "convert") {
      if (!hasFields) issues.push({ path: `${here}.fields`, message: NEEDS_PARSER });
      return;
    }
    try {
      new RegExp(step.pattern, step.type === "redact" ? "g" : "");
    } catch (error) {
      issues.push({
        path: `${here}.pattern`,
        message: `is not a valid regular expression: ${(error as Error).message}`,
      });
    }
    if (step.type !== "redact" && step.field !== undefined && !hasFields) {
      issues.push({
        path: `${here}.field`,
        message: `${JSON.stringify(step.field)} ${NEEDS_PARSER}`,
      });
    }
  });
  return issues;
}

/** Checks of one (schema-valid) source that JSON Schema cannot express. */
function sourceSemanticIssues(source: Source, at: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (source.multiline) {
    const i = regexIssue(source.multiline.start_pattern, `${at}.multiline.start_pattern`, false);
    if (i) issues.push(i);
  }
  if (source.parser?.type === "regex") {
    const i = regexIssue(source.parser.pattern, `${at}.parser.pattern`, true);
    if (i) issues.push(i);
  }
  issues.push(...timestampIssues(source, at), ...processorIssues(source, at));
  return issues;
}

/** Kafka's longest topic name. */
const MAX_TOPIC_LENGTH = 249;

/**
 * Why Kafka would refuse `name` as a topic, or undefined when it takes it: empty, `.` or `..`,
 * longer than 249 characters, or a character outside letters, digits, `.`, `_` and `-` (the
 * checks of Kafka's `Topic.validate`; the schemas' `topic` pattern says the same).
 *
 * @example
 * ```ts
 * import { kafkaTopicIssue } from "./validate.ts";
 * kafkaTopicIssue("logs.app"); // undefined
 * kafkaTopicIssue(".."); // "'..' is not allowed as a Kafka topic name"
 * ```
 */
export function kafkaTopicIssue(name: string): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (name === "." || name === "..") return `'${name}' is not allowed as a Kafka topic name`;
  if (name.length > MAX_TOPIC_LENGTH) {
    return `is ${name.length} characters; a Kafka topic has at most ${MAX_TOPIC_LENGTH}`;
  }
  const bad = /[^a-zA-Z0-9._-]/.exec(name);
  if (bad) {
    return `has ${
      JSON.stringify(bad[0])
    }; a Kafka topic uses only letters, digits, '.', '_' and '-'`;
  }
  return undefined;
}

/**
 * Topic names Kafka cannot hold side by side: it treats `.` and `_` alike (its metric names
 * cannot tell them apart), so `app.logs` and `app_logs` collide and the second is refused. For
 * every name that collides with an earlier one, its path and the earlier one's.
 */
function topicCollisions(named: { topic: string; path: string }[]): ValidationIssue[] {
  const first = new Map<string, { topic: string; path: string }>();
  const issues: ValidationIssue[] = [];
  for (const n of named) {
    const key = n.topic.replaceAll(".", "_");
    const earlier = first.get(key);
    if (!earlier) first.set(key, n);
    else if (earlier.topic !== n.topic) {
      issues.push({
        path: n.path,
        message:
          `${JSON.stringify(n.topic)} collides with ${
            JSON.stringify(earlier.topic)
          } of ${earlier.path}: Kafka treats '.' and '_' alike in topic names and refuses the ` +
          "second; spell both the same way",
      });
    }
  }
  return issues;
}

/** Checks of a (schema-valid) desired state that JSON Schema cannot express. */
function stateSemanticIssues(state: DesiredState, at: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const named: { topic: string; path: string }[] = [];
  const firstIndex = new Map<string, number>();
  const prefix = at ? `${at}.` : "";
  state.sources.forEach((source, i) => {
    const here = `${prefix}sources[${i}]`;
    const earlier = firstIndex.get(source.id);
    if (earlier !== undefined) {
      issues.push({
        path: `${here}.id`,
        message:
          `duplicates id "${source.id}" of ${prefix}sources[${earlier}]; every source needs its own id`,
      });
    } else firstIndex.set(source.id, i);
    if (!source.topic && !state.defaults?.topic) {
      issues.push({
        path: `${here}.topic`,
        message: "is missing and there is no defaults.topic; set one of them",
      });
    }
    if (source.topic) named.push({ topic: source.topic, path: `${here}.topic` });
    issues.push(...sourceSemanticIssues(source, here));
  });
  if (state.defaults?.topic) {
    named.unshift({ topic: state.defaults.topic, path: `${prefix}defaults.topic` });
  }
  issues.push(...topicCollisions(named));
  return issues;
}

function result<T>(value: unknown, issues: ValidationIssue[]): ValidationResult<T> {
  return issues.length === 0 ? { ok: true, value: value as T } : { ok: false, errors: issues };
}

/**
 * Validates a whole desired state (what `config:apply FILE` takes, what a fold produces).
 *
 * @example
 * ```ts
 * import { validateState } from "./validate.ts";
 * const r = validateState({ sources: [{ id: "app", paths: ["/var/log/app.log"], topic: "logs" }] });
 * // r.ok === true
 * const bad = validateState({ sources: [{ id: "App!", paths: [] }] });
 * // bad.ok === false; bad.errors[0].path === "sources[0].id"
 * ```
 */
export function validateState(value: unknown): ValidationResult<DesiredState> {
  const issues = schemaIssues(validators.state, value);
  if (issues.length > 0) return result(value, issues);
  return result(value, stateSemanticIssues(value as DesiredState, ""));
}

/**
 * Validates one source on its own (its topic may still come from the defaults).
 *
 * @example
 * ```ts
 * import { validateSource } from "./validate.ts";
 * validateSource({ id: "app", paths: ["/var/log/app.log"] }).ok; // true
 * ```
 */
export function validateSource(value: unknown): ValidationResult<Source> {
  const issues = schemaIssues(validators.source, value);
  if (issues.length > 0) return result(value, issues);
  return result(value, sourceSemanticIssues(value as Source, "(source)"));
}

/**
 * Validates a config event as stored in etcd.
 *
 * @example
 * ```ts
 * import { validateEvent } from "./validate.ts";
 * validateEvent({
 *   seq: 1, id: "k1", at: "2025-01-01T00:00:00Z", author: "ann", message: "first", base: 0,
 *   ops: [{ op: "delete_source", id: "old" }],
 * }).ok; // true
 * ```
 */
export function validateEvent(value: unknown): ValidationResult<ConfigEvent> {
  const issues = schemaIssues(validators.event, value);
  if (issues.length > 0) return result(value, issues);
  const event = value as ConfigEvent;
  if (Number.isNaN(Date.parse(event.at))) {
    issues.push({ path: "at", message: `must be an ISO 8601 time, got ${describe(event.at)}` });
  }
  event.ops.forEach((op, i) => {
    if (op.op === "put_source") issues.push(...sourceSemanticIssues(op.source, `ops[${i}].source`));
    if (op.op === "replace") issues.push(...stateSemanticIssues(op.state, `ops[${i}].state`));
  });
  return result(value, issues);
}

/**
 * Validates what an agent reports under `agents/<agent id>`.
 *
 * @example
 * ```ts
 * import { validateAgentStatus } from "./validate.ts";
 * validateAgentStatus({ agent_id: "web-1" }).ok; // false: host, labels, seq... are missing
 * ```
 */
export function validateAgentStatus(value: unknown): ValidationResult<AgentStatus> {
  return result(value, schemaIssues(validators.agent, value));
}

/**
 * The issues as lines for an operator, each prefixed with where the value came from.
 *
 * @example
 * ```ts
 * import { formatIssues } from "./validate.ts";
 * formatIssues([{ path: "sources[0].id", message: "is required but missing" }], "fleet.yaml");
 * // "fleet.yaml: sources[0].id is required but missing"
 * ```
 */
export function formatIssues(issues: ValidationIssue[], origin: string): string {
  return issues.map((i) => `${origin}: ${i.path} ${i.message}`).join("\n");
}
