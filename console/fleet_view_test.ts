import { deepStrictEqual as assertEquals, equal } from "node:assert/strict";
import { type AgentStatus, type DesiredState, fleetStatus } from "../config_plane/mod.ts";
import { agentHealth, fleetView, STALE_AFTER_MS } from "./fleet_view.ts";

const NOW = Date.parse("2024-03-09T12:00:00Z");
const state: DesiredState = {
  defaults: { topic: "logs" },
  sources: [{ id: "app", paths: ["/a.log"] }, { id: "web", paths: ["/w.log"] }],
};

function agent(id: string, extra: Partial<AgentStatus> = {}): AgentStatus {
  return {
    agent_id: id,
    host: id,
    labels: { role: "web" },
    seq: 5,
    started_at: "2024-03-09T11:00:00Z",
    heartbeat_at: new Date(NOW - 2_000).toISOString(),
    version: "0.1.0",
    sources: {
      web: { state: "running", files: 2, lag_bytes: 10 },
      app: { state: "running", files: 1 },
    },
    ...extra,
  };
}

function health(a: AgentStatus, head = 5) {
  return agentHealth(fleetStatus(head, state, [a]).agents[0], NOW);
}

Deno.test("health: ok, behind, error (failing or refusing), stale (silent)", () => {
  equal(health(agent("a")), "ok");
  equal(health(agent("a"), 6), "behind");
  equal(
    health(agent("a", { sources: { app: { state: "error", files: 0, last_error: "EACCES" } } })),
    "error",
  );
  equal(health(agent("a", { seq: 4, rejected: { seq: 5, error: "bad regex" } })), "error");
  equal(
    health(agent("a", { heartbeat_at: new Date(NOW - STALE_AFTER_MS - 1).toISOString() })),
    "stale",
  );
  equal(health(agent("a", { heartbeat_at: "not a time" })), "stale");
});

Deno.test("fleet view: rows sorted, sources listed by id, heartbeat age, missing sources", () => {
  const view = fleetView(
    fleetStatus(5, state, [
      agent("web-2", { sources: { app: { state: "running", files: 1 } }, last_error: "boom" }),
      agent("web-1"),
    ]),
    NOW,
  );
  equal(view.head, 5);
  equal(view.converged, false);
  assertEquals(view.agents.map((a) => a.agent_id), ["web-1", "web-2"]);
  assertEquals(view.agents[0].sources, [
    { id: "app", state: "running", files: 1 },
    { id: "web", state: "running", files: 2, lag_bytes: 10 },
  ]);
  equal(view.agents[0].heartbeat_age_s, 2);
  equal(view.agents[0].health, "ok");
  assertEquals(view.agents[1].missing, ["web"]);
  equal(view.agents[1].last_error, "boom");
  equal(view.agents[1].converged, false);
  equal(view.at, "2024-03-09T12:00:00.000Z");
});
