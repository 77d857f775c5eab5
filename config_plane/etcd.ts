/**
 * The etcd connection of the config plane: an etcd3 client whose unary calls carry a deadline
 * (so a missing etcd fails in seconds, never hangs) and whose transport errors become
 * UnreachableError (exit code 4) with a message that says what to do.
 * @module
 */
import { Buffer } from "node:buffer";
import { Etcd3, type IOptions } from "etcd3";
import { InvalidInputError, SecurityError, SluiceError, UnreachableError } from "../core/errors.ts";
import { backoffDelay } from "../core/backoff.ts";
import {
  classifySecurityFailure,
  type EtcdSecurity,
  etcdSecurityFromEnv,
} from "../core/security.ts";

export interface EtcdClientOptions {
  endpoints: string[];
  /** TLS and user/password (default: from the SLUICE_ETCD_* variables, core/security.ts). */
  security?: EtcdSecurity;
  /** Deadline of each unary call, in ms (default 5000). */
  callTimeoutMs?: number;
}

/**
 * A fault-handling policy that runs the call once: sluice retries where it knows a retry is
 * safe (the watcher, the agent registry) with core/backoff, and a CLI must fail fast.
 */
const runOnce = {
  execute<T>(
    fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T,
    signal?: AbortSignal,
  ): Promise<T> {
    return Promise.resolve().then(() => fn({ signal: signal ?? new AbortController().signal }));
  },
};

/** The watch-stream reconnect delay of etcd3 (an IBackoff chain), driven by core/backoff. */
function watchBackoff(attempt = 0): { duration: number; next(): ReturnType<typeof watchBackoff> } {
  return {
    duration: backoffDelay(attempt, { initialMs: 100, maxMs: 2_000 }),
    next: () => watchBackoff(attempt + 1),
  };
}

/**
 * An etcd3 client for the config plane.
 *
 * @example
 * ```ts
 * import { createEtcdClient } from "./etcd.ts";
 * const client = createEtcdClient({ endpoints: ["http://127.0.0.1:2379"] });
 * client.close();
 * ```
 */
export function createEtcdClient(options: EtcdClientOptions): Etcd3 {
  const timeout = options.callTimeoutMs ?? 5_000;
  const security = options.security ?? etcdSecurityFromEnv();
  const config: IOptions = {
    hosts: options.endpoints,
    ...etcdTlsAndAuth(options.endpoints, security),
    dialTimeout: timeout,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    faultHandling: {
      // deno-lint-ignore no-explicit-any
      host: () => runOnce as any,
      // deno-lint-ignore no-explicit-any
      global: runOnce as any,
      // deno-lint-ignore no-explicit-any
      watchBackoff: { next: () => watchBackoff() } as any,
    },
  };
  return new Etcd3(config);
}

/**
 * etcd3's `credentials` (TLS) and `auth` options for `security`. TLS follows the endpoints'
 * scheme: https:// endpoints use TLS (with the given CA, or the system's), http:// ones do not,
 * and TLS material given for http:// endpoints is an error rather than silently unused.
 *
 * @example
 * ```ts
 * import { etcdTlsAndAuth } from "./etcd.ts";
 * etcdTlsAndAuth(["http://127.0.0.1:2379"], {}); // {}
 * ```
 */
export function etcdTlsAndAuth(
  endpoints: string[],
  security: EtcdSecurity,
): Pick<IOptions, "credentials" | "auth"> {
  const secure = endpoints.filter((e) => /^https:\/\//i.test(e));
  if (secure.length > 0 && secure.length < endpoints.length) {
    throw new InvalidInputError(
      `the etcd endpoints mix https:// and plain ones (${
        endpoints.join(", ")
      }): use https:// for ` +
        "all of them or for none.",
    );
  }
  if (secure.length === 0 && security.tls) {
    throw new InvalidInputError(
      `TLS settings for etcd are given (SLUICE_ETCD_TLS_*) but the endpoints are not https:// ` +
        `(${endpoints.join(", ")}): write them as https://host:port.`,
    );
  }
  const ip = secure.find((e) => /^https:\/\/(\d+\.\d+\.\d+\.\d+|\[[0-9a-f:.]+\])(:|\/|$)/i.test(e));
  if (ip) {
    // grpc-js sends the host as the TLS server name, and Deno's TLS refuses an IP address there.
    throw new InvalidInputError(
      `etcd endpoint ${ip}: over TLS, sluice needs a host name (one that etcd's certificate ` +
        "names, e.g. https://localhost:2379 or https://etcd.internal:2379), not an IP address.",
    );
  }
  const out: Pick<IOptions, "credentials" | "auth"> = {};
  if (secure.length > 0 && security.tls) {
    const { ca, cert, key } = security.tls;
    out.credentials = {
      rootCertificate: ca ? Buffer.from(ca) : undefined as unknown as Buffer,
      ...(cert ? { certChain: Buffer.from(cert), privateKey: Buffer.from(key!.reveal()) } : {}),
    };
  }
  if (security.auth) {
    out.auth = { username: security.auth.username, password: security.auth.password.reveal() };
  }
  return out;
}

/**
 * True when an etcd3 error means the server could not be reached (not a refusal by it).
 *
 * @example
 * ```ts
 * import { isUnreachableError } from "./etcd.ts";
 * isUnreachableError(new Error("14 UNAVAILABLE: No connection established")); // true
 * ```
 */
export function isUnreachableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const text = `${error.name} ${error.constructor?.name} ${error.message}`;
  return /Unavailable|DeadlineExceeded|DEADLINE_EXCEEDED|UNAVAILABLE|No connection established|ECONNREFUSED|ECONNRESET|EPIPE|RST_STREAM|socket has been ended|connect|BrokenCircuit|Failed to connect/i
    .test(text);
}

/** The gist of a gRPC error: its first line, without grpc-js's resolver notes. */
function briefly(error: Error): string {
  return error.message.split("\n")[0].split(". Resolution note")[0].replace(/[.\s]+$/, "");
}

/**
 * Runs one etcd call; an unreachable etcd becomes UnreachableError naming the endpoints.
 *
 * @example
 * ```ts ignore
 * import { createEtcdClient, etcdCall } from "./etcd.ts";
 * const client = createEtcdClient({ endpoints: ["http://127.0.0.1:2379"] });
 * const head = await etcdCall(["http://127.0.0.1:2379"], "read the head", () => client.get("/sluice/config/head").string());
 * client.close();
 * ```
 */
export async function etcdCall<T>(
  endpoints: string[],
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const security = explainEtcdSecurityError(error, endpoints, what);
    if (security) throw security;
    if (isUnreachableError(error)) {
      throw new UnreachableError(
        `cannot ${what}: etcd at ${endpoints.join(", ")} is unreachable (${
          briefly(error as Error)
        }). ` +
          "Start it with 'deno task stack:up', or point SLUICE_ETCD_ENDPOINTS / --endpoints at a running etcd.",
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * An etcd error about TLS (unknown CA, a plain endpoint that speaks TLS) or credentials (wrong
 * password, no user, no permission) as an operator-facing SecurityError (exit code 4: etcd
 * cannot be used) naming the variables to check; undefined for any other error.
 *
 * @example
 * ```ts
 * import { explainEtcdSecurityError } from "./etcd.ts";
 * const e = explainEtcdSecurityError(
 *   new Error("3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password"),
 *   ["https://127.0.0.1:2479"],
 *   "read the config head",
 * );
 * // e.message: "cannot read the config head: etcd at https://127.0.0.1:2479 rejected ..."
 * ```
 */
export function explainEtcdSecurityError(
  error: unknown,
  endpoints: string[],
  what: string,
): SecurityError | undefined {
  if (!(error instanceof Error) || error instanceof SluiceError) return undefined;
  const text = `${error.name} ${error.message}`;
  const failure = classifySecurityFailure(text);
  const where = `etcd at ${endpoints.join(", ")}`;
  if (failure === "tls") {
    return new SecurityError(
      `cannot ${what}: TLS with ${where} failed (${briefly(error)}). Check that ` +
        "SLUICE_ETCD_TLS_CA(_FILE) holds the CA that signed etcd's certificate and that the " +
        "endpoints' scheme (https:// or http://) matches the server.",
      { cause: error },
    );
  }
  if (failure === "auth" || /PermissionDenied|permission denied|user name/i.test(text)) {
    return new SecurityError(
      `cannot ${what}: ${where} rejected the credentials (${briefly(error)}). Check ` +
        "SLUICE_ETCD_USERNAME and SLUICE_ETCD_PASSWORD(_FILE), and that the user's role may read " +
        "and write the prefix.",
      { cause: error },
    );
  }
  return undefined;
}
