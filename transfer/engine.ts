/**
 * The search engine behind one small interface: one engine class (`ClientEngine`) over either
 * official client, Elasticsearch 8 (`@elastic/elasticsearch`) or OpenSearch 2
 * (`@opensearch-project/opensearch`), each reduced to the few calls that differ between them
 * (`EngineClient`). Both send the same NDJSON bulk body (encoder.ts). Which one is used is
 * configured, or detected: `identifyEngine` decides from what the engine answered, pure.
 * The clients' own retries are off: retry.ts decides.
 * @module
 */
import { Client as ElasticClient } from "@elastic/elasticsearch";
import { Client as OpenSearchClient } from "@opensearch-project/opensearch";
import { splitUrlList } from "../core/endpoints.ts";
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
  /**
   * Base URL; credentials may be given in it (`https://user:pass@host:9200`). Several nodes of
   * one cluster are given comma separated: requests go to the nodes in turn, and a node that does
   * not answer is left out until it answers again.
   */
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

/** The connection options both clients share: node URLs without credentials, TLS, auth. */
interface ClientConnection {
  /** Every node's URL (one or more), without credentials. */
  nodes: string[];
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
  const nodes = splitUrlList(url);
  // Credentials written into a URL are read from the first (transfer/config.ts refuses them in
  // a list of several).
  const auth = searchAuth(nodes[0] ?? url, security);
  const { ca, cert, key } = security.tls ?? {};
  return {
    nodes: nodes.map((node) => redactUrl(node).replace(/\/+$/, "")),
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

/** What the engine answered to a request for its identity (`GET /` or `GET /_nodes/_local`). */
export interface EngineAnswer {
  status: number;
  /**
   * The response headers: every Elasticsearch (7.14 and later) names itself in
   * `x-elastic-product`, also on the answers of a build without `GET /` (the local stack's).
   */
  headers: Headers;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
}

/** The request `detectEngine` sends when `GET /` does not say (no root endpoint). */
export const NODES_INFO_PATH = "/_nodes/_local?filter_path=cluster_name,nodes.*.version," +
  "nodes.*.build_flavor";

/**
 * Which engine gave `answer`, or undefined when it is not a search engine's answer. Two answers
 * are understood: `GET /` (OpenSearch says `version.distribution: "opensearch"`; Elasticsearch has
 * a version number and no distribution) and `GET /_nodes/_local` (its node's `version`;
 * Elasticsearch by the `x-elastic-product: Elasticsearch` header or its node's `build_flavor`,
 * which OpenSearch dropped). Pure.
 *
 * @example
 * ```ts
 * import { identifyEngine } from "./engine.ts";
 * identifyEngine({
 *   status: 200,
 *   headers: new Headers(),
 *   body: { cluster_name: "c", version: { distribution: "opensearch", number: "2.19.1" } },
 * }); // { kind: "opensearch", version: "2.19.1", clusterName: "c" }
 * identifyEngine({
 *   status: 200,
 *   headers: new Headers({ "x-elastic-product": "Elasticsearch" }),
 *   body: { cluster_name: "es", nodes: { n1: { version: "8.19.21", build_flavor: "default" } } },
 * }); // { kind: "elasticsearch", version: "8.19.21", clusterName: "es" }
 * ```
 */
export function identifyEngine(answer: EngineAnswer): EngineInfo | undefined {
  if (answer.status < 200 || answer.status > 299) return undefined;
  const body = answer.body as
    | {
      cluster_name?: unknown;
      version?: { number?: unknown; distribution?: unknown };
      nodes?: Record<string, { version?: unknown; build_flavor?: unknown }>;
    }
    | undefined;
  const elasticProduct = answer.headers.get("x-elastic-product") === "Elasticsearch";
  const clusterName = typeof body?.cluster_name === "string" ? body.cluster_name : "";
  const rootVersion = body?.version?.number;
  if (typeof rootVersion === "string" && rootVersion) {
    const opensearch = body?.version?.distribution === "opensearch" && !elasticProduct;
    return { kind: opensearch ? "opensearch" : "elasticsearch", version: rootVersion, clusterName };
  }
  const node = body?.nodes && typeof body.nodes === "object"
    ? Object.values(body.nodes)[0]
    : undefined;
  if (typeof node?.version !== "string" || !node.version) return undefined;
  const elasticsearch = elasticProduct || node.build_flavor !== undefined;
  return {
    kind: elasticsearch ? "elasticsearch" : "opensearch",
    version: node.version,
    clusterName,
  };
}

/**
 * Which engine answers at `url`: identifyEngine on its `GET /`, and on its `GET /_nodes/_local`
 * when that does not say (the Elasticsearch build of the local stack has no root endpoint and
 * answers 405). Throws SecurityError when TLS or the credentials are refused, UnreachableError
 * when nothing (or no search engine) answers.
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
  // Several nodes: the first that answers says which engine the cluster is; a refusal of TLS or
  // credentials is final (the other nodes would refuse them alike).
  const nodes = splitUrlList(url);
  if (nodes.length > 1) {
    let unreachable: unknown;
    for (const node of nodes) {
      try {
        return await detectNode(node, timeoutMs, security);
      } catch (error) {
        if (!(error instanceof UnreachableError)) throw error;
        unreachable ??= error;
      }
    }
    throw unreachable;
  }
  return await detectNode(url, timeoutMs, security);
}

async function detectNode(
  url: string,
  timeoutMs: number,
  security: SearchSecurity,
): Promise<EngineInfo> {
  const http = searchHttp(url, security);
  const base = http.base;
  const ask = async (path: string): Promise<EngineAnswer> => {
    const response = await fetch(`${base}${path}`, {
      ...http.init,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: await response.json().catch(() => undefined),
    };
  };
  let answers: EngineAnswer[];
  try {
    const root = await ask("/");
    answers = [root];
    if (!identifyEngine(root) && !explainSearchFailure(base, "", root.status)) {
      answers.push(await ask(NODES_INFO_PATH));
    }
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
  const last = answers[answers.length - 1];
  const refused = explainSearchFailure(base, "", last.status);
  if (refused) throw new SecurityError(refused);
  const info = identifyEngine(last);
  if (!info) {
    throw new UnreachableError(
      `neither GET ${base}/ (HTTP ${answers[0].status}) nor GET ${base}/_nodes/_local (HTTP ` +
        `${last.status}) answered as a search engine`,
    );
  }
  return info;
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
  return new ClientEngine(
    kind,
    kind === "opensearch"
      ? openSearchClient(connection, timeout)
      : elasticsearchClient(connection, timeout),
    connection.nodes.join(", "),
  );
}

/** A client error as SecurityError or UnreachableError when it is one, else unchanged. */
function clientFailure(base: string, error: unknown): unknown {
  const e = error as { name?: string; meta?: { statusCode?: unknown } };
  const status = typeof e?.meta?.statusCode === "number" ? e.meta.statusCode : undefined;
  const text = errorText(error);
  const refused = explainSearchFailure(base, status === undefined ? text : "", status);
  if (refused) return new SecurityError(refused, { cause: error });
  if (status === undefined && /Connection|Timeout|NoLiving/i.test(e?.name ?? "")) {
    return new UnreachableError(
      `no search engine answers at ${base} (${text}); start it (deno task stack:up) or set ` +
        "SLUICE_SEARCH_URL / --search-url",
      { cause: error },
    );
  }
  return error;
}

/** The message of an error and of its cause (fetch puts the TLS reason in the cause). */
function errorText(error: unknown): string {
  const e = error as { message?: string; cause?: { message?: string } };
  const parts = [e?.message ?? String(error)];
  if (e?.cause?.message && !parts[0].includes(e.cause.message)) parts.push(e.cause.message);
  return parts.join(": ");
}

/** The local node's info, as both clients return `GET /_nodes/_local` (filtered). */
interface NodesBody {
  cluster_name?: string;
  nodes?: Record<string, { version?: string }>;
}

/** Search hits as both clients return them (`total` is a number or `{ value }`). */
interface HitsBody {
  total?: number | { value?: number };
  hits: unknown[];
}

/**
 * What differs between the two official clients, and nothing else: each call in the request
 * shape its client takes, each answer unwrapped to the engine's body. A call that fails throws
 * the client's error (ClientEngine turns a failed bulk into an outcome for retry.ts).
 */
export interface EngineClient {
  /** `GET /_nodes/_local`: answered by every build (`GET /` is not: see detectEngine). */
  localNode(): Promise<NodesBody>;
  bulk(body: string, filterPath: string): Promise<{ status: number; body: unknown }>;
  putIndexTemplate(name: string, template: IndexTemplate): Promise<void>;
  /** `_cat/indices` rows of the indices matching `pattern`. */
  catIndices(pattern: string): Promise<{ index?: string }[]>;
  deleteIndices(names: string[]): Promise<void>;
  refresh(pattern: string): Promise<void>;
  count(pattern: string, query?: Record<string, unknown>): Promise<number>;
  search(pattern: string, body: Record<string, unknown>): Promise<HitsBody>;
  close(): Promise<void>;
}

/** The one SearchEngine: what both engines share, over the client of either. */
export class ClientEngine implements SearchEngine {
  readonly kind: EngineKind;
  readonly #client: EngineClient;
  readonly #base: string;

  /** `base`: the engine's URL without credentials, for error messages. */
  constructor(kind: EngineKind, client: EngineClient, base = "the search engine") {
    this.kind = kind;
    this.#client = client;
    this.#base = base;
  }

  /**
   * The engine's kind, version and cluster. The first request of a transfer whose `--engine` is
   * forced (no detection ran): a refused TLS handshake or credential, or no answer at all, is
   * reported as detection would report it (SecurityError, UnreachableError), not as the client's
   * raw error object.
   */
  async info(): Promise<EngineInfo> {
    let body: NodesBody;
    try {
      body = await this.#client.localNode();
    } catch (error) {
      throw clientFailure(this.#base, error);
    }
    const node = Object.values(body.nodes ?? {})[0];
    return { kind: this.kind, version: node?.version ?? "?", clusterName: body.cluster_name ?? "" };
  }

  async bulk(body: string): Promise<BulkOutcome> {
    try {
      const response = await this.#client.bulk(body, BULK_FILTER);
      return { kind: "response", status: response.status, body: response.body };
    } catch (error) {
      return errorOutcome(error);
    }
  }

  putIndexTemplate(name: string, template: IndexTemplate): Promise<void> {
    return this.#client.putIndexTemplate(name, template);
  }

  async listIndices(pattern: string): Promise<string[]> {
    const rows = await this.#client.catIndices(pattern);
    return rows.map((row) => row.index ?? "").filter(Boolean).sort();
  }

  async deleteIndices(names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this.#client.deleteIndices(names);
  }

  refresh(pattern: string): Promise<void> {
    return this.#client.refresh(pattern);
  }

  count(pattern: string, query?: Record<string, unknown>): Promise<number> {
    return this.#client.count(pattern, query);
  }

  async search(
    pattern: string,
    body: Record<string, unknown>,
  ): Promise<{ total: number; hits: SearchHit[] }> {
    const hits = await this.#client.search(pattern, body);
    const total = typeof hits.total === "number" ? hits.total : hits.total?.value ?? 0;
    return { total, hits: hits.hits as SearchHit[] };
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

/** OpenSearch 2 through `@opensearch-project/opensearch` (responses are `{ body, statusCode }`). */
function openSearchClient(c: ClientConnection, requestTimeoutMs: number): EngineClient {
  const client = new OpenSearchClient({
    nodes: c.nodes,
    maxRetries: 0,
    requestTimeout: requestTimeoutMs,
    ...(c.ca || c.cert ? { ssl: { ca: c.ca, cert: c.cert, key: c.key } } : {}),
    ...(c.basic ? { auth: c.basic } : {}),
    // OpenSearch has no API keys of its own; a gateway in front of it may take this header.
    ...(c.apiKey ? { headers: { authorization: `ApiKey ${c.apiKey}` } } : {}),
  });
  return {
    localNode: async () =>
      (await client.nodes.info({
        node_id: "_local",
        filter_path: ["cluster_name", "nodes.*.version"],
      })).body as NodesBody,
    bulk: async (body, filterPath) => {
      const response = await client.bulk({
        body: body as unknown as never,
        filter_path: filterPath,
      });
      return { status: response.statusCode ?? 200, body: response.body };
    },
    putIndexTemplate: async (name, template) => {
      await client.indices.putIndexTemplate({ name, body: template as never });
    },
    catIndices: async (pattern) => {
      const { body } = await client.cat.indices({
        index: pattern,
        format: "json",
        h: ["index"],
        expand_wildcards: "all",
      });
      return body as unknown as { index?: string }[];
    },
    deleteIndices: async (names) => {
      await client.indices.delete({ index: names.join(","), ignore_unavailable: true });
    },
    refresh: async (pattern) => {
      await client.indices.refresh({ index: pattern, allow_no_indices: true });
    },
    count: async (pattern, query) => {
      const { body } = await client.count({
        index: pattern,
        allow_no_indices: true,
        ignore_unavailable: true,
        body: query ? { query } as never : undefined,
      });
      return body.count;
    },
    search: async (pattern, body) => {
      const response = await client.search({
        index: pattern,
        allow_no_indices: true,
        ignore_unavailable: true,
        body: body as never,
      });
      return response.body.hits as unknown as HitsBody;
    },
    close: () => client.close(),
  };
}

/** Elasticsearch 8 through `@elastic/elasticsearch` (responses are the body itself). */
function elasticsearchClient(c: ClientConnection, requestTimeoutMs: number): EngineClient {
  const client = new ElasticClient({
    nodes: c.nodes,
    maxRetries: 0,
    requestTimeout: requestTimeoutMs,
    ...(c.ca || c.cert ? { tls: { ca: c.ca, cert: c.cert, key: c.key } } : {}),
    ...(c.basic ? { auth: c.basic } : c.apiKey ? { auth: { apiKey: c.apiKey } } : {}),
  });
  return {
    localNode: async () =>
      await client.nodes.info({
        node_id: "_local",
        filter_path: ["cluster_name", "nodes.*.version"],
      }) as NodesBody,
    bulk: async (body, filterPath) => {
      // A string `body` is sent as-is (the transport's bulkBody), so both engines share encoder.ts.
      const response = await client.bulk(
        { body, filter_path: filterPath } as unknown as Parameters<ElasticClient["bulk"]>[0],
        { meta: true },
      );
      return { status: response.statusCode ?? 200, body: response.body };
    },
    putIndexTemplate: async (name, template) => {
      await client.indices.putIndexTemplate({ name, ...template } as never);
    },
    catIndices: async (pattern) =>
      await client.cat.indices({
        index: pattern,
        format: "json",
        h: "index",
        expand_wildcards: "all",
      }) as { index?: string }[],
    deleteIndices: async (names) => {
      await client.indices.delete({ index: names, ignore_unavailable: true });
    },
    refresh: async (pattern) => {
      await client.indices.refresh({ index: pattern, allow_no_indices: true });
    },
    count: async (pattern, query) =>
      (await client.count({
        index: pattern,
        allow_no_indices: true,
        ignore_unavailable: true,
        query: query as never,
      })).count,
    search: async (pattern, body) =>
      (await client.search({
        index: pattern,
        allow_no_indices: true,
        ignore_unavailable: true,
        ...body,
      } as never)).hits as unknown as HitsBody,
    close: () => client.close(),
  };
}
