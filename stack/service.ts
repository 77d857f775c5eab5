/**
 * What every service of the local stack (etcd, Kafka, OpenSearch, Elasticsearch) tells the one
 * orchestrator in stack/stack.ts, whichever variant (plain, secure) runs it: where its files live,
 * how it is prepared and started, and how to ask it whether it answers.
 * @module
 */
import type { Endpoints } from "../core/endpoints.ts";
import type { CertificatePaths } from "./secure/certs.ts";
import type { CredentialFiles } from "./secure/credentials.ts";

export type ServiceName = "etcd" | "kafka" | "opensearch" | "elasticsearch";

/**
 * The services in start order (etcd first: it is the smallest and the config plane's base; the
 * others start side by side after it).
 */
export const SERVICE_NAMES: readonly ServiceName[] = [
  "etcd",
  "kafka",
  "opensearch",
  "elasticsearch",
];

/** The search engines among the services. */
export type EngineServiceName = "opensearch" | "elasticsearch";

/**
 * The standard loopback HTTP port of each engine of the plain stack. Both share one client
 * variable, SLUICE_SEARCH_URL: `engineAddress` decides which engine it moves.
 */
export const ENGINE_PORTS: Record<EngineServiceName, number> = {
  opensearch: 9200,
  elasticsearch: 9220,
};

import type { Progress } from "./prerequisites.ts";
export type { Progress };

/** Where a service is reached. */
export interface ServiceAddress {
  host: string;
  port: number;
  /** As the user configured it, e.g. "http://127.0.0.1:2379". */
  display: string;
}

/** What a service said when it answered. */
export interface ProbeResult {
  version: string;
}

/** Files of one member of a service under its variant's folder (`.stack/<member>/`). */
export interface ServicePaths {
  dir: string;
  logFile: string;
  pidFile: string;
}

/** The certificates and password files of the secure variant. */
export interface SecureMaterial {
  certs: CertificatePaths;
  credentials: CredentialFiles;
}

/** Everything a service's hooks get: its variant's folder, its own files, where clients are. */
export interface ServiceContext {
  /** The variant's folder: `.stack` (plain) or `.stack/secure`. */
  root: string;
  /** This member's folder (`<root>/<member>`). */
  dir: string;
  paths: ServicePaths;
  /** Where the services are (env overrides applied; the plain variant reads them). */
  endpoints: Endpoints;
  progress: Progress;
}

/** The context of a secure service: also its certificates and password files. */
export interface SecureContext extends ServiceContext, SecureMaterial {}

/**
 * One service as one variant runs it. Hooks are methods, so a variant may declare them on a
 * wider context (the secure ones take a SecureContext: its variant makes one).
 */
export interface ServiceDefinition<C extends ServiceContext = ServiceContext> {
  name: ServiceName;
  /** The port of the address a managed instance serves (the standard loopback one). */
  defaultPort: number;
  /** The address clients use (env overrides applied, for the variants that allow them). */
  address(ctx: C): ServiceAddress;
  /** Every port a managed instance binds on 127.0.0.1 (checked before it starts). */
  ports: number[];
  /** Installs or resolves what is missing and writes config files. */
  prepare(ctx: C): Promise<void>;
  /** The command that runs the service in the foreground. */
  command(ctx: C): Promise<string[]>;
  /** The version a managed instance runs, for services whose probe cannot tell (Kafka). */
  installedVersion?(ctx: C): Promise<string | undefined>;
  /** Resolves when the service answers as clients will use it; throws with the reason otherwise. */
  probe(ctx: C, address: ServiceAddress): Promise<ProbeResult>;
  /** Runs once it answers, before it counts as started (idempotent; secure etcd: users, auth). */
  afterStart?(ctx: C): Promise<void>;
  /** How long a start may take before it counts as failed. */
  startTimeoutMs: number;
  /** How long a SIGTERM may take before SIGKILL. */
  stopGraceMs: number;
}

/** The repository root (the folder that holds deno.json). */
export const REPO_ROOT: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The git-ignored folder with data, logs, pid files and resolved jars. */
export const STACK_DIR = `${REPO_ROOT}/.stack`;

/** The files of member `name` (a service name, or e.g. `kafka-2` in a cluster) under `stackDir`. */
export function servicePaths(name: string, stackDir: string = STACK_DIR): ServicePaths {
  const dir = `${stackDir}/${name}`;
  return { dir, logFile: `${dir}/${name}.log`, pidFile: `${dir}/${name}.pid` };
}

/** Loopback names that count as "this machine" when deciding whether an address is ours. */
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * True when `address` is the standard loopback address of a service that `stack:up` runs
 * itself; any other address (an env override pointing elsewhere) is an external service that
 * is only checked.
 *
 * @example
 * ```ts
 * import { isManagedAddress } from "./service.ts";
 * isManagedAddress({ host: "localhost", port: 9092, display: "localhost:9092" }, 9092); // true
 * isManagedAddress({ host: "kafka.internal", port: 9092, display: "kafka.internal:9092" }, 9092); // false
 * ```
 */
export function isManagedAddress(address: ServiceAddress, defaultPort: number): boolean {
  return LOOPBACK.has(address.host) && address.port === defaultPort;
}

/**
 * host and port from "host:port", "http://host:port/" or "[::1]:port"; the default port
 * when none is given.
 */
export function parseAddress(text: string, defaultPort: number): ServiceAddress {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `tcp://${text}`;
  const url = new URL(withScheme);
  const port = url.port ? Number(url.port) : (url.protocol === "https:" ? 443 : defaultPort);
  return { host: url.hostname, port, display: text };
}

/**
 * The address of the plain stack's engine `self`, from SLUICE_SEARCH_URL: that URL moves the
 * engine it names, and leaves the other at its standard loopback address (a test run pointed at
 * the local Elasticsearch must still see the local OpenSearch as the stack's own). Pure.
 *
 * @example
 * ```ts
 * import { engineAddress } from "./service.ts";
 * engineAddress("http://127.0.0.1:9220", "opensearch").display; // "http://127.0.0.1:9200"
 * engineAddress("http://127.0.0.1:9220", "elasticsearch").display; // "http://127.0.0.1:9220"
 * engineAddress("https://es.internal:9200", "elasticsearch").display; // "https://es.internal:9200"
 * ```
 */
export function engineAddress(searchUrl: string, self: EngineServiceName): ServiceAddress {
  const own = `http://127.0.0.1:${ENGINE_PORTS[self]}`;
  const address = parseAddress(searchUrl, ENGINE_PORTS[self]);
  const named = localEngineAt(searchUrl);
  // A local engine's address names that engine; anything else (elsewhere) moves the default one.
  if (named !== undefined) return named === self ? address : parseAddress(own, ENGINE_PORTS[self]);
  return self === "opensearch" ? address : parseAddress(own, ENGINE_PORTS[self]);
}

/**
 * Which engine of the local stack `searchUrl` points at, by its standard loopback port, or
 * undefined for an engine elsewhere (tests use it to stop and start the engine under test). Pure.
 *
 * @example
 * ```ts
 * import { localEngineAt } from "./service.ts";
 * localEngineAt("http://127.0.0.1:9200"); // "opensearch"
 * localEngineAt("http://localhost:9220"); // "elasticsearch"
 * localEngineAt("https://search.example.com"); // undefined
 * ```
 */
export function localEngineAt(searchUrl: string): EngineServiceName | undefined {
  const address = parseAddress(searchUrl, ENGINE_PORTS.opensearch);
  for (const [engine, port] of Object.entries(ENGINE_PORTS)) {
    if (isManagedAddress(address, port)) return engine as EngineServiceName;
  }
  return undefined;
}
