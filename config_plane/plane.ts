/**
 * The config plane client: the event log in etcd (event_store.ts) with the checked append
 * (change.ts), the watcher an agent runs (watch.ts), the agents registry (agents.ts) and the
 * fleet's convergence (fleet.ts), behind one object.
 * @module
 */
import { type AgentRegistration, listAgents, registerAgent } from "./agents.ts";
import { appendEvent, type AppendInput, type AppendResult } from "./change.ts";
import { EventStore, type EventStoreOptions } from "./event_store.ts";
import { type FleetStatus, fleetStatus } from "./fleet.ts";
import type { AgentStatus } from "./types.ts";
import { watchState, type WatchStateOptions } from "./watch.ts";

/** How to reach etcd and lay out the keys (see `EventStoreOptions`). */
export type ConfigPlaneOptions = EventStoreOptions;

/** The config plane of one etcd prefix. Create with {@link openConfigPlane}; `close()` when done. */
export class ConfigPlane extends EventStore {
  /**
   * Appends one event if the head is still `input.base` (see `appendEvent` in change.ts): refused
   * when invalid or too large, a ConflictError when the head moved, the first event again
   * (`created: false`) for an idempotency `id` already appended.
   *
   * @example
   * ```ts ignore
   * import { openConfigPlane } from "./plane.ts";
   * const plane = openConfigPlane({ prefix: "/sluice-example" });
   * const { event } = await plane.append({
   *   base: await plane.head(), author: "ann", message: "collect the app log",
   *   ops: [{ op: "put_source", source: { id: "app", paths: ["/var/log/app.log"], topic: "logs" } }],
   * });
   * console.log(event.seq);
   * plane.close();
   * ```
   */
  append(input: AppendInput): Promise<AppendResult> {
    return appendEvent(this, input);
  }

  /** Runs the config watcher until `options.signal` aborts (see watch.ts). */
  watchState(options: WatchStateOptions): Promise<void> {
    return watchState(this, options);
  }

  /** Announces an agent under `agents/<agent id>` on a kept-alive lease (see agents.ts). */
  registerAgent(status: AgentStatus, options: { ttlSeconds: number }): Promise<AgentRegistration> {
    return registerAgent(this, status, options);
  }

  /** Every live agent's last report, sorted by agent id. */
  listAgents(): Promise<AgentStatus[]> {
    return listAgents(this);
  }

  /**
   * The head, its state and every live agent, compared (fleet.ts): what `config:status` and the
   * console show.
   */
  async fleetStatus(): Promise<FleetStatus> {
    const head = await this.head();
    const [state, agents] = await Promise.all([this.stateAt(head, head), this.listAgents()]);
    return fleetStatus(head, state, agents);
  }
}

/**
 * Opens the config plane (nothing is sent to etcd until the first call).
 *
 * @example
 * ```ts ignore
 * import { openConfigPlane } from "./plane.ts";
 * const plane = openConfigPlane({ endpoints: ["http://127.0.0.1:2379"], prefix: "/sluice" });
 * console.log(await plane.head());
 * plane.close();
 * ```
 */
export function openConfigPlane(options: ConfigPlaneOptions = {}): ConfigPlane {
  return new ConfigPlane(options);
}
