/**
 * The secure variant of the local stack by its old names: etcd with TLS and user/password auth,
 * Kafka with a SASL_SSL (SCRAM-SHA-512) listener, the search engines with TLS and passwords, all
 * on their own ports beside the plaintext stack and under `.stack/secure/`. The orchestrator is
 * the one of stack/stack.ts (`variant: "secure"`); these wrappers add the client environment.
 * @module
 */
import type { Progress, ServiceName } from "../service.ts";
import {
  ensureStack,
  type ServiceStatus,
  serviceStatus,
  type StackHandle,
  stackStatus,
  stopStack,
} from "../stack.ts";
import { SECURE_STACK_DIR } from "../variants.ts";
import { secureClientEnv } from "./credentials.ts";

export { SECURE_STACK_DIR };

export interface SecureStackOptions {
  progress?: Progress;
  services?: readonly ServiceName[];
  /** Default `.stack/secure`. */
  root?: string;
}

/** What `ensureSecureStack` did: hand it to `stopSecureStack` to leave things as they were. */
export interface SecureStackHandle extends StackHandle {
  /** The SLUICE_* variables that point a sluice process at the secure stack (OpenSearch). */
  env: Record<string, string>;
}

function stackOptions(options: SecureStackOptions) {
  return {
    variant: "secure" as const,
    stackDir: options.root,
    progress: options.progress,
    services: options.services,
  };
}

/** The state of one secure service. */
export function secureServiceStatus(
  name: ServiceName,
  options: SecureStackOptions = {},
): Promise<ServiceStatus> {
  return serviceStatus(name, stackOptions(options));
}

/** The state of every secure service. */
export function secureStackStatus(options: SecureStackOptions = {}): Promise<ServiceStatus[]> {
  return stackStatus(stackOptions(options));
}

/**
 * Starts the secure services that are not running and waits until each answers over TLS as the
 * sluice user. If one fails, those this call started are stopped again.
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
  const handle = await ensureStack(stackOptions(options));
  return { ...handle, env: secureClientEnv(options.root ?? SECURE_STACK_DIR) };
}

/** Stops the given secure services (or those a handle started). Returns those it stopped. */
export function stopSecureStack(
  which: StackHandle | readonly ServiceName[],
  options: SecureStackOptions = {},
): Promise<ServiceName[]> {
  return stopStack(which, stackOptions(options));
}

export { secureClientEnv };
