/**
 * Where the services are. One place reads the environment so that the stack scripts, the CLI,
 * the agent, the transfer and the tests agree; each can still be overridden by a flag. How to
 * connect to them (TLS, SASL, users and passwords) is read by the sibling core/security.ts.
 * @module
 */
import { redactUrl } from "./secret.ts";

export interface Endpoints {
  /** etcd client URLs (SLUICE_ETCD_ENDPOINTS, comma separated). */
  etcd: string[];
  /** Key prefix of the config plane in etcd (SLUICE_ETCD_PREFIX). */
  etcdPrefix: string;
  /** Kafka bootstrap brokers host:port (SLUICE_KAFKA_BROKERS, comma separated). */
  kafka: string[];
  /**
   * Search engine base URL (SLUICE_SEARCH_URL), without the user and password it may carry:
   * those are credentials, read by core/security.ts, and must not be printed with the address.
   */
  search: string;
}

export const DEFAULT_ENDPOINTS: Endpoints = {
  etcd: ["http://127.0.0.1:2379"],
  etcdPrefix: "/sluice",
  kafka: ["127.0.0.1:9092"],
  search: "http://127.0.0.1:9200",
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
 * ```
 */
export function endpointsFromEnv(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Endpoints {
  return {
    etcd: list(env.SLUICE_ETCD_ENDPOINTS) ?? DEFAULT_ENDPOINTS.etcd,
    etcdPrefix: env.SLUICE_ETCD_PREFIX || DEFAULT_ENDPOINTS.etcdPrefix,
    kafka: list(env.SLUICE_KAFKA_BROKERS) ?? DEFAULT_ENDPOINTS.kafka,
    search: env.SLUICE_SEARCH_URL ? redactUrl(env.SLUICE_SEARCH_URL) : DEFAULT_ENDPOINTS.search,
  };
}
