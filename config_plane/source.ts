/**
 * What a source means on one host: its defaults filled in, whether its host selector matches,
 * and the hash of its spec that tells the agent whether a running tail task must restart. Pure.
 * @module
 */
import { createHash } from "node:crypto";
import type { Defaults, DesiredState, HostSelector, Source } from "./types.ts";

/** Lines longer than this are split when neither the source nor the defaults say otherwise. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
/** Multiline defaults from the source model (types.ts). */
export const DEFAULT_MULTILINE_MAX_LINES = 500;
export const DEFAULT_MULTILINE_TIMEOUT_MS = 1000;

/**
 * The source with every default filled in: topic, rate (burst = one second's worth), start_at,
 * fields (the source's own win), max_line_bytes, parser, exclude, enabled; timestamp and
 * processors as given. Pure.
 *
 * @example
 * ```ts
 * import { resolveSource } from "./source.ts";
 * const s = resolveSource({ id: "app", paths: ["/var/log/app.log"] }, { topic: "logs", fields: { env: "prod" } });
 * // s.topic === "logs", s.start_at === "end", s.fields.env === "prod", s.enabled === true
 * ```
 */
export function resolveSource(source: Source, defaults: Defaults = {}): Source {
  const rate = source.rate ?? defaults.rate;
  const resolved: Source = {
    id: source.id,
    paths: [...source.paths],
    exclude: [...(source.exclude ?? [])],
    start_at: source.start_at ?? defaults.start_at ?? "end",
    parser: structuredClone(source.parser ?? { type: "none" }),
    fields: { ...(defaults.fields ?? {}), ...(source.fields ?? {}) },
    enabled: source.enabled ?? true,
    max_line_bytes: source.max_line_bytes ?? defaults.max_line_bytes ?? DEFAULT_MAX_LINE_BYTES,
  };
  const topic = source.topic ?? defaults.topic;
  if (topic !== undefined) resolved.topic = topic;
  if (rate) resolved.rate = { ...rate, burst: rate.burst ?? rate.lines_per_sec };
  if (source.multiline) {
    resolved.multiline = {
      start_pattern: source.multiline.start_pattern,
      max_lines: source.multiline.max_lines ?? DEFAULT_MULTILINE_MAX_LINES,
      timeout_ms: source.multiline.timeout_ms ?? DEFAULT_MULTILINE_TIMEOUT_MS,
    };
  }
  // Event time and processors change what a task sends: they are part of the spec (and its hash).
  if (source.timestamp) resolved.timestamp = structuredClone(source.timestamp);
  if (source.processors?.length) resolved.processors = structuredClone(source.processors);
  if (source.hosts) resolved.hosts = structuredClone(source.hosts);
  if (source.close_inactive) resolved.close_inactive = source.close_inactive;
  if (source.ignore_older) resolved.ignore_older = source.ignore_older;
  return resolved;
}

/** `*` matches any run of characters, `?` one character; everything else literally. */
function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/**
 * Whether a host with these labels runs a source with this selector. No selector = every host;
 * `names` (globs with `*`, any one) and `labels` (all, exact values) must both hold when given.
 *
 * @example
 * ```ts
 * import { matchesHost } from "./source.ts";
 * matchesHost({ names: ["web-*"], labels: { env: "prod" } }, "web-3", { env: "prod", zone: "a" }); // true
 * matchesHost({ labels: { env: "prod" } }, "web-3", { env: "dev" }); // false
 * ```
 */
export function matchesHost(
  selector: HostSelector | undefined,
  host: string,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  if (selector.names && !selector.names.some((glob) => globToRegExp(glob).test(host))) return false;
  for (const [key, value] of Object.entries(selector.labels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return true;
}

/**
 * The sources this host must run: enabled, selector matching, defaults resolved; sorted by id.
 *
 * @example
 * ```ts
 * import { sourcesForHost } from "./source.ts";
 * const state = { defaults: { topic: "logs" }, sources: [
 *   { id: "db", paths: ["/var/log/pg/*.log"], hosts: { labels: { role: "db" } } },
 *   { id: "web", paths: ["/var/log/nginx/*.log"] },
 * ] };
 * sourcesForHost(state, "web-1", { role: "web" }).map((s) => s.id); // ["web"]
 * ```
 */
export function sourcesForHost(
  state: DesiredState,
  host: string,
  labels: Record<string, string>,
): Source[] {
  return state.sources
    .filter((s) => s.enabled !== false && matchesHost(s.hosts, host, labels))
    .map((s) => resolveSource(s, state.defaults))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * JSON with object keys sorted at every level, so equal values serialize equally whatever the
 * key order they were written in.
 *
 * @example
 * ```ts
 * import { canonicalJson } from "./source.ts";
 * canonicalJson({ b: 1, a: { d: 2, c: 3 } }); // '{"a":{"c":3,"d":2},"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * A stable hash (16 hex digits of SHA-256) of what a resolved source makes its tail task do.
 * `hosts` and `enabled` are left out: they decide whether the task runs, not how, so changing a
 * selector that still matches must not restart (and re-read) anything.
 *
 * @example
 * ```ts
 * import { resolveSource, specHash } from "./source.ts";
 * const a = resolveSource({ id: "app", paths: ["/a.log"], topic: "t", fields: { x: "1", y: "2" } });
 * const b = resolveSource({ fields: { y: "2", x: "1" }, topic: "t", paths: ["/a.log"], id: "app" });
 * specHash(a) === specHash(b); // true
 * ```
 */
export function specHash(source: Source): string {
  const { hosts: _hosts, enabled: _enabled, ...spec } = source;
  return createHash("sha256").update(canonicalJson(spec)).digest("hex").slice(0, 16);
}
