/**
 * The agent of sluice as a library: the same `Agent` that `deno task agent` runs (its config
 * from the config plane, one tail task per source, lines to Kafka, checkpoints after each
 * acknowledgement), its settings, and a single source's `TailTask` for embedding.
 *
 * @example Run an agent in-process
 * ```ts ignore
 * import { Agent, resolveSettings } from "./mod.ts";
 * const agent = new Agent(resolveSettings({}, Deno.env.toObject(), {}, Deno.hostname()));
 * await agent.start();
 * // ... on shutdown:
 * await agent.stop();
 * ```
 * @module
 */
export { Agent } from "./agent.ts";
export { type AgentSettings, loadSettings, resolveSettings } from "./settings.ts";
export {
  DEFAULT_TAIL_OPTIONS,
  type TailOptions,
  TailTask,
  type TailTaskDeps,
} from "./tail_task.ts";
