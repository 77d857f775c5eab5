import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { fleetStatus } from "./fleet.ts";
import type { AgentStatus, DesiredState } from "./types.ts";

const state: DesiredState = {
  defaults: { topic: "logs" },
  sources: [{ id: "all", paths: ["/a"] }, {
    id: "web",
    paths: ["/w"],
    hosts: { labels: { role: "web" } },
  }],
};
function agent(id: string, seq: number, extra: Partial<AgentStatus> = {}): AgentStatus {
  return {
    agent_id: id,
    host: id,
    labels: { role: "web" },
    seq,
    started_at: "",
    heartbeat_at: "",
    version: "0.1.0",
    sources: { all: { state: "running", files: 1 }, web: { state: "running", files: 1 } },
    ...extra,
  };
}

Deno.test("fleetStatus: converged when every agent runs head with its sources healthy", () => {
  assert(fleetStatus(4, state, [agent("a", 4), agent("b", 4)]).converged);
  assert(fleetStatus(4, state, []).converged);
});

Deno.test("fleetStatus names why an agent is not converged", () => {
  const fleet = fleetStatus(4, state, [
    agent("behind", 3),
    agent("broken", 4, { sources: { all: { state: "error", files: 0, last_error: "EACCES" } } }),
    agent("refused", 4, { rejected: { seq: 5, error: "bad" } }),
  ]);
  assert(!fleet.converged);
  const byId = Object.fromEntries(fleet.agents.map((r) => [r.agent.agent_id, r]));
  assertEquals(byId.behind.reasons, ["runs revision 3, head is 4"]);
  assertEquals(byId.broken.missing, ["web"]);
  assertEquals(byId.broken.failing, ["all"]);
  assertEquals(byId.refused.reasons, ["refused revision 5: bad"]);
});
