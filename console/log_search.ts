/**
 * Runs log searches against the date-sharded indices (`<prefix>-*`) with plain `fetch` to the
 * search engine: the request bodies come from search_query.ts, and the answer is cut down to
 * what the logs page draws (rows, histogram buckets, sources found).
 * @module
 */
import { DOCUMENT_FIELDS } from "../transfer/document.ts";
import { splitUrlList } from "../core/endpoints.ts";
import { InvalidInputError, SluiceError, UnreachableError } from "../core/errors.ts";
import { type SearchHttp, searchHttp } from "../core/search_http.ts";
import { type SearchSecurity, searchSecurityFromEnv } from "../core/security.ts";
import { type LogQuery, searchBody, tailBody } from "./search_query.ts";

/** One log line as the results table shows it. */
export interface LogRow {
  id: string;
  index: string;
  "@timestamp": string;
  host?: string;
  source?: string;
  path?: string;
  offset?: number;
  message: string;
  fields?: Record<string, unknown>;
}

/** What `GET /api/logs/search` returns. */
export interface SearchResult {
  total: number;
  rows: LogRow[];
  histogram: { interval: string; buckets: { t: number; count: number }[] };
  sources: { id: string; count: number }[];
  took_ms: number;
}

/** Where the engine is and which indices are searched. */
export interface LogSearchOptions {
  /**
   * Base URL; `user:password@` in it is sent as basic auth. Several nodes of one cluster are
   * given comma separated: a search goes to the node that answered last, and to the next when
   * that one does not answer.
   */
  url: string;
  /** TLS and credentials (default: from the SLUICE_SEARCH_* variables, core/security.ts). */
  security?: SearchSecurity;
  /** Index prefix: `<prefix>-*` is searched (default "sluice"). */
  indexPrefix?: string;
}

interface Hit {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
}

/** Searches the log indices. */
export class LogSearch {
  /** One client per node (one, or every node of a cluster). */
  readonly #nodes: SearchHttp[];
  /** The node that answered last: searches go there first. */
  #current = 0;
  readonly pattern: string;

  constructor(options: LogSearchOptions) {
    const security = options.security ?? searchSecurityFromEnv();
    const urls = splitUrlList(options.url);
    this.#nodes = (urls.length > 0 ? urls : [options.url]).map((url) => searchHttp(url, security));
    this.pattern = `${options.indexPrefix ?? "sluice"}-*`;
  }

  /** Releases the HTTP clients (held only for a private CA). */
  close(): void {
    for (const node of this.#nodes) node.close();
  }

  /** POSTs to the first node that answers, starting at the one that answered last. */
  async #post(path: string, body: unknown): Promise<Response> {
    const failures: string[] = [];
    for (let i = 0; i < this.#nodes.length; i++) {
      const at = (this.#current + i) % this.#nodes.length;
      const http = this.#nodes[at];
      try {
        const response = await fetch(`${http.base}${path}`, {
          ...http.init,
          method: "POST",
          headers: { ...http.headers, "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        this.#current = at;
        return response;
      } catch (error) {
        failures.push(`${http.base}: ${(error as Error).message}`);
      }
    }
    throw new UnreachableError(
      `the search engine does not answer (${failures.join("; ")}); ` +
        "start it (deno task stack:up) or set SLUICE_SEARCH_URL",
    );
  }

  async #search(body: unknown): Promise<Record<string, unknown>> {
    const response = await this.#post(
      `/${this.pattern}/_search?allow_no_indices=true&ignore_unavailable=true`,
      body,
    );
    const json = await response.json().catch(() => ({})) as Record<string, unknown>;
    if (response.status === 400) {
      // A query-string syntax error comes back as a 400: the user's to fix, so say what it is.
      const error = json.error as
        | { root_cause?: { reason?: string }[]; reason?: string }
        | undefined;
      const reason = error?.root_cause?.[0]?.reason ?? error?.reason ?? "bad request";
      throw new InvalidInputError(`the search engine refused the query: ${reason}`);
    }
    if (!response.ok) {
      throw new SluiceError(`the search engine answered HTTP ${response.status} to a search`);
    }
    return json;
  }

  /**
   * Matches in the range, newest first, with the histogram and the sources found.
   *
   * @example
   * ```ts ignore
   * import { LogSearch } from "./log_search.ts";
   * const search = new LogSearch({ url: "http://127.0.0.1:9200" });
   * const now = Date.now();
   * const r = await search.search({ q: "error", from: now - 900_000, to: now, sources: [], size: 50 });
   * console.log(r.total, r.histogram.interval);
   * ```
   */
  async search(query: LogQuery): Promise<SearchResult> {
    const body = searchBody(query);
    const json = await this.#search(body);
    const hits = json.hits as { total?: number | { value: number }; hits: Hit[] } | undefined;
    const aggs = json.aggregations as {
      histogram?: { buckets: { key: number; doc_count: number }[] };
      sources?: { buckets: { key: string; doc_count: number }[] };
      legacy_sources?: { buckets: { key: string; doc_count: number }[] };
    } | undefined;
    const total = typeof hits?.total === "number" ? hits.total : hits?.total?.value ?? 0;
    return {
      total,
      rows: (hits?.hits ?? []).map(toRow),
      histogram: {
        interval: body.aggs.histogram.date_histogram.fixed_interval,
        buckets: (aggs?.histogram?.buckets ?? []).map((b) => ({ t: b.key, count: b.doc_count })),
      },
      sources: mergeSources([
        ...(aggs?.sources?.buckets ?? []),
        ...(aggs?.legacy_sources?.buckets ?? []),
      ]),
      took_ms: Number(json.took ?? 0),
    };
  }

  /** Matches at or after `since` (epoch ms), oldest first: one live-tail poll. */
  async tail(query: LogQuery, since: number): Promise<LogRow[]> {
    const json = await this.#search(tailBody(query, since));
    const hits = json.hits as { hits: Hit[] } | undefined;
    return (hits?.hits ?? []).map(toRow);
  }
}

/** Sources counted under the ECS name and the old one, added up per source, most first. */
function mergeSources(buckets: { key: string; doc_count: number }[]) {
  const counts = new Map<string, number>();
  for (const b of buckets) counts.set(b.key, (counts.get(b.key) ?? 0) + b.doc_count);
  return [...counts].map(([id, count]) => ({ id, count })).sort((a, b) => b.count - a.count);
}

/** The value at a dotted ECS name of a document (`host.name` → `_source.host.name`). */
function field(source: Record<string, unknown>, path: string): unknown {
  return path.split(".").reduce<unknown>(
    (value, key) => (value as Record<string, unknown> | undefined)?.[key],
    source,
  );
}

/**
 * A hit as a row of the logs page. The row keeps its names (host, source, path, offset, fields)
 * whichever document shape the hit has: ECS names (transfer/document.ts), or the old names of an
 * index written before them.
 */
function toRow(hit: Hit): LogRow {
  const s = hit._source;
  const ecs = {
    host: field(s, DOCUMENT_FIELDS.host),
    source: field(s, DOCUMENT_FIELDS.source),
    path: field(s, DOCUMENT_FIELDS.path),
    offset: field(s, DOCUMENT_FIELDS.offset),
    fields: field(s, DOCUMENT_FIELDS.labels),
  };
  const row: LogRow = {
    id: hit._id,
    index: hit._index,
    "@timestamp": String(s["@timestamp"] ?? ""),
    message: typeof s.message === "string" ? s.message : JSON.stringify(s.message ?? ""),
  };
  const host = typeof ecs.host === "string" ? ecs.host : s.host;
  const source = typeof ecs.source === "string" ? ecs.source : s.source;
  const path = typeof ecs.path === "string" ? ecs.path : s.path;
  const offset = typeof ecs.offset === "number" ? ecs.offset : s.offset;
  const fields = ecs.fields ?? s.fields;
  if (typeof host === "string") row.host = host;
  if (typeof source === "string") row.source = source;
  if (typeof path === "string") row.path = path;
  if (typeof offset === "number") row.offset = offset;
  if (fields && typeof fields === "object") row.fields = fields as Record<string, unknown>;
  return row;
}
