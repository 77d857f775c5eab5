/**
 * The console next to a live pipeline: a real agent process and a transfer on the real stack. A
 * change applied through the console's API shows on `/api/fleet` as the agent running the older
 * revision (behind) and then converging on the new head with each source's state; a line appended
 * to a tailed file is found through `/api/logs/search` and `/api/logs/tail`.
 * @module
 */
import { deepStrictEqual as assertEquals, equal, ok as assert } from "node:assert/strict";
import { waitFor } from "../support/console_rig.ts";
import type { AgentRow, FleetView } from "../../console/fleet_view.ts";
import { withDiagnostics } from "../support/diagnostics.ts";
import { liveState, startLivePipeline } from "./console_live_support.ts";

async function call(url: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${JSON.stringify(json)}`);
  return json;
}

Deno.test({
  name: "live agent: a console apply shows the agent behind, then converged; a new line is found",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withDiagnostics(async (d) => {
      const live = await startLivePipeline(d);
      const api = (path: string, body?: unknown) => call(`${live.web.url}${path}`, body);
      const agentRow = async (): Promise<{ fleet: FleetView; row?: AgentRow }> => {
        const fleet = await api("/api/fleet") as unknown as FleetView;
        return { fleet, row: fleet.agents.find((a) => a.agent_id === live.agentId) };
      };
      await live.append(live.webLog, [
        '10.0.0.1 - - [01/Jan/2025:00:00:00 +0000] "GET / HTTP/1.1" 200 12',
      ]);
      const first = await api("/api/config/apply", {
        text: liveState(live),
        base: 0,
        message: "collect the web access log",
        author: "ann",
      });
      equal((first.appended as { seq: number }).seq, 1);

      live.startAgent();
      const on1 = await waitFor("the agent on revision 1", async () => {
        const { row } = await agentRow();
        // A source reports `starting` before its first scan; converged means running.
        return row?.seq === 1 && row.health === "ok" && row.sources[0]?.state === "running"
          ? row
          : undefined;
      }, 60_000);
      // The agent id is the host name of selectors and envelopes (docs/agent.md): the fleet
      // must judge the agent by the same name, or host-selected sources look missing or extra.
      equal(on1.host, live.agentId);
      assertEquals(on1.labels, { role: "web", zone: "local" });
      assertEquals(on1.sources.map((s) => [s.id, s.state, s.files]), [["web", "running", 1]]);

      // Frozen, the agent cannot take revision 2: the fleet shows it behind, not converged.
      live.pauseAgent();
      const second = await api("/api/config/apply", {
        text: liveState(live, { checkout: true }),
        base: 1,
        message: "collect the checkout app log too",
        author: "ann",
      });
      equal((second.appended as { seq: number }).seq, 2);
      const behind = await agentRow();
      equal(behind.fleet.head, 2);
      equal(behind.fleet.converged, false);
      assertEquals([behind.row?.seq, behind.row?.health, behind.row?.converged], [
        1,
        "behind",
        false,
      ]);
      assert(
        behind.row!.reasons.includes("runs revision 1, head is 2"),
        behind.row!.reasons.join(),
      );

      live.resumeAgent();
      await live.append(live.appLog, ['{"level":"info","msg":"checkout started"}']);
      const converged = await waitFor("the agent converged on revision 2", async () => {
        const { fleet, row } = await agentRow();
        return fleet.converged && row?.seq === 2 &&
            row.sources.every((s) => s.state === "running" && s.files === 1)
          ? { fleet, row }
          : undefined;
      }, 30_000);
      equal(converged.row.health, "ok");
      assertEquals(converged.row.sources.map((s) => s.id), ["checkout", "web"]);
      assertEquals(converged.row.missing, []);

      // A line appended now is found by its marker, from its source and this host.
      const marker = `order${crypto.randomUUID().slice(0, 8)}`;
      const since = new Date(Date.now() - 1_000).toISOString();
      const t0 = Date.now();
      await live.append(live.appLog, [
        JSON.stringify({ level: "error", msg: "payment declined", order: marker }),
      ]);
      const found = await waitFor("the new line in log search", async () => {
        const r = await api(`/api/logs/search?q=${marker}&range=15m`);
        return r.total === 1 ? r : undefined;
      }, 60_000);
      const searchable = Date.now() - t0;
      const [row] = found.rows as { source: string; host: string; message: string }[];
      assertEquals([row.source, row.host], ["checkout", converged.row.host]);
      assert(row.message.includes(marker));
      assertEquals(
        (found.sources as { id: string; count: number }[]).map((s) => [s.id, s.count]),
        [["checkout", 1]],
      );
      const everything = await api("/api/logs/search?range=15m&source=web");
      equal(everything.total, 1, "the first web line, from the beginning of the file");
      const tail = await api(`/api/logs/tail?since=${since}&q=${marker}`);
      assertEquals((tail.rows as { message: string }[]).map((r) => r.message.includes(marker)), [
        true,
      ]);
      console.log(`line appended → found by the console's search in ${searchable} ms`);
    }),
});
