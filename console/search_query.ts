/**
 * Log search requests: URL parameters → a checked query (text, time range, sources, page size),
 * the histogram interval for the range, and the engine request body (bool query, sort,
 * date_histogram, sources facet) that both Elasticsearch 8 and OpenSearch 2 accept. Pure.
 * @module
 */
import { DOCUMENT_FIELDS } from "../transfer/document.ts";
import type { ValidationIssue } from "../config_plane/mod.ts";
import type { Checked } from "./requests.ts";

/** A checked search. */
export interface LogQuery {
  /** Query-string syntax over `message` (and any field as `field:value`); "" = everything. */
  q: string;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, inclusive. */
  to: number;
  /** Only these source ids; empty = all. */
  sources: string[];
  /** Rows to return. */
  size: number;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const MAX_SIZE = 500;
const DEFAULT_RANGE = "15m";

/**
 * Milliseconds of a span such as `15m`, `24h`, `7d`; undefined when it is not one.
 *
 * @example
 * ```ts
 * import { spanMs } from "./search_query.ts";
 * spanMs("15m"); // 900000
 * ```
 */
export function spanMs(span: string): number | undefined {
  const m = /^(\d+)([smhd])$/.exec(span.trim());
  return m && Number(m[1]) > 0 ? Number(m[1]) * UNITS[m[2]] : undefined;
}

function time(value: string, path: string, errors: ValidationIssue[]): number | undefined {
  const t = Date.parse(value);
  if (Number.isNaN(t)) {
    errors.push({
      path,
      message: `must be an ISO 8601 time such as 2024-03-09T12:00:00Z, got '${value}'`,
    });
    return undefined;
  }
  return t;
}

/**
 * Checks search parameters: `q`, `from` and `to` (ISO 8601) or `range` (`15m`, `1h`, `7d`: the
 * span up to `to` or now), `source` (repeatable or comma separated), `size`.
 *
 * @example
 * ```ts
 * import { checkLogQuery } from "./search_query.ts";
 * const r = checkLogQuery(new URLSearchParams("q=error&range=1h&source=nginx"), Date.parse("2024-03-09T12:00:00Z"));
 * // r.ok, r.value.from === Date.parse("2024-03-09T11:00:00Z"), r.value.sources = ["nginx"]
 * ```
 */
export function checkLogQuery(params: URLSearchParams, now: number): Checked<LogQuery> {
  const errors: ValidationIssue[] = [];
  const q = (params.get("q") ?? "").trim();
  const toText = params.get("to");
  const to = toText ? time(toText, "to", errors) : now;
  const fromText = params.get("from");
  let from: number | undefined;
  if (fromText) {
    from = time(fromText, "from", errors);
  } else {
    const range = params.get("range") || DEFAULT_RANGE;
    const span = spanMs(range);
    if (span === undefined) {
      errors.push({
        path: "range",
        message: `must be a span such as 15m, 1h, 24h or 7d, got '${range}'`,
      });
    } else if (to !== undefined) {
      from = to - span;
    }
  }
  if (from !== undefined && to !== undefined && from > to) {
    errors.push({ path: "from", message: "must not be after 'to'" });
  }
  const sources = params.getAll("source").flatMap((s) => s.split(",")).map((s) => s.trim())
    .filter(Boolean);
  const sizeText = params.get("size");
  const size = sizeText === null || sizeText === "" ? 100 : Number(sizeText);
  if (!Number.isInteger(size) || size < 0 || size > MAX_SIZE) {
    errors.push({ path: "size", message: `must be a whole number from 0 to ${MAX_SIZE}` });
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, value: { q, from: from!, to: to!, sources, size } };
}

/** Fixed intervals a histogram may use, smallest first, with their length in ms. */
export const INTERVALS: [string, number][] = [
  ["1s", 1_000],
  ["5s", 5_000],
  ["10s", 10_000],
  ["30s", 30_000],
  ["1m", 60_000],
  ["5m", 300_000],
  ["10m", 600_000],
  ["30m", 1_800_000],
  ["1h", 3_600_000],
  ["3h", 10_800_000],
  ["12h", 43_200_000],
  ["1d", 86_400_000],
  ["7d", 604_800_000],
  ["30d", 2_592_000_000],
];

/**
 * The smallest interval that draws the range in at most `maxBuckets` bars (the largest one for
 * very long ranges), so a chart stays readable and the engine never builds thousands of buckets.
 *
 * @example
 * ```ts
 * import { histogramInterval } from "./search_query.ts";
 * histogramInterval(15 * 60_000); // "30s" (30 bars)
 * histogramInterval(24 * 3_600_000); // "30m" (48 bars)
 * ```
 */
export function histogramInterval(rangeMs: number, maxBuckets = 60): string {
  for (const [name, ms] of INTERVALS) {
    if (Math.ceil(rangeMs / ms) <= maxBuckets) return name;
  }
  return INTERVALS[INTERVALS.length - 1][0];
}

/** The names of an index written before the documents had ECS names (read side by side). */
export const LEGACY_FIELDS = { source: "source", host: "host", path: "path", offset: "offset" };

/** What the filter part of every search and tail request shares. */
function filters(query: LogQuery, from: { gte?: string; gt?: string }) {
  const list: Record<string, unknown>[] = [
    {
      range: {
        "@timestamp": {
          ...from,
          lte: new Date(query.to).toISOString(),
          format: "strict_date_optional_time",
        },
      },
    },
  ];
  if (query.sources.length > 0) {
    // The source under its ECS name, or under its old name in an index written before the
    // documents had ECS names (docs/transfer.md), so both are read side by side.
    list.push({
      bool: {
        should: [
          { terms: { [DOCUMENT_FIELDS.source]: query.sources } },
          { terms: { [LEGACY_FIELDS.source]: query.sources } },
        ],
        minimum_should_match: 1,
      },
    });
  }
  const must = query.q
    ? [{
      query_string: {
        query: query.q,
        default_field: "message",
        default_operator: "AND",
        lenient: true,
      },
    }]
    : [];
  return { bool: { filter: list, must } };
}

/**
 * The engine request of a search: newest first, the total counted exactly, a histogram over the
 * whole range (empty buckets included, so gaps show) and the sources found.
 *
 * @example
 * ```ts
 * import { searchBody } from "./search_query.ts";
 * const body = searchBody({ q: "error", from: 0, to: 900_000, sources: [], size: 50 });
 * // body.aggs.histogram.date_histogram.fixed_interval === "30s"
 * ```
 */
export function searchBody(query: LogQuery) {
  const interval = histogramInterval(query.to - query.from);
  return {
    size: query.size,
    track_total_hits: true,
    sort: [{ "@timestamp": { order: "desc" } }, {
      [DOCUMENT_FIELDS.offset]: { order: "desc", unmapped_type: "long" },
    }],
    query: filters(query, { gte: new Date(query.from).toISOString() }),
    aggs: {
      histogram: {
        date_histogram: {
          field: "@timestamp",
          fixed_interval: interval,
          min_doc_count: 0,
          extended_bounds: { min: query.from, max: query.to },
        },
      },
      sources: { terms: { field: DOCUMENT_FIELDS.source, size: 100 } },
      legacy_sources: { terms: { field: LEGACY_FIELDS.source, size: 100 } },
    },
  };
}

/**
 * The engine request of one live-tail poll: documents at or after `since` (epoch ms), oldest
 * first. `gte`, not `gt`: a document stamped in the same millisecond as the last one shown may
 * arrive later, so the page repeats that millisecond and skips the ids it already shows.
 *
 * @example
 * ```ts
 * import { tailBody } from "./search_query.ts";
 * tailBody({ q: "", from: 0, to: 10_000, sources: ["app"], size: 200 }, 5_000).sort;
 * // [{ "@timestamp": { order: "asc" } }, ...]
 * ```
 */
export function tailBody(query: LogQuery, since: number) {
  return {
    size: query.size,
    sort: [{ "@timestamp": { order: "asc" } }, {
      [DOCUMENT_FIELDS.offset]: { order: "asc", unmapped_type: "long" },
    }],
    query: filters(query, { gte: new Date(since).toISOString() }),
  };
}
