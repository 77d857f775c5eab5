/**
 * TLS and credentials of the three services, read from the environment — every secret may also
 * come from a file (`…_FILE`, e.g. a Docker or Kubernetes secret). Never from the config plane:
 * etcd holds what to collect, not how to log in. Secrets are `Secret`s (core/secret.ts), so a
 * settings object can be logged. The client factories (kafka/connection.ts, config_plane/etcd.ts,
 * transfer/engine.ts, console/log_search.ts) use these when they are not given others.
 * See docs/security.md for the variables.
 * @module
 */
import { InvalidInputError } from "./errors.ts";
import { redactUrl, Secret } from "./secret.ts";

/** PEM material of a TLS connection; absent fields mean "the system's CAs" / "no client cert". */
export interface TlsSettings {
  /** CA certificate(s) that signed the server's certificate (PEM). */
  ca?: string;
  /** Client certificate (PEM), for servers that ask for one. */
  cert?: string;
  /** Client private key (PEM). */
  key?: Secret;
}

export type SaslMechanism = "plain" | "scram-sha-256" | "scram-sha-512";
export const SASL_MECHANISMS: readonly SaslMechanism[] = [
  "scram-sha-512",
  "scram-sha-256",
  "plain",
];

export interface KafkaSecurity {
  /** Present: connect with TLS (SASL_SSL / SSL listeners). */
  tls?: TlsSettings;
  sasl?: { mechanism: SaslMechanism; username: string; password: Secret };
}

export interface EtcdSecurity {
  /** Used with https:// endpoints. */
  tls?: TlsSettings;
  auth?: { username: string; password: Secret };
}

export type SearchAuth =
  | { kind: "basic"; username: string; password: Secret }
  | { kind: "apiKey"; apiKey: Secret };

export interface SearchSecurity {
  /** Used with an https:// URL. */
  tls?: TlsSettings;
  auth?: SearchAuth;
}

export interface SecuritySettings {
  kafka: KafkaSecurity;
  etcd: EtcdSecurity;
  search: SearchSecurity;
}

export type Env = Record<string, string | undefined>;
export type ReadFile = (path: string) => string;

const PEM_CERT = /-----BEGIN CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/** A value from `NAME` or from the file named by `NAME_FILE` (both set is an error). */
interface Read {
  text: string;
  /** "NAME" or "NAME_FILE=/path". */
  source: string;
}

function readSetting(env: Env, name: string, readFile: ReadFile): Read | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  const hasDirect = direct !== undefined && direct !== "";
  const hasFile = file !== undefined && file !== "";
  if (hasDirect && hasFile) {
    throw new InvalidInputError(
      `both ${name} and ${name}_FILE are set: set only one (${name}_FILE names a file that ` +
        `holds the value, ${name} is the value itself).`,
    );
  }
  if (hasDirect) return { text: direct, source: name };
  if (!hasFile) return undefined;
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    throw new InvalidInputError(
      `${name}_FILE=${file}: cannot read the file (${(error as Error).message}). Fix the path ` +
        `or its permissions, or unset ${name}_FILE.`,
      { cause: error },
    );
  }
  // `echo secret > file` leaves a newline that is not part of the secret.
  text = text.replace(/\r?\n$/, "");
  if (text === "") {
    throw new InvalidInputError(`${name}_FILE=${file}: the file is empty.`);
  }
  return { text, source: `${name}_FILE=${file}` };
}

function secretSetting(env: Env, name: string, readFile: ReadFile): Secret | undefined {
  const read = readSetting(env, name, readFile);
  return read && new Secret(read.text, read.source);
}

function pemSetting(
  env: Env,
  name: string,
  readFile: ReadFile,
  what: "certificate" | "key",
): Read | undefined {
  const read = readSetting(env, name, readFile);
  if (!read) return undefined;
  const pattern = what === "certificate" ? PEM_CERT : PEM_KEY;
  if (!pattern.test(read.text)) {
    const header = what === "certificate"
      ? "-----BEGIN CERTIFICATE-----"
      : "-----BEGIN PRIVATE KEY-----";
    throw new InvalidInputError(
      read.source === name
        ? `${name} does not hold a PEM ${what} (no '${header}' line). Put the PEM text in ${name}, ` +
          `or the path of a PEM file in ${name}_FILE.`
        : `${read.source}: the file is not a PEM ${what} (no '${header}' line).`,
    );
  }
  return read;
}

function tlsSettings(env: Env, prefix: string, readFile: ReadFile): TlsSettings | undefined {
  const ca = pemSetting(env, `${prefix}_TLS_CA`, readFile, "certificate")?.text;
  const cert = pemSetting(env, `${prefix}_TLS_CERT`, readFile, "certificate")?.text;
  const key = pemSetting(env, `${prefix}_TLS_KEY`, readFile, "key");
  if (Boolean(cert) !== Boolean(key)) {
    throw new InvalidInputError(
      `${prefix}_TLS_CERT and ${prefix}_TLS_KEY go together (a client certificate needs its ` +
        `key): set both, or neither.`,
    );
  }
  if (!ca && !cert) return undefined;
  return { ca, cert, key: key && new Secret(key.text, key.source) };
}

function userAndPassword(
  env: Env,
  prefix: string,
  readFile: ReadFile,
): { username: string; password: Secret } | undefined {
  const username = env[`${prefix}_USERNAME`] || undefined;
  const password = secretSetting(env, `${prefix}_PASSWORD`, readFile);
  if (username && !password) {
    throw new InvalidInputError(
      `${prefix}_USERNAME is set but no password: set ${prefix}_PASSWORD_FILE (a file holding ` +
        `the password) or ${prefix}_PASSWORD.`,
    );
  }
  if (password && !username) {
    throw new InvalidInputError(
      `a password is set (${password.source}) but ${prefix}_USERNAME is not: set the user name.`,
    );
  }
  return username && password ? { username, password } : undefined;
}

function flag(env: Env, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return undefined;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new InvalidInputError(`${name} must be true or false, got '${env[name]}'`);
}

/** Kafka: TLS when SLUICE_KAFKA_TLS=true or a CA / client certificate is given; SASL on top. */
export function kafkaSecurityFromEnv(
  env: Env = Deno.env.toObject(),
  readFile: ReadFile = Deno.readTextFileSync,
): KafkaSecurity {
  const tls = tlsSettings(env, "SLUICE_KAFKA", readFile);
  const tlsFlag = flag(env, "SLUICE_KAFKA_TLS");
  if (tlsFlag === false && tls) {
    throw new InvalidInputError(
      "SLUICE_KAFKA_TLS=false, but a TLS CA or client certificate is set (SLUICE_KAFKA_TLS_*): " +
        "unset one or the other.",
    );
  }
  const credentials = userAndPassword(env, "SLUICE_KAFKA", readFile);
  const rawMechanism = env.SLUICE_KAFKA_SASL_MECHANISM?.trim().toLowerCase() || undefined;
  if (rawMechanism && !SASL_MECHANISMS.includes(rawMechanism as SaslMechanism)) {
    throw new InvalidInputError(
      `SLUICE_KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(", ")}, got ` +
        `'${env.SLUICE_KAFKA_SASL_MECHANISM}'`,
    );
  }
  if (credentials && !rawMechanism) {
    throw new InvalidInputError(
      "SLUICE_KAFKA_USERNAME is set but SLUICE_KAFKA_SASL_MECHANISM is not: set it to the " +
        `mechanism of the broker's listener (${SASL_MECHANISMS.join(", ")}).`,
    );
  }
  if (rawMechanism && !credentials) {
    throw new InvalidInputError(
      `SLUICE_KAFKA_SASL_MECHANISM=${rawMechanism} needs SLUICE_KAFKA_USERNAME and ` +
        "SLUICE_KAFKA_PASSWORD_FILE (or SLUICE_KAFKA_PASSWORD).",
    );
  }
  const security: KafkaSecurity = {};
  if (tls) security.tls = tls;
  else if (tlsFlag) security.tls = {};
  if (credentials) security.sasl = { mechanism: rawMechanism as SaslMechanism, ...credentials };
  return security;
}

/** etcd: TLS material for https:// endpoints, and a user with its password. */
export function etcdSecurityFromEnv(
  env: Env = Deno.env.toObject(),
  readFile: ReadFile = Deno.readTextFileSync,
): EtcdSecurity {
  const security: EtcdSecurity = {};
  const tls = tlsSettings(env, "SLUICE_ETCD", readFile);
  if (tls) security.tls = tls;
  const auth = userAndPassword(env, "SLUICE_ETCD", readFile);
  if (auth) security.auth = auth;
  return security;
}

/**
 * The search engine: a CA for an https:// URL, and basic auth or an API key. A user and password
 * written into SLUICE_SEARCH_URL (`https://user:pass@host`) count as basic auth too.
 */
export function searchSecurityFromEnv(
  env: Env = Deno.env.toObject(),
  readFile: ReadFile = Deno.readTextFileSync,
): SearchSecurity {
  const security: SearchSecurity = {};
  const tls = tlsSettings(env, "SLUICE_SEARCH", readFile);
  if (tls) security.tls = tls;
  let basic = userAndPassword(env, "SLUICE_SEARCH", readFile);
  const inUrl = env.SLUICE_SEARCH_URL ? credentialsInUrl(env.SLUICE_SEARCH_URL) : undefined;
  if (inUrl) {
    if (basic) {
      throw new InvalidInputError(
        `SLUICE_SEARCH_URL (${redactUrl(env.SLUICE_SEARCH_URL!)}) carries a user and password, ` +
          "and SLUICE_SEARCH_USERNAME is set too: keep one (the variables are preferred).",
      );
    }
    basic = {
      username: inUrl.username,
      password: new Secret(inUrl.password, "SLUICE_SEARCH_URL"),
    };
  }
  const apiKey = secretSetting(env, "SLUICE_SEARCH_API_KEY", readFile);
  if (apiKey && basic) {
    throw new InvalidInputError(
      "both an API key (SLUICE_SEARCH_API_KEY) and a user (SLUICE_SEARCH_USERNAME or a user in " +
        "SLUICE_SEARCH_URL) are set: the search engine takes one; unset the other.",
    );
  }
  if (apiKey) security.auth = { kind: "apiKey", apiKey };
  else if (basic) security.auth = { kind: "basic", ...basic };
  return security;
}

/** The user and password written into a URL, decoded; undefined when there are none. */
export function credentialsInUrl(url: string): { username: string; password: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!parsed.username) return undefined;
  return {
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

/**
 * The security settings of every service, from an environment (default: the process's) with
 * `…_FILE` variables read through `readFile`. Throws InvalidInputError naming the variable and
 * the fix when a setting is inconsistent or a file cannot be read.
 *
 * @example
 * ```ts
 * import { securityFromEnv } from "./security.ts";
 * const s = securityFromEnv({
 *   SLUICE_KAFKA_SASL_MECHANISM: "scram-sha-512",
 *   SLUICE_KAFKA_USERNAME: "sluice",
 *   SLUICE_KAFKA_PASSWORD_FILE: "/run/secrets/kafka",
 * }, () => "pw-from-file\n");
 * s.kafka.sasl?.password.reveal(); // "pw-from-file"
 * String(s.kafka.sasl?.password); // "[redacted]"
 * ```
 */
export function securityFromEnv(
  env: Env = Deno.env.toObject(),
  readFile: ReadFile = Deno.readTextFileSync,
): SecuritySettings {
  return {
    kafka: kafkaSecurityFromEnv(env, readFile),
    etcd: etcdSecurityFromEnv(env, readFile),
    search: searchSecurityFromEnv(env, readFile),
  };
}

/** The environment variables of the security settings (docs, `--help` epilogs, tests). */
export const SECURITY_VARIABLES: readonly string[] = [
  "SLUICE_KAFKA_TLS",
  ...["TLS_CA", "TLS_CERT", "TLS_KEY", "PASSWORD"].flatMap((v) => [
    `SLUICE_KAFKA_${v}`,
    `SLUICE_KAFKA_${v}_FILE`,
  ]),
  "SLUICE_KAFKA_SASL_MECHANISM",
  "SLUICE_KAFKA_USERNAME",
  ...["TLS_CA", "TLS_CERT", "TLS_KEY", "PASSWORD"].flatMap((v) => [
    `SLUICE_ETCD_${v}`,
    `SLUICE_ETCD_${v}_FILE`,
  ]),
  "SLUICE_ETCD_USERNAME",
  ...["TLS_CA", "TLS_CERT", "TLS_KEY", "PASSWORD", "API_KEY"].flatMap((v) => [
    `SLUICE_SEARCH_${v}`,
    `SLUICE_SEARCH_${v}_FILE`,
  ]),
  "SLUICE_SEARCH_USERNAME",
];

/** Whether a connection failure is about TLS or about credentials (or neither). */
export type SecurityFailure = "tls" | "auth" | undefined;

/**
 * Classifies a client library's error text: "tls" for a certificate or handshake problem, "auth"
 * for rejected credentials. Messages come from kafkajs, grpc-js (etcd3), the Elasticsearch and
 * OpenSearch clients and fetch.
 *
 * @example
 * ```ts
 * import { classifySecurityFailure } from "./security.ts";
 * classifySecurityFailure("self-signed certificate in certificate chain"); // "tls"
 * classifySecurityFailure("SASL SCRAM SHA512 authentication failed"); // "auth"
 * ```
 */
export function classifySecurityFailure(text: string): SecurityFailure {
  if (
    /certificate|self[- ]signed|unable to verify|UNABLE_TO_VERIFY|SSL routines|TLS|handshake|wrong version number|invalid peer certificate|UnknownIssuer|CERT_/i
      .test(text)
  ) return "tls";
  if (
    /authentication failed|invalid user ID or password|SASL|401|Unauthorized|not authenticated|user name is empty|permission denied|security_exception|invalid auth token|Illegal SASL/i
      .test(text)
  ) return "auth";
  return undefined;
}
