/**
 * The etcd connection of the config plane: an etcd3 client whose unary calls carry a deadline
 * (so a missing etcd fails in seconds, never hangs) and whose transport errors become
 * UnreachableError (exit code 4) with a message that says what to do.
 * @module
 */
import { Etcd3, type IOptions } from "etcd3";
import { UnreachableError } from "../core/errors.ts";
import { backoffDelay } from "../core/backoff.ts";

export interface EtcdClientOptions {
  endpoints: string[];
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
  const config: IOptions = {
    hosts: options.endpoints,
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
 * ```ts
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
