/**
 * The users and generated passwords of the secure stack, and the environment a sluice process
 * needs to use it. Passwords are random, made once, and live in files (mode 0600) under
 * `.stack/secure/secrets/`: clients read them through the `…_PASSWORD_FILE` variables, so no
 * password is ever on a command line or in the environment in clear.
 * @module
 */
import { randomPassword } from "./certs.ts";

/** The user every sluice process logs in as, on each service. */
export const SLUICE_USER = "sluice";

/** The secure services' client addresses (all on loopback, beside the plaintext stack). */
export const SECURE_PORTS = {
  etcdClient: 2479,
  etcdPeer: 2480,
  kafkaBroker: 9192,
  kafkaController: 9193,
  openSearchHttp: 9201,
  openSearchTransport: 9400,
  elasticsearchHttp: 9222,
  elasticsearchTransport: 9322,
} as const;

export const SECURE_ADDRESSES = {
  // A host name, not 127.0.0.1: etcd's gRPC client on Deno cannot use TLS with an IP address
  // (config_plane/etcd.ts explains); the server certificate names both.
  etcd: `https://localhost:${SECURE_PORTS.etcdClient}`,
  kafka: `127.0.0.1:${SECURE_PORTS.kafkaBroker}`,
  opensearch: `https://127.0.0.1:${SECURE_PORTS.openSearchHttp}`,
  elasticsearch: `https://127.0.0.1:${SECURE_PORTS.elasticsearchHttp}`,
} as const;

/** Password files of the secure stack. */
export interface CredentialFiles {
  dir: string;
  /** Kafka's inter-broker user `admin` (SCRAM-SHA-512). */
  kafkaAdmin: string;
  kafkaSluice: string;
  /** etcd's `root` user (needed to turn auth on); sluice never uses it. */
  etcdRoot: string;
  etcdSluice: string;
  /** OpenSearch's `admin` (all_access); sluice never uses it. */
  openSearchAdmin: string;
  openSearchSluice: string;
  /** Elasticsearch's `admin` (superuser, file realm); sluice never uses it. */
  elasticsearchAdmin: string;
  elasticsearchSluice: string;
}

/** The password files under `dir` (pure). */
export function credentialFiles(dir: string): CredentialFiles {
  return {
    dir,
    kafkaAdmin: `${dir}/kafka-admin.password`,
    kafkaSluice: `${dir}/kafka-sluice.password`,
    etcdRoot: `${dir}/etcd-root.password`,
    etcdSluice: `${dir}/etcd-sluice.password`,
    openSearchAdmin: `${dir}/opensearch-admin.password`,
    openSearchSluice: `${dir}/opensearch-sluice.password`,
    elasticsearchAdmin: `${dir}/elasticsearch-admin.password`,
    elasticsearchSluice: `${dir}/elasticsearch-sluice.password`,
  };
}

/**
 * Makes the password files that are missing. Returns the services (`etcd`, `kafka`, `opensearch`,
 * `elasticsearch`) that got a new password: their data holds other passwords and must be made
 * afresh.
 */
export async function ensureCredentials(dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const files = credentialFiles(dir);
  const made = new Set<string>();
  for (const [key, path] of Object.entries(files)) {
    if (key === "dir") continue;
    const present = await Deno.stat(path).then(() => true, () => false);
    if (present) continue;
    await Deno.writeTextFile(path, randomPassword() + "\n", { mode: 0o600 });
    made.add(path.slice(dir.length + 1).split("-")[0]);
  }
  return [...made];
}

/** The password in a file written by `ensureCredentials`. */
export async function readPassword(path: string): Promise<string> {
  return (await Deno.readTextFile(path)).replace(/\r?\n$/, "");
}

/**
 * The SLUICE_* variables that point a sluice process (agent, transfer, config CLI, console) at
 * the secure stack: TLS with its CA and the `sluice` user on every service, passwords by file;
 * the search engine is the secure OpenSearch, or the secure Elasticsearch.
 *
 * @example
 * ```ts ignore
 * import { secureClientEnv } from "./credentials.ts";
 * const env = secureClientEnv(".stack/secure");
 * // env.SLUICE_KAFKA_BROKERS === "127.0.0.1:9192", env.SLUICE_KAFKA_PASSWORD_FILE ends in .password
 * ```
 */
export function secureClientEnv(
  root: string,
  engine: "opensearch" | "elasticsearch" = "opensearch",
): Record<string, string> {
  const ca = `${root}/certs/ca.pem`;
  const secrets = credentialFiles(`${root}/secrets`);
  const search = engine === "elasticsearch"
    ? { url: SECURE_ADDRESSES.elasticsearch, password: secrets.elasticsearchSluice }
    : { url: SECURE_ADDRESSES.opensearch, password: secrets.openSearchSluice };
  return {
    SLUICE_ETCD_ENDPOINTS: SECURE_ADDRESSES.etcd,
    SLUICE_ETCD_TLS_CA_FILE: ca,
    SLUICE_ETCD_USERNAME: SLUICE_USER,
    SLUICE_ETCD_PASSWORD_FILE: secrets.etcdSluice,
    SLUICE_KAFKA_BROKERS: SECURE_ADDRESSES.kafka,
    SLUICE_KAFKA_TLS_CA_FILE: ca,
    SLUICE_KAFKA_SASL_MECHANISM: "scram-sha-512",
    SLUICE_KAFKA_USERNAME: SLUICE_USER,
    SLUICE_KAFKA_PASSWORD_FILE: secrets.kafkaSluice,
    SLUICE_SEARCH_URL: search.url,
    SLUICE_SEARCH_TLS_CA_FILE: ca,
    SLUICE_SEARCH_USERNAME: SLUICE_USER,
    SLUICE_SEARCH_PASSWORD_FILE: search.password,
  };
}
