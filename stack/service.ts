/**
 * What every service of the local stack (etcd, Kafka, OpenSearch) tells the orchestrator in
 * stack/stack.ts: where its files live under `.stack/`, how it is prepared and started, and how
 * to ask it whether it answers.
 * @module
 */
import type { Endpoints } from "../core/endpoints.ts";

export type ServiceName = "etcd" | "kafka" | "opensearch";

/** The services in start order (etcd first: it is the smallest and the config plane's base). */
export const SERVICE_NAMES: readonly ServiceName[] = ["etcd", "kafka", "opensearch"];

/** Receives one human-readable progress line (e.g. "kafka: waiting for 127.0.0.1:9092 (10 s)"). */
export type Progress = (line: string) => void;

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

/** Files of one managed service under `.stack/<name>/`. */
export interface ServicePaths {
  dir: string;
  logFile: string;
  pidFile: string;
}

export interface ServiceDefinition {
  name: ServiceName;
  /** The default address when no SLUICE_* variable overrides it. */
  defaultPort: number;
  /** The address clients use, from the endpoints (env overrides applied). */
  address(endpoints: Endpoints): ServiceAddress;
  /** Every port a managed instance binds on 127.0.0.1 (checked before it starts). */
  ports: number[];
  /** Installs or resolves what is missing and writes config files. */
  prepare(paths: ServicePaths, progress: Progress): Promise<void>;
  /** The command that runs the service in the foreground. */
  command(paths: ServicePaths): Promise<string[]>;
  /** The version a managed instance runs, for services whose probe cannot tell (Kafka). */
  installedVersion?(paths: ServicePaths): Promise<string | undefined>;
  /** Resolves when the service answers at `address`; throws with the reason otherwise. */
  probe(address: ServiceAddress): Promise<ProbeResult>;
  /** How long a start may take before it counts as failed. */
  startTimeoutMs: number;
  /** How long a SIGTERM may take before SIGKILL. */
  stopGraceMs: number;
}

/** The repository root (the folder that holds deno.json). */
export const REPO_ROOT: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The git-ignored folder with data, logs, pid files and resolved jars. */
export const STACK_DIR = `${REPO_ROOT}/.stack`;

/** The files of `name` under `.stack/`. */
export function servicePaths(name: ServiceName, stackDir: string = STACK_DIR): ServicePaths {
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
