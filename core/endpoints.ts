/**
 * Where the services are. One place reads the environment so that the stack scripts, the CLI,
 * the agent, the transfer and the tests agree; each can still be overridden by a flag. How to
 * connect to them (TLS, SASL, users and passwords) is read by the sibling core/security.ts.
 * Also the one reader and writer of a listening address (`host:port`, IPv6 in brackets).
 * @module
 */
import { InvalidInputError } from "./errors.ts";
import { redactUrl } from "./secret.ts";

export interface Endpoints {
  /** etcd client URLs (SLUICE_ETCD_ENDPOINTS, comma separated). */
  etcd: string[];
  /** Key prefix of the config plane in etcd (SLUICE_ETCD_PREFIX). */
  etcdPrefix: string;
  /** Kafka bootstrap brokers host:port (SLUICE_KAFKA_BROKERS, comma separated). */
  kafka: string[];
  /**
   * The first search engine node's base URL (SLUICE_SEARCH_URL), without the user and password it
   * may carry: those are credentials, read by core/security.ts, and must not be printed with the
   * address. Plain requests (tests, the demo's counts) go here.
   */
  search: string;
  /**
   * Every node of the search engine (SLUICE_SEARCH_URL, comma separated; `search` is the first),
   * without credentials. The clients that index and search take them all and move to another
   * node when one does not answer.
   */
  searchNodes: string[];
}

export const DEFAULT_ENDPOINTS: Endpoints = {
  etcd: ["http://127.0.0.1:2379"],
  etcdPrefix: "/sluice",
  kafka: ["127.0.0.1:9092"],
  search: "http://127.0.0.1:9200",
  searchNodes: ["http://127.0.0.1:9200"],
};

function list(value: string | undefined): string[] | undefined {
  const items = value?.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  return items && items.length > 0 ? items : undefined;
}

/**
 * Endpoints from an environment (default: the process environment).
 *
 * @example
 * ```ts
 * import { endpointsFromEnv } from "./endpoints.ts";
 * endpointsFromEnv({ SLUICE_KAFKA_BROKERS: "k1:9092,k2:9092" }).kafka; // ["k1:9092", "k2:9092"]
 * endpointsFromEnv({ SLUICE_SEARCH_URL: "http://s1:9200,http://s2:9200" }).searchNodes;
 * // ["http://s1:9200", "http://s2:9200"]
 * ```
 */
export function endpointsFromEnv(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Endpoints {
  return {
    etcd: list(env.SLUICE_ETCD_ENDPOINTS) ?? DEFAULT_ENDPOINTS.etcd,
    etcdPrefix: env.SLUICE_ETCD_PREFIX || DEFAULT_ENDPOINTS.etcdPrefix,
    kafka: list(env.SLUICE_KAFKA_BROKERS) ?? DEFAULT_ENDPOINTS.kafka,
    ...searchNodes(env.SLUICE_SEARCH_URL),
  };
}

function searchNodes(value: string | undefined): Pick<Endpoints, "search" | "searchNodes"> {
  const nodes = splitUrlList(value ?? "").map(redactUrl);
  if (nodes.length === 0) {
    return { search: DEFAULT_ENDPOINTS.search, searchNodes: [...DEFAULT_ENDPOINTS.searchNodes] };
  }
  return { search: nodes[0], searchNodes: nodes };
}

/**
 * The URLs of a comma-separated list (SLUICE_SEARCH_URL, `--search-url`), trimmed, empty items
 * dropped. A single URL is a list of one. Pure.
 *
 * @example
 * ```ts
 * import { splitUrlList } from "./endpoints.ts";
 * splitUrlList("http://a:9200, http://b:9200,"); // ["http://a:9200", "http://b:9200"]
 * splitUrlList("https://es.internal:9200"); // ["https://es.internal:9200"]
 * ```
 */
export function splitUrlList(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A listening address split into what `Deno.serve` takes. */
export interface HostPort {
  hostname: string;
  port: number;
}

/**
 * Splits a listening address `host:port`: an IPv6 host goes in brackets (`[::1]:9464`), an empty
 * host (`:9464`) listens on every IPv4 interface, port 0 picks a free port. Throws
 * InvalidInputError naming `what` and the value otherwise. Pure.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./endpoints.ts";
 * parseHostPort("[::1]:9464"); // { hostname: "::1", port: 9464 }
 * parseHostPort(":9465"); // { hostname: "0.0.0.0", port: 9465 }
 * ```
 */
export function parseHostPort(address: string, what = "listening address"): HostPort {
  // A bare IPv6 host ("::1:80") is refused: which colon starts the port would be a guess.
  const m = /^(?:\[([0-9A-Fa-f:.%\w-]*:[0-9A-Fa-f:.%\w-]*)\]|([^\s:\[\]]*)):(\d{1,5})$/.exec(
    address.trim(),
  );
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65_535) {
    throw new InvalidInputError(
      `${what} '${address}' must be HOST:PORT, [IPV6]:PORT or :PORT (port 0-65535)`,
    );
  }
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/**
 * The address `host:port` a client dials for a bound hostname and port (IPv6 in brackets), the
 * inverse of parseHostPort. Pure.
 *
 * @example
 * ```ts
 * import { formatHostPort } from "./endpoints.ts";
 * formatHostPort("::1", 9464); // "[::1]:9464"
 * formatHostPort("127.0.0.1", 9464); // "127.0.0.1:9464"
 * ```
 */
export function formatHostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}
