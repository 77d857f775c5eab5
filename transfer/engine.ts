/**
 * The search engine behind one small interface, with two implementations: Elasticsearch 8
 * (`@elastic/elasticsearch`) and OpenSearch 2 (`@opensearch-project/opensearch`). Both send the
 * same NDJSON bulk body (encoder.ts); which one is used is configured, or detected from `GET /`.
 * The clients' own retries are off: retry.ts decides.
 * @module
 */
import { Client as ElasticClient } from "@elastic/elasticsearch";
import { Client as OpenSearchClient } from "@opensearch-project/opensearch";
import { UnreachableError } from "../core/errors.ts";
import type { BulkOutcome } from "./retry.ts";
import type { IndexTemplate } from "./index_template.ts";

export type EngineKind = "elasticsearch" | "opensearch";

export interface EngineInfo {
  kind: EngineKind;
  /** e.g. "2.19.1" or "8.15.0". */
  version: string;
  clusterName: string;
}

export interface SearchHit {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
}

/** What the transfer (and the demo and tests) need from a search engine. */
export interface SearchEngine {
  readonly kind: EngineKind;
  info(): Promise<EngineInfo>;
  /** Sends one NDJSON bulk body. Never throws: a failure is an outcome for retry.ts. */
  bulk(body: string): Promise<BulkOutcome>;
  putIndexTemplate(name: string, template: IndexTemplate): Promise<void>;
  /** Names of the indices matching a pattern such as `sluice-*` (none → []). */
  listIndices(pattern: string): Promise<string[]>;
  /** Deletes indices by name (wildcards are refused by ES 8 by default, so names only). */
  deleteIndices(names: string[]): Promise<void>;
  /** Makes everything indexed so far searchable (tests, demo). */
  refresh(pattern: string): Promise<void>;
  /** Number of documents matching `query` (default: all) in the indices of `pattern`. */
  count(pattern: string, query?: Record<string, unknown>): Promise<number>;
  /** A search; `body` is the usual request body (query, size, sort…). */
  search(
    pattern: string,
    body: Record<string, unknown>,
  ): Promise<{ total: number; hits: SearchHit[] }>;
  close(): Promise<void>;
}

export interface EngineOptions {
  /** Base URL; credentials may be given in it (`https://user:pass@host:9200`). */
  url: string;
  /** "auto" asks `GET /` (default). */
  kind?: EngineKind | "auto";
  /** Timeout of one request in ms (default 60 s: a large bulk on a busy node takes a while). */
  requestTimeoutMs?: number;
}

/** Keeps the bulk response small: per item only its status and, when it failed, the error. */
const BULK_FILTER = "errors,items.*.status,items.*.error";

function errorOutcome(error: unknown): BulkOutcome {
  const e = error as {
    name?: string;
    message?: string;
    meta?: { statusCode?: unknown; body?: unknown };
  };
  if (e?.name === "ResponseError" && typeof e.meta?.statusCode === "number") {
    return { kind: "response", status: e.meta.statusCode, body: e.meta.body };
  }
  return { kind: "error", name: e?.name ?? "Error", message: e?.message ?? String(error) };
}

function splitCredentials(url: string): { url: string; authorization?: string } {
  const parsed = new URL(url);
  if (!parsed.username) return { url: parsed.toString().replace(/\/$/, "") };
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  return {
    url: parsed.toString().replace(/\/$/, ""),
    authorization: `Basic ${btoa(`${user}:${pass}`)}`,
  };
}

/**
 * Which engine answers at `url`, from `GET /`: OpenSearch says `version.distribution:
 * "opensearch"`, Elasticsearch does not. Throws UnreachableError when nothing answers.
 *
 * @example
 * ```ts ignore
 * import { detectEngine } from "./engine.ts";
 * await detectEngine("http://127.0.0.1:9200"); // { kind: "opensearch", version: "2.19.1", ... }
 * ```
 */
export async function detectEngine(url: string, timeoutMs = 5_000): Promise<EngineInfo> {
  const { url: base, authorization } = splitCredentials(url);
  let response: Response;
  try {
    response = await fetch(`${base}/`, {
      headers: authorization ? { authorization } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new UnreachableError(
      `no search engine answers at ${base} (${(error as Error).message}); start it ` +
        `(deno task stack:up) or set SLUICE_SEARCH_URL / --search-url`,
      { cause: error },
    );
  }
  const body = await response.json().catch(() => undefined) as
    | { cluster_name?: string; version?: { number?: string; distribution?: string } }
    | undefined;
  if (!response.ok || !body?.version?.number) {
    throw new UnreachableError(
      `GET ${base}/ answered HTTP ${response.status}, not a search engine`,
    );
  }
  return {
    kind: body.version.distribution === "opensearch" ? "opensearch" : "elasticsearch",
    version: body.version.number,
    clusterName: body.cluster_name ?? "",
  };
}

/**
 * A SearchEngine for `url`: the configured kind, or the detected one for "auto".
 *
 * @example
 * ```ts ignore
 * import { createEngine } from "./engine.ts";
 * const engine = await createEngine({ url: "http://127.0.0.1:9200" });
 * await engine.count("sluice-*");
 * await engine.close();
 * ```
 */
export async function createEngine(options: EngineOptions): Promise<SearchEngine> {
  const kind = !options.kind || options.kind === "auto"
    ? (await detectEngine(options.url)).kind
    : options.kind;
  const timeout = options.requestTimeoutMs ?? 60_000;
  return kind === "opensearch"
    ? new OpenSearchEngine(options.url, timeout)
    : new ElasticsearchEngine(options.url, timeout);
}

/** OpenSearch 2 through `@opensearch-project/opensearch` (responses are `{ body, statusCode }`). */
export class OpenSearchEngine implements SearchEngine {
  readonly kind = "opensearch" as const;
  readonly #client: OpenSearchClient;

  constructor(url: string, requestTimeoutMs = 60_000) {
    this.#client = new OpenSearchClient({
      node: url,
      maxRetries: 0,
      requestTimeout: requestTimeoutMs,
    });
  }

  async info(): Promise<EngineInfo> {
    const { body } = await this.#client.info();
    return { kind: this.kind, version: body.version.number, clusterName: body.cluster_name };
  }

  async bulk(body: string): Promise<BulkOutcome> {
    try {
      const response = await this.#client.bulk({
        body: body as unknown as never,
        filter_path: BULK_FILTER,
      });
      return { kind: "response", status: response.statusCode ?? 200, body: response.body };
    } catch (error) {
      return errorOutcome(error);
    }
  }

  async putIndexTemplate(name: string, template: IndexTemplate): Promise<void> {
    await this.#client.indices.putIndexTemplate({ name, body: template as never });
  }

  async listIndices(pattern: string): Promise<string[]> {
    const { body } = await this.#client.cat.indices({
      index: pattern,
      format: "json",
      h: ["index"],
      expand_wildcards: "all",
    });
    return (body as unknown as { index: string }[]).map((row) => row.index).sort();
  }

  async deleteIndices(names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this.#client.indices.delete({ index: names.join(","), ignore_unavailable: true });
  }

  async refresh(pattern: string): Promise<void> {
    await this.#client.indices.refresh({ index: pattern, allow_no_indices: true });
  }

  async count(pattern: string, query?: Record<string, unknown>): Promise<number> {
    const { body } = await this.#client.count({
      index: pattern,
      allow_no_indices: true,
      ignore_unavailable: true,
      body: query ? { query } as never : undefined,
    });
    return body.count;
  }

  async search(
    pattern: string,
    body: Record<string, unknown>,
  ): Promise<{ total: number; hits: SearchHit[] }> {
    const response = await this.#client.search({
      index: pattern,
      allow_no_indices: true,
      ignore_unavailable: true,
      body: body as never,
    });
    const hits = response.body.hits;
    const total = typeof hits.total === "number" ? hits.total : hits.total?.value ?? 0;
    return { total, hits: hits.hits as unknown as SearchHit[] };
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/** Elasticsearch 8 through `@elastic/elasticsearch` (responses are the body itself). */
export class ElasticsearchEngine implements SearchEngine {
  readonly kind = "elasticsearch" as const;
  readonly #client: ElasticClient;

  constructor(url: string, requestTimeoutMs = 60_000) {
    this.#client = new ElasticClient({
      node: url,
      maxRetries: 0,
      requestTimeout: requestTimeoutMs,
    });
  }

  async info(): Promise<EngineInfo> {
    const body = await this.#client.info();
    return { kind: this.kind, version: body.version.number, clusterName: body.cluster_name };
  }

  async bulk(body: string): Promise<BulkOutcome> {
    try {
      // A string `body` is sent as-is (the transport's bulkBody), so both engines share encoder.ts.
      const response = await this.#client.bulk(
        { body, filter_path: BULK_FILTER } as unknown as Parameters<ElasticClient["bulk"]>[0],
        { meta: true },
      );
      return { kind: "response", status: response.statusCode ?? 200, body: response.body };
    } catch (error) {
      return errorOutcome(error);
    }
  }

  async putIndexTemplate(name: string, template: IndexTemplate): Promise<void> {
    await this.#client.indices.putIndexTemplate({ name, ...template } as never);
  }

  async listIndices(pattern: string): Promise<string[]> {
    const rows = await this.#client.cat.indices({
      index: pattern,
      format: "json",
      h: "index",
      expand_wildcards: "all",
    });
    return (rows as { index?: string }[]).map((row) => row.index ?? "").filter(Boolean).sort();
  }

  async deleteIndices(names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this.#client.indices.delete({ index: names, ignore_unavailable: true });
  }

  async refresh(pattern: string): Promise<void> {
    await this.#client.indices.refresh({ index: pattern, allow_no_indices: true });
  }

  async count(pattern: string, query?: Record<string, unknown>): Promise<number> {
    const body = await this.#client.count({
      index: pattern,
      allow_no_indices: true,
      ignore_unavailable: true,
      query: query as never,
    });
    return body.count;
  }

  async search(
    pattern: string,
    body: Record<string, unknown>,
  ): Promise<{ total: number; hits: SearchHit[] }> {
    const response = await this.#client.search({
      index: pattern,
      allow_no_indices: true,
      ignore_unavailable: true,
      ...body,
    } as never);
    const hits = response.hits;
    const total = typeof hits.total === "number" ? hits.total : hits.total?.value ?? 0;
    return { total, hits: hits.hits as unknown as SearchHit[] };
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
