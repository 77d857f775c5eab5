/**
 * The indexed document of a record: the envelope (core/envelope.ts, the record format between
 * agent and transfer, unchanged) under Elastic Common Schema names, so Kibana's and Dashboards'
 * log views and saved searches work on sluice's indices without mapping work. The one place that
 * says which envelope field becomes which document field; index_template.ts maps the same names.
 * Pure.
 *
 * | envelope          | document                                                         |
 * | ----------------- | ---------------------------------------------------------------- |
 * | `@timestamp`      | `@timestamp` (the event time: routes the document to its shard)  |
 * | read time         | `event.ingested` (the record's read time when it carries one,    |
 * |                   | else `@timestamp`, which is the read time of today's records)    |
 * | `id`              | `event.id` (also the document's `_id`)                           |
 * | `message`         | `message`                                                        |
 * | `host`            | `host.name`                                                      |
 * | `source`          | `event.dataset`                                                  |
 * | `path`            | `log.file.path`                                                  |
 * | `offset`          | `log.offset`                                                     |
 * | `fields`          | `labels` (and `service.name` from a `service` label)             |
 * | `file_id`, `part`, `invalid_utf8` | `sluice.file_id`, `sluice.part`, `sluice.invalid_utf8` |
 * | `parsed`          | `parsed` (the parser's fields, after the source's processors)    |
 * | `flags`           | `tags` (why a line is not as its source asked: ECS tags)         |
 * @module
 */
import type { Envelope } from "../core/envelope.ts";

/** The document fields a search or a test reads, by their ECS names (one list of them). */
export const DOCUMENT_FIELDS = {
  timestamp: "@timestamp",
  message: "message",
  ingested: "event.ingested",
  id: "event.id",
  host: "host.name",
  source: "event.dataset",
  path: "log.file.path",
  offset: "log.offset",
  labels: "labels",
  service: "service.name",
  tags: "tags",
  fileId: "sluice.file_id",
  part: "sluice.part",
  invalidUtf8: "sluice.invalid_utf8",
} as const;

/** An ECS document as the transfer indexes it. */
export interface LogDocument {
  "@timestamp": string;
  message: string;
  event: { id: string; ingested: string; dataset: string };
  host: { name: string };
  log: { file: { path: string }; offset: number };
  labels?: Record<string, string>;
  service?: { name: string };
  tags?: string[];
  sluice: { file_id: string; part?: number; invalid_utf8?: true };
  parsed?: Record<string, unknown>;
}

/**
 * The read time of a record: `event.ingested` when the record carries it (flat, as a key with a
 * dot, or nested under `event`), else its `@timestamp`, which today's agents set to the read time.
 *
 * @example
 * ```ts
 * import { readTime } from "./document.ts";
 * readTime({ "@timestamp": "2026-01-02T03:04:05.000Z" }); // "2026-01-02T03:04:05.000Z"
 * readTime({ "@timestamp": "2026-01-01T00:00:00Z", "event.ingested": "2026-01-02T00:00:00Z" });
 * // "2026-01-02T00:00:00Z"
 * ```
 */
export function readTime(envelope: Record<string, unknown>): string {
  const flat = envelope["event.ingested"];
  if (typeof flat === "string" && flat) return flat;
  const nested = (envelope.event as { ingested?: unknown } | undefined)?.ingested;
  if (typeof nested === "string" && nested) return nested;
  return envelope["@timestamp"] as string;
}

/**
 * The ECS document of an envelope (see the table in this module's header).
 *
 * @example
 * ```ts
 * import { logDocument } from "./document.ts";
 * const doc = logDocument({
 *   "@timestamp": "2026-01-02T03:04:05.000Z", id: "abc", host: "web-1", source: "nginx",
 *   path: "/var/log/nginx/access.log", file_id: "2049-12-9f", offset: 120, message: "GET /",
 *   fields: { env: "prod", service: "shop" },
 * });
 * doc.host.name; // "web-1"
 * doc.log; // { file: { path: "/var/log/nginx/access.log" }, offset: 120 }
 * doc.service; // { name: "shop" }
 * ```
 */
export function logDocument(envelope: Envelope): LogDocument {
  const doc: LogDocument = {
    "@timestamp": envelope["@timestamp"],
    message: envelope.message,
    event: {
      id: envelope.id,
      ingested: readTime(envelope as unknown as Record<string, unknown>),
      dataset: envelope.source,
    },
    host: { name: envelope.host },
    log: { file: { path: envelope.path }, offset: envelope.offset },
    sluice: { file_id: envelope.file_id },
  };
  if (envelope.fields && Object.keys(envelope.fields).length > 0) {
    doc.labels = envelope.fields;
    const service = envelope.fields["service.name"] ?? envelope.fields.service;
    if (typeof service === "string" && service) doc.service = { name: service };
  }
  if (envelope.part !== undefined) doc.sluice.part = envelope.part;
  if (envelope.invalid_utf8) doc.sluice.invalid_utf8 = true;
  if (envelope.parsed) doc.parsed = envelope.parsed;
  if (envelope.flags?.length) doc.tags = envelope.flags;
  return doc;
}
