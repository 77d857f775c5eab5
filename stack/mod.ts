/**
 * The library face of the local stack, for `tests/run.ts`, `demo/main.ts` and integration tests
 * that stop and restart a service: start what is missing, report, stop only what was started.
 *
 * @example
 * ```ts ignore
 * import { ensureStack, stopStack } from "./mod.ts";
 * const stack = await ensureStack({ progress: (line) => console.error(line) });
 * try {
 *   // ... use 127.0.0.1:2379, 127.0.0.1:9092, http://127.0.0.1:9200 ...
 * } finally {
 *   await stopStack(stack);
 * }
 * ```
 * @module
 */
export {
  ensureStack,
  OVERRIDE_VARIABLE,
  PortBusyError,
  ServiceStartError,
  type ServiceState,
  type ServiceStatus,
  serviceStatus,
  type StackHandle,
  type StackOptions,
  stackStatus,
  type StartResult,
  startService,
  stopService,
  stopStack,
} from "./stack.ts";
export {
  ENGINE_PORTS,
  type EngineServiceName,
  localEngineAt,
  type Progress,
  SERVICE_NAMES,
  type ServiceName,
  STACK_DIR,
} from "./service.ts";
export { stackVariant, type VariantName } from "./variants.ts";
export { formatStatusTable } from "./table.ts";
export { MissingPrerequisiteError } from "./prerequisites.ts";
export {
  ensureSecureStack,
  SECURE_STACK_DIR,
  secureClientEnv,
  type SecureStackHandle,
  secureStackStatus,
  stopSecureStack,
} from "./secure/stack.ts";
