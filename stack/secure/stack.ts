/**
 * The secure variant of the local stack: etcd with TLS and user/password auth, Kafka with a
 * SASL_SSL (SCRAM-SHA-512) listener, OpenSearch with TLS and basic auth, all on their own ports
 * beside the plaintext stack (which keeps running unchanged) and all under `.stack/secure/`.
 * `deno task stack:up --secure` and the security integration tests use these functions.
 * @module
 */
import { SluiceError } from "../../core/errors.ts";
import { tailFile } from "../../core/child.ts";
import { isListening, portOwner } from "../ports.ts";
import { launchDetached, ownedPid, terminate, waitUntil, withLockFile } from "../process.ts";
import {
  type Progress,
  SERVICE_NAMES,
  type ServiceName,
  servicePaths,
  STACK_DIR,
} from "../service.ts";
import type { ServiceStatus } from "../stack.ts";
import { certificatePaths, ensureCertificates } from "./certs.ts";
import { credentialFiles, ensureCredentials, secureClientEnv } from "./credentials.ts";
import { secureEtcdService } from "./etcd.ts";
import { secureKafkaService } from "./kafka.ts";
import { secureOpenSearchService } from "./opensearch.ts";
import type { SecureContext, SecureServiceDefinition } from "./service.ts";

/** Where the secure stack keeps certificates, passwords, data and logs. */
export const SECURE_STACK_DIR = `${STACK_DIR}/secure`;

const DEFINITIONS: Record<ServiceName, SecureServiceDefinition> = {
  etcd: secureEtcdService,
  kafka: secureKafkaService,
  opensearch: secureOpenSearchService,
};

export interface SecureStackOptions {
  progress?: Progress;
  services?: readonly ServiceName[];
  /** Default `.stack/secure`. */
  root?: string;
}

/** What `ensureSecureStack` did: hand it to `stopSecureStack` to leave things as they were. */
export interface SecureStackHandle {
  started: ServiceName[];
  statuses: ServiceStatus[];
  /** The SLUICE_* variables that point a sluice process at the secure stack. */
  env: Record<string, string>;
}

const defaultProgress: Progress = (line) => console.error(line);

async function context(
  root: string,
  name: ServiceName,
  progress: Progress,
): Promise<SecureContext> {
  const certs = await ensureCertificates(`${root}/certs`, progress);
  const madeCredentials = await ensureCredentials(`${root}/secrets`);
  if (madeCredentials) {
    // New passwords: data made with the old ones (SCRAM users, etcd users, the security index)
    // would refuse them.
    for (const service of SERVICE_NAMES) {
      const { dir, pidFile } = servicePaths(service, root);
      if (await ownedPid(pidFile, dir) === undefined) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
  }
  return {
    root,
    dir: servicePaths(name, root).dir,
    certs,
    credentials: credentialFiles(`${root}/secrets`),
    progress,
  };
}

/** The state of one secure service. */
export async function secureServiceStatus(
  name: ServiceName,
  options: SecureStackOptions = {},
): Promise<ServiceStatus> {
  const root = options.root ?? SECURE_STACK_DIR;
  const definition = DEFINITIONS[name];
  const p = servicePaths(name, root);
  const pid = await ownedPid(p.pidFile, p.dir);
  let version: string | undefined;
  let error: string | undefined;
  const hasSecrets = await Deno.stat(`${root}/certs/ca.pem`).then(() => true, () => false) &&
    await Deno.stat(`${root}/secrets`).then(() => true, () => false);
  if (hasSecrets) {
    try {
      const ctx: SecureContext = {
        root,
        dir: p.dir,
        certs: certificatePaths(`${root}/certs`),
        credentials: credentialFiles(`${root}/secrets`),
        progress: () => {},
      };
      version = await definition.probe(ctx);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
  } else {
    error = "not set up yet (no certificates)";
  }
  const answering = error === undefined;
  return {
    name,
    state: answering
      ? (pid !== undefined ? "running" : "external")
      : pid !== undefined
      ? "starting"
      : "stopped",
    answering,
    managed: true,
    version,
    address: definition.address,
    pid,
    logFile: p.logFile,
    error,
  };
}

/** The state of every secure service. */
export async function secureStackStatus(
  options: SecureStackOptions = {},
): Promise<ServiceStatus[]> {
  const services = options.services ?? SERVICE_NAMES;
  return await Promise.all(services.map((name) => secureServiceStatus(name, options)));
}

async function startOne(
  name: ServiceName,
  root: string,
  progress: Progress,
): Promise<boolean> {
  const definition = DEFINITIONS[name];
  const p = servicePaths(name, root);
  const label = `${name} (secure)`;
  await Deno.mkdir(root, { recursive: true, mode: 0o700 });
  const ctx = await context(root, name, progress);
  await Deno.mkdir(p.dir, { recursive: true, mode: 0o700 });
  return await withLockFile(`${p.dir}/start.lock`, definition.startTimeoutMs + 60_000, async () => {
    const wait = async (pid: number | undefined) => {
      const started = Date.now();
      try {
        await waitUntil(() => definition.probe(ctx).then(() => true), {
          timeoutMs: definition.startTimeoutMs,
          intervalMs: 1000,
          progressEveryMs: 15_000,
          onProgress: (s) => progress(`${label}: still waiting for ${definition.address} (${s} s)`),
          abortReason: async () =>
            pid !== undefined && await ownedPid(p.pidFile, p.dir) === undefined
              ? "its process exited"
              : undefined,
        });
      } catch (error) {
        const seconds = Math.round((Date.now() - started) / 1000);
        throw new SluiceError(
          `${label} did not come up after ${seconds} s: ${(error as Error).message}\n` +
            `--- last lines of ${p.logFile} ---\n${(await tailFile(p.logFile, 30)).join("\n")}\n` +
            `---\nFix: read the log above; \`deno task stack:down --secure\` and then ` +
            "`deno task stack:up --secure` retries; removing .stack/secure starts afresh.",
        );
      }
    };
    const running = await ownedPid(p.pidFile, p.dir);
    if (running !== undefined) {
      if (definition.afterStart) {
        await waitUntil(async () => {
          await definition.afterStart!(ctx);
          return true;
        }, { timeoutMs: definition.startTimeoutMs, intervalMs: 1000 });
      }
      await wait(running);
      return false;
    }
    for (const port of definition.ports) {
      if (await isListening("127.0.0.1", port)) {
        throw new SluiceError(
          `${label} cannot start: port ${port} is held by ${
            await portOwner(port) ?? "another process"
          }.\nFix: stop that process; the secure stack needs ports ${definition.ports.join(", ")}.`,
        );
      }
    }
    await definition.prepare(ctx);
    const command = await definition.command(ctx);
    await Deno.writeTextFile(
      p.logFile,
      `\n=== ${new Date().toISOString()} sluice secure stack: ${command.join(" ")}\n`,
      { append: true, mode: 0o600 },
    );
    const pid = await launchDetached({
      command,
      cwd: p.dir,
      logFile: p.logFile,
      pidFile: p.pidFile,
    });
    progress(`${label}: started pid ${pid}, waiting for ${definition.address} (log ${p.logFile})`);
    try {
      if (definition.afterStart) {
        // etcd must answer before users can be made; the probe then checks the sluice login.
        await waitUntil(async () => {
          await definition.afterStart!(ctx);
          return true;
        }, {
          timeoutMs: definition.startTimeoutMs,
          intervalMs: 1000,
          abortReason: async () =>
            await ownedPid(p.pidFile, p.dir) === undefined ? "its process exited" : undefined,
        });
      }
      await wait(pid);
    } catch (error) {
      await terminate(pid, definition.stopGraceMs);
      await Deno.remove(p.pidFile).catch(() => {});
      throw error;
    }
    progress(`${label}: ready`);
    return true;
  });
}

/**
 * Starts the secure services that are not running (side by side) and waits until each answers
 * over TLS as the sluice user. If one fails, those this call started are stopped again.
 *
 * @example
 * ```ts ignore
 * import { ensureSecureStack, stopSecureStack } from "./stack.ts";
 * const secure = await ensureSecureStack();
 * try {
 *   // run sluice with { ...Deno.env.toObject(), ...secure.env }
 * } finally {
 *   await stopSecureStack(secure);
 * }
 * ```
 */
export async function ensureSecureStack(
  options: SecureStackOptions = {},
): Promise<SecureStackHandle> {
  const root = options.root ?? SECURE_STACK_DIR;
  const progress = options.progress ?? defaultProgress;
  const services = options.services ?? SERVICE_NAMES;
  // Certificates and passwords first, once, so the three starts below do not race to make them.
  await Deno.mkdir(root, { recursive: true, mode: 0o700 });
  await context(root, "etcd", progress);
  const started: ServiceName[] = [];
  const results = await Promise.allSettled(services.map(async (name) => {
    if (await startOne(name, root, progress)) started.push(name);
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await stopSecureStack(started, options);
    throw failed.reason;
  }
  return {
    started,
    statuses: await secureStackStatus({ ...options, services }),
    env: secureClientEnv(root),
  };
}

/** Stops the given secure services (or those a handle started). Returns those it stopped. */
export async function stopSecureStack(
  which: SecureStackHandle | readonly ServiceName[],
  options: SecureStackOptions = {},
): Promise<ServiceName[]> {
  const root = options.root ?? SECURE_STACK_DIR;
  const progress = options.progress ?? defaultProgress;
  const names = Array.isArray(which) ? which : (which as SecureStackHandle).started;
  const stopped: ServiceName[] = [];
  await Promise.all(
    SERVICE_NAMES.filter((n) => names.includes(n)).map(async (name) => {
      const p = servicePaths(name, root);
      const pid = await ownedPid(p.pidFile, p.dir);
      if (pid === undefined) return;
      progress(`${name} (secure): stopping pid ${pid}`);
      await terminate(pid, DEFINITIONS[name].stopGraceMs);
      await Deno.remove(p.pidFile).catch(() => {});
      stopped.push(name);
    }),
  );
  return stopped;
}

export { secureClientEnv };
