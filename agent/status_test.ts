import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { validateAgentStatus } from "../config_plane/mod.ts";
import { buildStatus } from "./status.ts";

Deno.test("buildStatus produces a status the schema accepts", () => {
  const t = new Date("2024-05-01T00:00:00Z");
  const status = buildStatus({
    agentId: "web-1",
    host: "web-1.example",
    labels: { role: "web" },
    seq: 12,
    rejected: { seq: 13, error: "bad regex" },
    startedAt: t,
    now: t,
    sources: { nginx: { state: "running", files: 2, lag_bytes: 0 } },
  });
  assertEquals(status.seq, 12);
  assertEquals(status.rejected, { seq: 13, error: "bad regex" });
  const result = validateAgentStatus(status);
  assertEquals(result.ok, true, JSON.stringify(result));
});

Deno.test("before any config the seq is 0, not negative", () => {
  const t = new Date();
  assertEquals(
    buildStatus({ agentId: "a", host: "a", labels: {}, seq: -1, startedAt: t, now: t, sources: {} })
      .seq,
    0,
  );
});
