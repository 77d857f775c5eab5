/**
 * Whether the fleet runs what the config says: each live agent compared with the head revision
 * (its seq, what it refused, its failing sources). Pure, so `config:status` and the console agree.
 * @module
 */
import { sourcesForHost } from "./source.ts";
import type { AgentStatus, DesiredState } from "./types.ts";

export interface AgentConvergence {
  agent: AgentStatus;
  /** Runs the head revision, with every source it should run reported and none in error. */
  converged: boolean;
  /** Sources the head state gives this host that the agent does not report. */
  missing: string[];
  /** Sources the agent reports in state `error`. */
  failing: string[];
  /** Why the agent is not converged, in words; empty when it is. */
  reasons: string[];
}

export interface FleetStatus {
  head: number;
  agents: AgentConvergence[];
  /** Every live agent converged (true for an empty fleet). */
  converged: boolean;
}

/**
 * Compares each agent's report with the head state.
 *
 * @example
 * ```ts
 * import { fleetStatus } from "./fleet.ts";
 * const state = { defaults: { topic: "logs" }, sources: [{ id: "app", paths: ["/a.log"] }] };
 * const agent = {
 *   agent_id: "web-1", host: "web-1", labels: {}, seq: 4, started_at: "", heartbeat_at: "", version: "0.1.0",
 *   sources: { app: { state: "running" as const, files: 1 } },
 * };
 * fleetStatus(5, state, [agent]).converged; // false: the agent runs 4, head is 5
 * ```
 */
export function fleetStatus(head: number, state: DesiredState, agents: AgentStatus[]): FleetStatus {
  const rows = [...agents].sort((a, b) => (a.agent_id < b.agent_id ? -1 : 1)).map((agent) => {
    const wanted = sourcesForHost(state, agent.host, agent.labels).map((s) => s.id);
    const missing = wanted.filter((id) => !(id in agent.sources));
    const failing = Object.entries(agent.sources).filter(([, s]) => s.state === "error").map((
      [id],
    ) => id);
    const reasons: string[] = [];
    if (agent.seq !== head) reasons.push(`runs revision ${agent.seq}, head is ${head}`);
    if (agent.rejected && agent.rejected.seq > agent.seq) {
      reasons.push(`refused revision ${agent.rejected.seq}: ${agent.rejected.error}`);
    }
    if (agent.seq === head && missing.length > 0) {
      reasons.push(`does not report ${missing.join(", ")}`);
    }
    if (failing.length > 0) reasons.push(`sources in error: ${failing.join(", ")}`);
    return { agent, converged: reasons.length === 0, missing, failing, reasons };
  });
  return { head, agents: rows, converged: rows.every((r) => r.converged) };
}
