/**
 * sluice as a library: start an agent, a transfer or a config-plane client in-process, with
 * the same code the `deno task` commands run. The commands are thin wrappers around these.
 *
 * @example Apply a desired state and read it back
 * ```ts ignore
 * import { openConfigPlane } from "./mod.ts";
 * const plane = await openConfigPlane({ prefix: "/sluice-example" });
 * const head = await plane.head();
 * await plane.append({
 *   base: head,
 *   author: "docs",
 *   message: "collect the app log",
 *   ops: [{ op: "put_source", source: { id: "app", paths: ["/var/log/app/*.log"], topic: "logs" } }],
 * });
 * console.log(await plane.stateAt(head + 1));
 * await plane.close();
 * ```
 *
 * @example Run an agent and a transfer in one process
 * ```ts ignore
 * import { Agent, resolveAgentSettings, resolveTransferConfig, startTransfer } from "./mod.ts";
 * const agent = new Agent(resolveAgentSettings({}, Deno.env.toObject(), {}, Deno.hostname()));
 * await agent.start();
 * const transfer = await startTransfer(resolveTransferConfig({ flags: { topic: ["logs"] } }));
 * // ... on shutdown:
 * await agent.stop();
 * await transfer.stop();
 * ```
 * @module
 */

export * from "./config_plane/mod.ts";
export type * from "./config_plane/types.ts";
export { Agent, type AgentSettings, resolveSettings as resolveAgentSettings } from "./agent/mod.ts";
export {
  resolveConfig as resolveTransferConfig,
  startTransfer,
  type Transfer,
  type TransferConfig,
  type TransferStats,
} from "./transfer/mod.ts";
export { type Envelope, eventId } from "./core/envelope.ts";
export { isEnvelope } from "./core/record_format.ts";
export {
  ConflictError,
  ExitCode,
  InvalidInputError,
  SluiceError,
  UnreachableError,
} from "./core/errors.ts";
export { setupLogging } from "./core/log.ts";
