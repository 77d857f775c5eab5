/**
 * The agents registry: each agent keeps its status under `<prefix>/agents/<agent id>` on a lease
 * it keeps alive, so a dead agent's key disappears by itself; `config:status` lists them.
 * @module
 */
import type { Lease } from "etcd3";
import { backoffDelay, sleep } from "../core/backoff.ts";
import { InvalidInputError } from "../core/errors.ts";
import { getLogger } from "../core/log.ts";
import { formatIssues, validateAgentStatus } from "../schemas/validate.ts";
import { KEYS } from "./keys.ts";
import type { EventStore } from "./event_store.ts";
import type { AgentStatus } from "./types.ts";

const log = getLogger("config_plane", "agents");

export interface AgentRegistration {
  /** Replaces the stored status (e.g. the heartbeat, the seq now run, per-source states). */
  update(status: AgentStatus): Promise<void>;
  /** Revokes the lease: the agent's key disappears at once. */
  close(): Promise<void>;
}

function checked(status: AgentStatus): string {
  const result = validateAgentStatus(status);
  if (!result.ok) {
    throw new InvalidInputError(
      `the agent status is invalid:\n${formatIssues(result.errors, "agent status")}`,
    );
  }
  return JSON.stringify(status);
}

/**
 * Puts `status` under `agents/<agent id>` on a lease of `ttlSeconds`, kept alive by the client.
 * If the lease is lost (etcd was away longer than the TTL) a new one is granted and the latest
 * status written again, with backoff, until `close()`.
 *
 * @example
 * ```ts ignore
 * import { openConfigPlane } from "./plane.ts";
 * const plane = openConfigPlane({ prefix: "/sluice-example" });
 * const now = new Date().toISOString();
 * const registration = await plane.registerAgent({
 *   agent_id: "web-1", host: "web-1", labels: { role: "web" }, seq: 0, started_at: now,
 *   heartbeat_at: now, version: "0.1.0", sources: {},
 * }, { ttlSeconds: 10 });
 * await registration.close();
 * plane.close();
 * ```
 */
export async function registerAgent(
  store: EventStore,
  status: AgentStatus,
  options: { ttlSeconds: number },
): Promise<AgentRegistration> {
  const key = KEYS.agent(status.agent_id);
  let latest = checked(status);
  let closed = false;
  let lease: Lease;
  /** True while `regrant` runs: one loop at a time, whatever leases it loses on the way. */
  let regranting = false;

  const grant = async (): Promise<void> => {
    const next = store.kv.lease(options.ttlSeconds);
    next.on("lost", (error) => {
      // A lease granted by a retry that fails is lost too; the running loop already retries.
      if (closed || next !== lease || regranting) return;
      log.warn("agent lease for {agent} lost ({error}); registering again", {
        agent: status.agent_id,
        error: String(error?.message ?? error),
      });
      void regrant();
    });
    lease = next;
    await store.call("register the agent", () => next.put(key).value(latest).exec());
  };

  const regrant = async (): Promise<void> => {
    if (regranting) return;
    regranting = true;
    try {
      await regrantLoop();
    } finally {
      regranting = false;
    }
  };

  const regrantLoop = async (): Promise<void> => {
    for (let attempt = 0; !closed; attempt++) {
      try {
        await grant();
        log.info("agent {agent} registered again", { agent: status.agent_id });
        return;
      } catch (error) {
        const delay = backoffDelay(attempt, { initialMs: 200, maxMs: 5_000 });
        log.warn("could not register agent {agent}: {error}; retrying in {delay} ms", {
          agent: status.agent_id,
          error: String(error),
          delay,
        });
        await sleep(delay);
      }
    }
  };

  await grant();
  return {
    async update(next: AgentStatus): Promise<void> {
      latest = checked(next);
      if (lease.revoked()) return; // the re-registration writes `latest`
      await store.call("update the agent status", () => lease.put(key).value(latest).exec());
    },
    async close(): Promise<void> {
      closed = true;
      await lease.revoke().catch((error) =>
        log.warn("could not revoke the agent lease: {error}", { error: String(error) })
      );
    },
  };
}

/**
 * Every live agent's status, sorted by agent id; unreadable entries are logged and left out.
 *
 * @example
 * ```ts ignore
 * import { openConfigPlane } from "./plane.ts";
 * const plane = openConfigPlane();
 * for (const agent of await plane.listAgents()) console.log(agent.agent_id, agent.seq);
 * plane.close();
 * ```
 */
export async function listAgents(store: EventStore): Promise<AgentStatus[]> {
  const found = await store.call(
    "list the agents",
    () => store.kv.getAll().prefix(KEYS.agentsPrefix).strings(),
  );
  const agents: AgentStatus[] = [];
  for (const [key, value] of Object.entries(found)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      log.warn("agent key {key} does not hold JSON; ignored", { key });
      continue;
    }
    const result = validateAgentStatus(parsed);
    if (result.ok) agents.push(result.value);
    else {log.warn("agent key {key} is invalid; ignored: {error}", {
        key,
        error: formatIssues(result.errors, key),
      });}
  }
  return agents.sort((a, b) => (a.agent_id < b.agent_id ? -1 : 1));
}
