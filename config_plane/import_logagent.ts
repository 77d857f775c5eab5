/**
 * Turns the etcd values of the Go `logagent` programs this project replaces into config ops, so
 * their users can move over: `logagent-host-key` (a JSON list of {service, log_path, topic,
 * send_rate} under `/logagent/<ip>/logconfig`) and `logagent-list` (a JSON list of {path, topic}).
 * @module
 */
import { InvalidInputError } from "../core/errors.ts";
import type { Op, Source } from "./types.ts";

export const LOGAGENT_FORMATS = ["logagent-host-key", "logagent-list"] as const;
export type LogagentFormat = typeof LOGAGENT_FORMATS[number];

export interface ImportOptions {
  /** For `logagent-host-key`: the host the key belonged to (the `<ip>` of the key). */
  host?: string;
  /** Where the value came from, for error messages. */
  origin?: string;
}

/**
 * The `<ip>` of a `/logagent/<ip>/logconfig` key, if the key has that shape.
 *
 * @example
 * ```ts
 * import { hostFromLogagentKey } from "./import_logagent.ts";
 * hostFromLogagentKey("/logagent/10.0.0.5/logconfig"); // "10.0.0.5"
 * ```
 */
export function hostFromLogagentKey(key: string): string | undefined {
  return /(?:^|\/)logagent\/([^/]+)\/logconfig\/?$/.exec(key)?.[1];
}

/** A source id from free text: lowercase, runs of other characters become `-`. */
function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_.]+/g, "-").replace(/^[^a-z0-9]+|-+$/g, "").slice(
    0,
    64,
  ) ||
    "source";
}

function entries(value: unknown, origin: string): Record<string, unknown>[] {
  if (!Array.isArray(value)) {
    throw new InvalidInputError(`${origin}: must be a JSON list of entries, got ${typeof value}.`);
  }
  return value.map((entry, i) => {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      throw new InvalidInputError(
        `${origin}: [${i}] must be an object, got ${JSON.stringify(entry)}.`,
      );
    }
    return entry as Record<string, unknown>;
  });
}

function text(entry: Record<string, unknown>, field: string, i: number, origin: string): string {
  const value = entry[field];
  if (typeof value !== "string" || value.trim() === "") {
    throw new InvalidInputError(
      `${origin}: [${i}].${field} must be a non-empty string, got ${
        JSON.stringify(value)
      }; fix the entry or remove it.`,
    );
  }
  return value.trim();
}

function uniqueId(wanted: string, taken: Set<string>): string {
  let id = wanted;
  for (let n = 2; taken.has(id); n++) id = `${wanted.slice(0, 60)}-${n}`;
  taken.add(id);
  return id;
}

/**
 * The `put_source` ops that reproduce a logagent configuration. logagent read new files from
 * their end, so `start_at` is `end`; `send_rate` (lines per second, 0 = unlimited) becomes `rate`.
 * Host-key entries get a host selector on that host and an id `<service>-<host>`. Pure.
 *
 * @example
 * ```ts
 * import { importLogagent } from "./import_logagent.ts";
 * const ops = importLogagent("logagent-host-key", [
 *   { service: "nginx", log_path: "/var/log/nginx/access.log", topic: "web_log", send_rate: 1000 },
 * ], { host: "10.0.0.5" });
 * // ops[0].source: { id: "nginx-10.0.0.5", paths: [...], topic: "web_log", rate: { lines_per_sec: 1000 },
 * //                  hosts: { names: ["10.0.0.5"] }, start_at: "end", fields: { service: "nginx" } }
 * ```
 */
export function importLogagent(
  format: LogagentFormat,
  value: unknown,
  options: ImportOptions = {},
): Op[] {
  const origin = options.origin ?? format;
  const taken = new Set<string>();
  const list = entries(value, origin);
  if (format === "logagent-host-key") {
    return list.map((entry, i) => {
      const service = text(entry, "service", i, origin);
      const source: Source = {
        id: uniqueId(slug(options.host ? `${service}-${options.host}` : service), taken),
        paths: [text(entry, "log_path", i, origin)],
        topic: text(entry, "topic", i, origin),
        start_at: "end",
        fields: { service },
      };
      const rate = entry.send_rate;
      if (rate !== undefined && rate !== null && (typeof rate !== "number" || rate < 0)) {
        throw new InvalidInputError(
          `${origin}: [${i}].send_rate must be a number ≥ 0 (lines per second), got ${
            JSON.stringify(rate)
          }.`,
        );
      }
      if (typeof rate === "number" && rate > 0) source.rate = { lines_per_sec: rate };
      if (options.host) source.hosts = { names: [options.host] };
      return { op: "put_source", source } as Op;
    });
  }
  if (format === "logagent-list") {
    return list.map((entry, i) => {
      const path = text(entry, "path", i, origin);
      const topic = text(entry, "topic", i, origin);
      const base = path.split("/").pop()!.replace(/\.[^.]*$/, "") || "log";
      const source: Source = {
        id: uniqueId(slug(`${topic}-${base}`), taken),
        paths: [path],
        topic,
        start_at: "end",
      };
      return { op: "put_source", source } as Op;
    });
  }
  throw new InvalidInputError(
    `unknown import format ${JSON.stringify(format)}; use one of: ${LOGAGENT_FORMATS.join(", ")}.`,
  );
}
