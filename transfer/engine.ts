/**
 * The search engine behind one small interface, with two implementations: Elasticsearch 8
 * (`@elastic/elasticsearch`) and OpenSearch 2 (`@opensearch-project/opensearch`). Both send the
 * same NDJSON bulk body (encoder.ts); which one is used is configured, or detected from `GET /`.
 * The clients' own retries are off: retry.ts decides.
 * @module
 */
import { Client as ElasticClient } from "@elastic/elasticsearch";
import { Client as OpenSearchClient } from "@opensearch-project/opensearch";
import { SecurityError, UnreachableError } from "../core/errors.ts";
import { searchAuth, searchHttp } from "../core/search_http.ts";
import { redactUrl } from "../core/secret.ts";
import {
  classifySecurityFailure,
  type SearchSecurity,
  searchSecurityFromEnv,
} from "../core/security.ts";
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
  /** TLS and credentials (default: from the SLUICE_SEARCH_* variables, core/security.ts). */
  security?: SearchSecurity;
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

/** The connection options both clients share: node URL without credentials, TLS, auth. */
interface ClientConnection {
  node: string;
  ca?: string;
  cert?: string;
  key?: string;
  basic?: { username: string; password: string };
  apiKey?: string;
}

/**
 * How to reach the engine: the URL without credentials, the CA, and the credentials revealed
 * for the client library (the one place they leave their Secret).
 */
function clientConnection(url: string, security: SearchSecurity): ClientConnection {
  const auth = searchAuth(url, security);
  const { ca, cert, key } = security.tls ?? {};
  return {
    node: redactUrl(url).replace(/\/+$/, ""),
    ca,
    cert,
    key: key?.reveal(),
    basic: auth?.kind === "basic"
      ? { username: auth.username, password: auth.password.reveal() }
      : undefined,
    apiKey: auth?.kind === "apiKey" ? auth.apiKey.reveal() : undefined,
  };
}

/** A fetch or client failure about TLS or credentials as a sentence naming what to check. */
function explainSearchFailure(base: string, text: string, status?: number): string | undefined {
  const failure = status === 401
    ? "auth"
    : status === 403
    ? "forbidden"
    : classifySecurityFailure(text);
  if (failure === "tls") {
    return `TLS with the search engine at ${base} failed (${text}): check that ` +
      "SLUICE_SEARCH_TLS_CA(_FILE) holds the CA that signed its certificate";
  }
  if (failure === "auth") {
    return `the search engine at ${base} rejected the credentials (HTTP 401): check ` +
      "SLUICE_SEARCH_USERNAME and SLUICE_SEARCH_PASSWORD(_FILE), or SLUICE_SEARCH_API_KEY(_FILE)";
  }
  if (failure === "forbidden") {
    return `the search engine at ${base} accepted the credentials but denied the request ` +
      "(HTTP 403): give the user the cluster monitor permission and write access to the " +
      "sluice-* indices (docs/security.md)";
  }
  return undefined;
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
export async function detectEngine(
  url: string,
  timeoutMs = 5_000,
  security: SearchSecurity = searchSecurityFromEnv(),
): Promise<EngineInfo> {
  const http = searchHttp(url, security);
  const base = http.base;
  let response: Response;
  let body:
    | { cluster_name?: string; version?: { number?: string; distribution?: string } }
    | undefined;
  try {
    response = await fetch(`${base}/`, {
      ...http.init,
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = await response.json().catch(() => undefined);
  } catch (error) {
    const text = errorText(error);
    const refused = explainSearchFailure(base, text);
    if (refused) throw new SecurityError(refused, { cause: error });
    throw new UnreachableError(
      `no search engine answers at ${base} (${text}); start it ` +
        `(deno task stack:up) or set SLUICE_SEARCH_URL / --search-url`,
      { cause: error },
    );
  } finally {
    http.close();
  }
  const refused = explainSearchFailure(base, "", response.status);
  if (refused) throw new SecurityError(refused);
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
  const security = options.security ?? searchSecurityFromEnv();
  const kind = !options.kind || options.kind === "auto"
    ? (await detectEngine(options.url, undefined, security)).kind
    : options.kind;
  const timeout = options.requestTimeoutMs ?? 60_000;
  const connection = clientConnection(options.url, security);
  return kind === "opensearch"
    ? new OpenSearchEngine(connection, timeout)
    : new ElasticsearchEngine(connection, timeout);
}

/** The message of an error and of its cause (fetch puts the TLS reason in the cause). */
function errorText(error: unknown): string {
  const e = error as { message?: string; cause?: { message?: string } };
  const parts = [e?.message ?? String(error)];
  if (e?.cause?.message && !parts[0].includes(e.cause.message)) parts.push(e.cause.message);
  return parts.join(": ");
}

/** OpenSearch 2 through `@opensearch-project/opensearch` (responses are `{ body, statusCode }`). */
export class OpenSearchEngine implements SearchEngine {
  readonly kind = "opensearch" as const;
  readonly #client: OpenSearchClient;

  constructor(connection: string | ClientConnection, requestTimeoutMs = 60_000) {
    const c = typeof connection === "string" ? clientConnection(connection, {}) : connection;
    this.#client = new OpenSearchClient({
      node: c.node,
      maxRetries: 0,
      requestTimeout: requestTimeoutMs,
      ...(c.ca || c.cert ? { ssl: { ca: c.ca, cert: c.cert, key: c.key } } : {}),
      ...(c.basic ? { auth: c.basic } : {}),
      // OpenSearch has no API keys of its own; a gateway in front of it may take this header.
      ...(c.apiKey ? { headers: { authorization: `ApiKey ${c.apiKey}` } } : {}),
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

  constructor(connection: string | ClientConnection, requestTimeoutMs = 60_000) {
    const c = typeof connection === "string" ? clientConnection(connection, {}) : connection;
    this.#client = new ElasticClient({
      node: c.node,
      maxRetries: 0,
      requestTimeout: requestTimeoutMs,
      ...(c.ca || c.cert ? { tls: { ca: c.ca, cert: c.cert, key: c.key } } : {}),
      ...(c.basic ? { auth: c.basic } : c.apiKey ? { auth: { apiKey: c.apiKey } } : {}),
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
