/**
 * The local stack as a whole: start what is missing (once), report what answers, stop only what
 * was started here. `stack/main.ts` (the CLI), `tests/run.ts` and `demo/main.ts` all use these
 * functions, so "running twice starts nothing twice" holds for every caller.
 * @module
 */
import { denoCommand } from "../core/cli.ts";
import { type Endpoints, endpointsFromEnv } from "../core/endpoints.ts";
import { SluiceError, UnreachableError } from "../core/errors.ts";
import { etcdService } from "./etcd.ts";
import { kafkaService } from "./kafka.ts";
import { openSearchService } from "./opensearch.ts";
import { tailFile } from "../core/child.ts";
import { isListening, portOwner } from "./ports.ts";
import { launchDetached, ownedPid, terminate, waitUntil, withLockFile } from "./process.ts";
import {
  isManagedAddress,
  type Progress,
  SERVICE_NAMES,
  type ServiceDefinition,
  type ServiceName,
  servicePaths,
  STACK_DIR,
} from "./service.ts";

const DEFINITIONS: Record<ServiceName, ServiceDefinition> = {
  etcd: etcdService,
  kafka: kafkaService,
  opensearch: openSearchService,
};

/** The environment variable that moves each service elsewhere. */
export const OVERRIDE_VARIABLE: Record<ServiceName, string> = {
  etcd: "SLUICE_ETCD_ENDPOINTS",
  kafka: "SLUICE_KAFKA_BROKERS",
  opensearch: "SLUICE_SEARCH_URL",
};

/**
 * - running: started by stack:up and answering;
 * - external: answering, but not started by stack:up (an env override, or a service someone
 *   else runs on the standard port): used, never stopped;
 * - stopped: nothing answers and nothing of ours runs;
 * - starting: our process is alive but does not answer (yet);
 * - unreachable: an external address that does not answer.
 */
export type ServiceState = "running" | "external" | "stopped" | "starting" | "unreachable";

export interface ServiceStatus {
  name: ServiceName;
  state: ServiceState;
  /** True when the service answers its health check. */
  answering: boolean;
  /** True when stack:up runs this service itself (its address is the standard loopback one). */
  managed: boolean;
  version?: string;
  /** The address clients use. */
  address: string;
  /** Pid of the process stack:up started. */
  pid?: number;
  /** Log file of the process stack:up runs. */
  logFile?: string;
  /** Why it does not answer. */
  error?: string;
}

export interface StackOptions {
  /** Where the services are (default: from SLUICE_* variables). */
  endpoints?: Endpoints;
  /** Receives progress lines (default: stderr). */
  progress?: Progress;
  /** The services to act on (default: all three). */
  services?: readonly ServiceName[];
  /** Folder for data, logs and pid files (default: `.stack/` in the repository). */
  stackDir?: string;
}

/** Something other than our service holds a port the service needs. */
export class PortBusyError extends SluiceError {}

/** A service was started but did not answer in time, or its process died. */
export class ServiceStartError extends SluiceError {}

const defaultProgress: Progress = (line) => console.error(line);

function resolve(options: StackOptions) {
  return {
    endpoints: options.endpoints ?? endpointsFromEnv(),
    progress: options.progress ?? defaultProgress,
    services: options.services ?? SERVICE_NAMES,
    stackDir: options.stackDir ?? STACK_DIR,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The state of one service: whether it answers, whether we run it, its version and files.
 *
 * @example
 * ```ts
 * import { serviceStatus } from "./stack.ts";
 * const kafka = await serviceStatus("kafka");
 * console.log(kafka.state, kafka.address); // e.g. "running 127.0.0.1:9092"
 * ```
 */
export async function serviceStatus(
  name: ServiceName,
  options: StackOptions = {},
): Promise<ServiceStatus> {
  const { endpoints, stackDir } = resolve(options);
  const definition = DEFINITIONS[name];
  const address = definition.address(endpoints);
  const managed = isManagedAddress(address, definition.defaultPort);
  const paths = servicePaths(name, stackDir);
  const pid = managed ? await ownedPid(paths.pidFile, paths.dir) : undefined;
  let version: string | undefined;
  let error: string | undefined;
  try {
    version = (await definition.probe(address)).version;
  } catch (e) {
    error = errorText(e);
  }
  const answering = error === undefined;
  if (answering && version === "unknown" && pid !== undefined) {
    version = await definition.installedVersion?.(paths) ?? version;
  }
  let state: ServiceState;
  if (answering) state = pid !== undefined ? "running" : "external";
  else if (pid !== undefined) state = "starting";
  else state = managed ? "stopped" : "unreachable";
  return {
    name,
    state,
    answering,
    managed,
    version,
    address: address.display,
    pid,
    // A service someone else runs on our port does not write to our log.
    logFile: managed && state !== "external" ? paths.logFile : undefined,
    error,
  };
}

/**
 * The state of every service (or of `options.services`), checked in parallel.
 *
 * @example
 * ```ts
 * import { stackStatus } from "./stack.ts";
 * const statuses = await stackStatus();
 * const allUp = statuses.every((s) => s.answering);
 * ```
 */
export async function stackStatus(options: StackOptions = {}): Promise<ServiceStatus[]> {
  const { services } = resolve(options);
  return await Promise.all(services.map((name) => serviceStatus(name, options)));
}

/** The result of starting one service. */
export interface StartResult {
  status: ServiceStatus;
  /** True when this call started the process (and so the caller may stop it). */
  started: boolean;
}

/**
 * Starts `name` unless it already answers (ours or external), and waits until it answers.
 * Throws PortBusyError when a stranger holds one of its ports, ServiceStartError (with the tail
 * of its log) when it does not come up, UnreachableError when an external address is down.
 *
 * @example
 * ```ts
 * import { startService, stopService } from "./stack.ts";
 * await stopService("kafka"); // e.g. to test that the agent survives a Kafka outage
 * await startService("kafka");
 * ```
 */
export async function startService(
  name: ServiceName,
  options: StackOptions = {},
): Promise<StartResult> {
  const { endpoints, progress, stackDir } = resolve(options);
  const definition = DEFINITIONS[name];
  const address = definition.address(endpoints);
  const paths = servicePaths(name, stackDir);

  if (!isManagedAddress(address, definition.defaultPort)) {
    const status = await serviceStatus(name, options);
    if (status.answering) return { status, started: false };
    throw new UnreachableError(
      `${name} at ${address.display} (from ${OVERRIDE_VARIABLE[name]}) does not answer: ` +
        `${status.error}\nFix: start it, or unset ${OVERRIDE_VARIABLE[name]} so that stack:up ` +
        "runs a local one.",
    );
  }

  await Deno.mkdir(paths.dir, { recursive: true });
  // Whoever holds the lock starts the service; a second stack:up waits, then finds it running.
  return await withLockFile(
    `${paths.dir}/start.lock`,
    definition.startTimeoutMs + 60_000,
    async () => {
      const running = await ownedPid(paths.pidFile, paths.dir);
      if (running !== undefined) {
        // Ours and alive: maybe still starting (a parallel stack:up); wait for it, start nothing.
        await waitForAnswer(definition, address, paths.logFile, paths.pidFile, paths.dir, progress);
        return { status: await serviceStatus(name, options), started: false };
      }

      const before = await serviceStatus(name, options);
      if (before.answering) return { status: before, started: false };

      for (const port of definition.ports) {
        if (await isListening("127.0.0.1", port)) {
          const owner = await portOwner(port) ?? "another process";
          throw new PortBusyError(
            `${name} cannot start: port ${port} is held by ${owner}, which does not answer as ${name}.\n` +
              `Fix: stop that process, or point ${OVERRIDE_VARIABLE[name]} at the ${name} you ` +
              "run yourself to use it instead.",
          );
        }
      }

      await definition.prepare(paths, progress);
      const command = await definition.command(paths);
      await Deno.writeTextFile(
        paths.logFile,
        `\n=== ${new Date().toISOString()} sluice stack: ${command.join(" ")}\n`,
        { append: true },
      );
      const pid = await launchDetached({
        command,
        cwd: paths.dir,
        logFile: paths.logFile,
        pidFile: paths.pidFile,
      });
      progress(
        `${name}: started pid ${pid}, waiting for ${address.display} (log ${paths.logFile})`,
      );
      try {
        await waitForAnswer(definition, address, paths.logFile, paths.pidFile, paths.dir, progress);
      } catch (error) {
        await terminate(pid, definition.stopGraceMs);
        await Deno.remove(paths.pidFile).catch(() => {});
        throw error;
      }
      const status = await serviceStatus(name, options);
      progress(`${name}: ready (${status.version ?? "version unknown"})`);
      return { status, started: true };
    },
  );
}

async function waitForAnswer(
  definition: ServiceDefinition,
  address: ReturnType<ServiceDefinition["address"]>,
  logFile: string,
  pidFile: string,
  marker: string,
  progress: Progress,
): Promise<void> {
  const started = Date.now();
  try {
    await waitUntil(() => definition.probe(address).then(() => true), {
      timeoutMs: definition.startTimeoutMs,
      intervalMs: 1000,
      progressEveryMs: 10_000,
      onProgress: (s) =>
        progress(`${definition.name}: still waiting for ${address.display} (${s} s)`),
      abortReason: async () =>
        await ownedPid(pidFile, marker) === undefined ? "its process exited" : undefined,
    });
  } catch (error) {
    const seconds = Math.round((Date.now() - started) / 1000);
    const tail = await tailFile(logFile, 30);
    throw new ServiceStartError(
      `${definition.name} did not come up after ${seconds} s: ${errorText(error)}\n` +
        `--- last lines of ${logFile} ---\n${tail.join("\n")}\n---\n` +
        `Fix: read the log above; \`${denoCommand()} task stack:down\` and then ` +
        `\`${denoCommand()} task stack:up\` retries.`,
    );
  }
}

/**
 * Stops `name` if stack:up (in any process) started it: SIGTERM, then SIGKILL after the
 * service's grace period. External services are never touched. Returns true when it stopped
 * a process.
 */
export async function stopService(name: ServiceName, options: StackOptions = {}): Promise<boolean> {
  const { progress, stackDir } = resolve(options);
  const definition = DEFINITIONS[name];
  const paths = servicePaths(name, stackDir);
  const pid = await ownedPid(paths.pidFile, paths.dir);
  if (pid === undefined) return false;
  progress(`${name}: stopping pid ${pid}`);
  const how = await terminate(pid, definition.stopGraceMs);
  if (how === "killed") {
    progress(`${name}: did not exit within ${definition.stopGraceMs / 1000} s of SIGTERM, killed`);
  }
  await Deno.remove(paths.pidFile).catch(() => {});
  return true;
}

/** What `ensureStack` did: hand `started` to `stopStack` to leave the machine as it was. */
export interface StackHandle {
  /** The services this call started (the others were already answering). */
  started: ServiceName[];
  /** The state of every requested service once all answer. */
  statuses: ServiceStatus[];
}

/**
 * Starts every service that does not answer yet (etcd first, then Kafka and OpenSearch side by
 * side) and waits until all answer. If one fails, the ones this call started are stopped again
 * before the error is thrown.
 *
 * @example
 * ```ts
 * import { ensureStack, stopStack } from "./stack.ts";
 * const stack = await ensureStack();
 * try {
 *   // ... run integration tests against 127.0.0.1:2379, :9092, :9200 ...
 * } finally {
 *   await stopStack(stack); // stops only what ensureStack started
 * }
 * ```
 */
export async function ensureStack(options: StackOptions = {}): Promise<StackHandle> {
  const { services } = resolve(options);
  const started: ServiceName[] = [];
  const startOne = async (name: ServiceName) => {
    const result = await startService(name, options);
    if (result.started) started.push(name);
  };
  try {
    if (services.includes("etcd")) await startOne("etcd");
    const rest = services.filter((name) => name !== "etcd");
    const results = await Promise.allSettled(rest.map(startOne));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  } catch (error) {
    if (started.length > 0) await stopStack(started, options);
    throw error;
  }
  return { started, statuses: await stackStatus(options) };
}

/**
 * Stops the given services (or those a StackHandle started), etcd last. Services stack:up did
 * not start are left alone. Returns the names of those it stopped.
 */
export async function stopStack(
  which: StackHandle | readonly ServiceName[],
  options: StackOptions = {},
): Promise<ServiceName[]> {
  const names = Array.isArray(which) ? which : (which as StackHandle).started;
  const chosen = SERVICE_NAMES.filter((name) => names.includes(name));
  const stopped: ServiceName[] = [];
  const stopOne = async (name: ServiceName) => {
    if (await stopService(name, options)) stopped.push(name);
  };
  // Kafka and OpenSearch stop side by side (each takes seconds); etcd, started first, goes last.
  await Promise.all(chosen.filter((name) => name !== "etcd").map(stopOne));
  if (chosen.includes("etcd")) await stopOne("etcd");
  return stopped;
}
