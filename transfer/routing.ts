/**
 * Routing: which index an envelope goes to. Pure: `<prefix>-<stream>-YYYY.MM.DD`, the date taken
 * from the envelope's `@timestamp` in UTC, so one day's lines land in one date shard whatever the
 * time zone of the host that wrote them.
 * @module
 */
import type { Envelope } from "../core/envelope.ts";

/** Where the `<stream>` part of an index name comes from. */
export type StreamFrom = "source" | "topic";

export interface RoutingOptions {
  /** Index name prefix, e.g. "sluice" (already a valid index name part). */
  prefix: string;
  /** "source" = the envelope's source id (default), "topic" = the Kafka topic. */
  stream: StreamFrom;
}

/**
 * An index-name part made safe: lowercase, and every character an index name may not hold
 * (`\ / * ? " < > | , # :` space) or that would start it wrongly replaced by `_`.
 *
 * @example
 * ```ts
 * import { indexNamePart } from "./routing.ts";
 * indexNamePart("Web Logs/2"); // "web_logs_2"
 * ```
 */
export function indexNamePart(value: string): string {
  const cleaned = value.toLowerCase().replace(/[\\/*?"<>|,#:\s]/g, "_").replace(/^[-_+.]+/, "");
  return cleaned.length > 0 ? cleaned : "_";
}

/**
 * The `YYYY.MM.DD` date (UTC) of an ISO 8601 timestamp, or undefined when it does not parse.
 *
 * @example
 * ```ts
 * import { utcDay } from "./routing.ts";
 * utcDay("2024-03-09T23:30:00-02:00"); // "2024.03.10"
 * ```
 */
export function utcDay(timestamp: string): string | undefined {
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms)) return undefined;
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) return undefined;
  const mm = d.getUTCMonth() + 1;
  const dd = d.getUTCDate();
  return `${String(year).padStart(4, "0")}.${mm < 10 ? "0" : ""}${mm}.${dd < 10 ? "0" : ""}${dd}`;
}

/**
 * The index an envelope is written to, or undefined when its `@timestamp` cannot be dated.
 *
 * @example
 * ```ts
 * import { indexFor } from "./routing.ts";
 * const envelope = {
 *   "@timestamp": "2024-03-09T23:59:59.999Z", id: "x", host: "h", source: "nginx",
 *   path: "/var/log/a", file_id: "f", offset: 0, message: "GET /",
 * };
 * indexFor(envelope, "logs", { prefix: "sluice", stream: "source" }); // "sluice-nginx-2024.03.09"
 * ```
 */
export function indexFor(
  envelope: Envelope,
  topic: string,
  options: RoutingOptions,
): string | undefined {
  const day = utcDay(envelope["@timestamp"]);
  if (day === undefined) return undefined;
  const stream = options.stream === "topic" ? topic : envelope.source;
  return `${options.prefix}-${indexNamePart(stream)}-${day}`;
}
