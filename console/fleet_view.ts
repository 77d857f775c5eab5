/**
 * The fleet as the console shows it: `fleetStatus` (the same convergence verdict as
 * `config:status`) plus, per agent, a health word and the heartbeat's age. The shaping is pure.
 * @module
 */
import type { ConfigPlane, FleetStatus } from "../config_plane/mod.ts";
import type { AgentConvergence, SourceStatus } from "../config_plane/mod.ts";

/** `ok` converged and heard from; `behind` not on the head yet; `error` failing or refusing; `stale` silent. */
export type Health = "ok" | "behind" | "error" | "stale";

/** One agent row of the fleet page. */
export interface AgentRow {
  agent_id: string;
  host: string;
  labels: Record<string, string>;
  seq: number;
  converged: boolean;
  health: Health;
  reasons: string[];
  heartbeat_at: string;
  /** Seconds since the last heartbeat. */
  heartbeat_age_s: number;
  started_at: string;
  version: string;
  sources: (SourceStatus & { id: string })[];
  /** Sources the head gives this host that the agent does not report. */
  missing: string[];
  last_error?: string;
}

/** What `GET /api/fleet` returns. */
export interface FleetView {
  head: number;
  converged: boolean;
  agents: AgentRow[];
  at: string;
}

/** A heartbeat older than this means the agent is stuck (the agent's lease TTL is 10 s). */
export const STALE_AFTER_MS = 15_000;

/**
 * The health word of one agent.
 *
 * @example
 * ```ts
 * import { agentHealth } from "./fleet_view.ts";
 * agentHealth({ converged: false, failing: [], reasons: ["runs revision 3, head is 4"], agent: { heartbeat_at: new Date().toISOString() } } as never, Date.now());
 * // "behind"
 * ```
 */
export function agentHealth(
  row: AgentConvergence,
  now: number,
  staleAfterMs = STALE_AFTER_MS,
): Health {
  const beat = Date.parse(row.agent.heartbeat_at);
  if (Number.isNaN(beat) || now - beat > staleAfterMs) return "stale";
  const refused = row.agent.rejected !== undefined && row.agent.rejected.seq > row.agent.seq;
  if (row.failing.length > 0 || refused) return "error";
  return row.converged ? "ok" : "behind";
}

/**
 * Shapes a fleet status into the rows the page shows. Pure.
 *
 * @example
 * ```ts
 * import { fleetView } from "./fleet_view.ts";
 * fleetView({ head: 0, agents: [], converged: true }, Date.now()).agents; // []
 * ```
 */
export function fleetView(status: FleetStatus, now: number): FleetView {
  const agents = status.agents.map((row): AgentRow => {
    const a = row.agent;
    const beat = Date.parse(a.heartbeat_at);
    const out: AgentRow = {
      agent_id: a.agent_id,
      host: a.host,
      labels: a.labels,
      seq: a.seq,
      converged: row.converged,
      health: agentHealth(row, now),
      reasons: row.reasons,
      heartbeat_at: a.heartbeat_at,
      heartbeat_age_s: Number.isNaN(beat) ? -1 : Math.max(0, Math.round((now - beat) / 1000)),
      started_at: a.started_at,
      version: a.version,
      sources: Object.entries(a.sources).sort(([x], [y]) => (x < y ? -1 : 1)).map((
        [id, s],
      ) => ({ id, ...s })),
      missing: row.missing,
    };
    if (a.last_error) out.last_error = a.last_error;
    return out;
  });
  return {
    head: status.head,
    converged: status.converged,
    agents,
    at: new Date(now).toISOString(),
  };
}

/**
 * Reads the head, its state and every live agent from etcd and shapes them.
 *
 * @example
 * ```ts ignore
 * import { openConfigPlane } from "../config_plane/mod.ts";
 * import { readFleet } from "./fleet_view.ts";
 * const plane = openConfigPlane();
 * console.log((await readFleet(plane)).converged);
 * plane.close();
 * ```
 */
export async function readFleet(plane: ConfigPlane, now = Date.now()): Promise<FleetView> {
  return fleetView(await plane.fleetStatus(), now);
}
