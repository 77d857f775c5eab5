/**
 * The local stack as a whole, for every variant (stack/variants.ts: plain, secure, cluster): start what is
 * missing (once), report what answers, stop only what was started here. `stack/main.ts` (the
 * CLI), `tests/run.ts` and `demo/main.ts` all use these functions, so "running twice starts
 * nothing twice" holds for every caller and every variant.
 * @module
 */
import { denoCommand } from "../core/cli.ts";
import { type Endpoints, endpointsFromEnv } from "../core/endpoints.ts";
import { SluiceError, UnreachableError } from "../core/errors.ts";
import { tailFile } from "../core/child.ts";
import { isListening, portOwner } from "./ports.ts";
import { launchDetached, ownedPid, terminate, waitUntil, withLockFile } from "./process.ts";
import {
  isManagedAddress,
  type Progress,
  SERVICE_NAMES,
  type ServiceAddress,
  type ServiceContext,
  type ServiceName,
} from "./service.ts";
import {
  type Member,
  OVERRIDE_VARIABLE,
  type StackVariant,
  stackVariant,
  type VariantName,
} from "./variants.ts";

export { OVERRIDE_VARIABLE };

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
  /** The member (`kafka`, or e.g. `kafka-2` in a variant with several per service). */
  member?: string;
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
  /** Which variant (default "plain"). */
  variant?: VariantName;
  /** Where the services are (default: from SLUICE_* variables; the plain variant reads them). */
  endpoints?: Endpoints;
  /** Receives progress lines (default: stderr). */
  progress?: Progress;
  /** The services to act on (default: all the variant runs). */
  services?: readonly ServiceName[];
  /**
   * The members to act on, by id (e.g. `kafka-2`; default: every member of the services). A
   * cluster's fault tests stop, kill or start one member so.
   */
  members?: readonly string[];
  /** The variant's folder for data, logs and pid files (default `.stack/` or `.stack/secure/`). */
  stackDir?: string;
}

/** Something other than our service holds a port the service needs. */
export class PortBusyError extends SluiceError {}

/** A service was started but did not answer in time, or its process died. */
export class ServiceStartError extends SluiceError {}

const defaultProgress: Progress = (line) => console.error(line);

function resolve(options: StackOptions) {
  const variant = stackVariant(options.variant ?? "plain", options.stackDir);
  // A variant need not run every service (the cluster has no Elasticsearch).
  const services = (options.services ?? SERVICE_NAMES).filter((name) =>
    variant.members(name).length > 0
  );
  return {
    variant,
    endpoints: options.endpoints ?? endpointsFromEnv(),
    progress: options.progress ?? defaultProgress,
    services,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A member with everything its hooks and the orchestrator need. */
interface Bound {
  variant: StackVariant;
  member: Member;
  ctx: ServiceContext;
  address: ServiceAddress;
  managed: boolean;
  label: string;
}

function bind(
  variant: StackVariant,
  member: Member,
  endpoints: Endpoints,
  progress: Progress,
): Bound {
  const ctx = variant.context(member, endpoints, progress);
  const address = member.definition.address(ctx);
  return {
    variant,
    member,
    ctx,
    address,
    managed: isManagedAddress(address, member.definition.defaultPort),
    label: variant.label(member),
  };
}

async function memberStatus(b: Bound): Promise<ServiceStatus> {
  const { ctx, member, managed } = b;
  const pid = managed ? await ownedPid(ctx.paths.pidFile, ctx.dir) : undefined;
  let version: string | undefined;
  let error = await b.variant.notReady();
  if (error === undefined) {
    try {
      version = (await member.definition.probe(ctx, b.address)).version;
    } catch (e) {
      error = errorText(e);
    }
  }
  const answering = error === undefined;
  if (answering && version === "unknown" && pid !== undefined) {
    version = await member.definition.installedVersion?.(ctx) ?? version;
  }
  let state: ServiceState;
  if (answering) state = pid !== undefined ? "running" : "external";
  else if (pid !== undefined) state = "starting";
  else state = managed ? "stopped" : "unreachable";
  return {
    name: member.service,
    ...(member.id !== member.service ? { member: member.id } : {}),
    state,
    answering,
    managed,
    version,
    address: b.address.display,
    pid,
    // A service someone else runs on our port does not write to our log.
    logFile: managed && state !== "external" ? ctx.paths.logFile : undefined,
    error,
  };
}

function boundMembers(name: ServiceName, options: StackOptions): Bound[] {
  const { variant, endpoints, progress } = resolve(options);
  const wanted = options.members;
  return variant.members(name)
    .filter((m) => wanted === undefined || wanted.includes(m.id))
    .map((m) => bind(variant, m, endpoints, progress));
}

/**
 * The state of one service (its first member, or the first of `options.members`): whether it
 * answers, whether we run it, its version and files.
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
  const first = boundMembers(name, options)[0];
  if (first === undefined) {
    throw new SluiceError(
      `the ${options.variant ?? "plain"} stack runs no ${name}` +
        (options.members ? ` member ${options.members.join(", ")}` : ""),
    );
  }
  return await memberStatus(first);
}

/**
 * The state of every member of every service (or of `options.services`), checked in parallel.
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
  const all = services.flatMap((name) => boundMembers(name, options));
  return await Promise.all(all.map(memberStatus));
}

/** The result of starting one service. */
export interface StartResult {
  status: ServiceStatus;
  /** True when this call started the process (and so the caller may stop it). */
  started: boolean;
}

/**
 * Starts `name` (each of its members, side by side: a cluster's members answer only once a quorum
 * of them runs) unless it already answers (ours or external), and waits until every member
 * answers. If one member fails, the members this call started are stopped again. Throws
 * PortBusyError when a stranger holds one of its ports,
 * ServiceStartError (with the tail of its log) when it does not come up, UnreachableError when
 * an external address is down.
 *
 * @example
 * ```ts ignore
 * import { startService, stopService } from "./stack.ts";
 * await stopService("kafka"); // e.g. to test that the agent survives a Kafka outage
 * await startService("kafka");
 * ```
 */
export async function startService(
  name: ServiceName,
  options: StackOptions = {},
): Promise<StartResult> {
  const { variant, progress } = resolve(options);
  await variant.setup(progress);
  const members = boundMembers(name, options);
  const results = await Promise.allSettled(members.map(startMember));
  const startedHere = members.filter((_, i) => {
    const r = results[i];
    return r.status === "fulfilled" && r.value;
  });
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(startedHere.map(stopMember));
    throw failed.reason;
  }
  return { status: await serviceStatus(name, options), started: startedHere.length > 0 };
}

async function startMember(b: Bound): Promise<boolean> {
  const { variant, member, ctx, address, label } = b;
  const definition = member.definition;
  const { paths, progress } = ctx;

  if (!b.managed) {
    const status = await memberStatus(b);
    if (status.answering) return false;
    const variable = variant.overrideVariable?.[member.service] ?? "its variable";
    throw new UnreachableError(
      `${label} at ${address.display} (from ${variable}) does not answer: ` +
        `${status.error}\nFix: start it, or unset ${variable} so that stack:up ` +
        "runs a local one.",
    );
  }

  const mode = variant.privateDirs ? 0o700 : undefined;
  await Deno.mkdir(paths.dir, { recursive: true, mode });
  // Whoever holds the lock starts the member; a second stack:up waits, then finds it running.
  return await withLockFile(
    `${paths.dir}/start.lock`,
    definition.startTimeoutMs + 60_000,
    async () => {
      const running = await ownedPid(paths.pidFile, paths.dir);
      if (running !== undefined) {
        // Ours and alive: maybe still starting (a parallel stack:up); wait for it, start nothing.
        await afterStart(b);
        await waitForAnswer(b);
        return false;
      }

      const before = await memberStatus(b);
      if (before.answering) return false;

      for (const port of definition.ports) {
        if (await isListening("127.0.0.1", port)) {
          const owner = await portOwner(port) ?? "another process";
          const variable = variant.overrideVariable?.[member.service];
          throw new PortBusyError(
            `${label} cannot start: port ${port} is held by ${owner}, which does not answer as ` +
              `${member.service}.\nFix: stop that process` +
              (variable
                ? `, or point ${variable} at the ${member.service} you run yourself to use it ` +
                  "instead."
                : `; it needs ports ${definition.ports.join(", ")}.`),
          );
        }
      }

      await definition.prepare(ctx);
      const command = await definition.command(ctx);
      await Deno.writeTextFile(
        paths.logFile,
        `\n=== ${new Date().toISOString()} sluice stack (${variant.name}): ${command.join(" ")}\n`,
        { append: true, mode: variant.privateDirs ? 0o600 : undefined },
      );
      const pid = await launchDetached({
        command,
        cwd: paths.dir,
        logFile: paths.logFile,
        pidFile: paths.pidFile,
      });
      progress(
        `${label}: started pid ${pid}, waiting for ${address.display} (log ${paths.logFile})`,
      );
      try {
        await afterStart(b);
        await waitForAnswer(b);
      } catch (error) {
        await terminate(pid, definition.stopGraceMs);
        await Deno.remove(paths.pidFile).catch(() => {});
        throw error;
      }
      const status = await memberStatus(b);
      progress(`${label}: ready (${status.version ?? "version unknown"})`);
      return true;
    },
  );
}

/** The member's afterStart hook, retried until it succeeds (it needs the service to answer). */
async function afterStart(b: Bound): Promise<void> {
  const hook = b.member.definition.afterStart;
  if (!hook) return;
  await waitUntil(async () => {
    await hook.call(b.member.definition, b.ctx);
    return true;
  }, {
    timeoutMs: b.member.definition.startTimeoutMs,
    intervalMs: 1000,
    abortReason: async () =>
      await ownedPid(b.ctx.paths.pidFile, b.ctx.dir) === undefined
        ? "its process exited"
        : undefined,
  });
}

async function waitForAnswer(b: Bound): Promise<void> {
  const { member, ctx, address, label, variant } = b;
  const definition = member.definition;
  const started = Date.now();
  try {
    await waitUntil(() => definition.probe(ctx, address).then(() => true), {
      timeoutMs: definition.startTimeoutMs,
      intervalMs: 1000,
      progressEveryMs: 10_000,
      onProgress: (s) => ctx.progress(`${label}: still waiting for ${address.display} (${s} s)`),
      abortReason: async () =>
        await ownedPid(ctx.paths.pidFile, ctx.dir) === undefined ? "its process exited" : undefined,
    });
  } catch (error) {
    const seconds = Math.round((Date.now() - started) / 1000);
    const tail = await tailFile(ctx.paths.logFile, 30);
    throw new ServiceStartError(
      `${label} did not come up after ${seconds} s: ${errorText(error)}\n` +
        `--- last lines of ${ctx.paths.logFile} ---\n${tail.join("\n")}\n---\n` +
        `Fix: read the log above; \`${denoCommand()} task stack:down${variant.flag}\` and then ` +
        `\`${denoCommand()} task stack:up${variant.flag}\` retries` +
        (variant.privateDirs ? `; removing ${variant.root} starts afresh.` : "."),
    );
  }
}

/**
 * Stops `name` (each of its members) if stack:up (in any process) started it: SIGTERM, then
 * SIGKILL after the service's grace period. External services are never touched. Returns true
 * when it stopped a process.
 */
export async function stopService(name: ServiceName, options: StackOptions = {}): Promise<boolean> {
  const stopped = await Promise.all(boundMembers(name, options).map(stopMember));
  return stopped.some((s) => s);
}

/** Stops one member if it is ours (SIGCONT first: a paused process cannot take SIGTERM). */
async function stopMember({ ctx, member, label }: Bound): Promise<boolean> {
  const pid = await ownedPid(ctx.paths.pidFile, ctx.dir);
  if (pid === undefined) return false;
  ctx.progress(`${label}: stopping pid ${pid}`);
  try {
    Deno.kill(pid, "SIGCONT");
  } catch {
    // gone meanwhile: terminate says so
  }
  const how = await terminate(pid, member.definition.stopGraceMs);
  if (how === "killed") {
    ctx.progress(
      `${label}: did not exit within ${member.definition.stopGraceMs / 1000} s of SIGTERM, killed`,
    );
  }
  await Deno.remove(ctx.paths.pidFile).catch(() => {});
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
 * Starts every service of the variant that does not answer yet (etcd first, then the others
 * side by side) and waits until all answer. If one fails, the ones this call started are
 * stopped again before the error is thrown.
 *
 * @example
 * ```ts ignore
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
  const { services, variant, progress } = resolve(options);
  const started: ServiceName[] = [];
  const startOne = async (name: ServiceName) => {
    const result = await startService(name, options);
    if (result.started) started.push(name);
  };
  try {
    // Certificates and passwords first, once, so the starts below do not race to make them.
    await variant.setup(progress);
    if (services.includes("etcd")) await startOne("etcd");
    const rest = services.filter((name) => name !== "etcd");
    const results = await Promise.allSettled(rest.map(startOne));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  } catch (error) {
    if (started.length > 0) await stopStack(started, options);
    throw error;
  }
  return { started, statuses: await stackStatus({ ...options, services }) };
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
  // The others stop side by side (each takes seconds); etcd, started first, goes last.
  await Promise.all(chosen.filter((name) => name !== "etcd").map(stopOne));
  if (chosen.includes("etcd")) await stopOne("etcd");
  return stopped;
}
