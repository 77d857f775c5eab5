/**
 * The one small HTTP server of the agent and the transfer: `/metrics` (Prometheus text format from
 * a prom-client registry) and `/healthz`, whose contract (docs/health.md) is decided here, once,
 * by the pure `healthResponse`. Each part only says how it is doing.
 * @module
 */
import type { Registry } from "prom-client";
import { formatHostPort, parseHostPort } from "./endpoints.ts";
import { getLogger } from "./log.ts";

/** What a part says about itself; `/healthz` turns it into the response (healthResponse). */
export interface HealthReport {
  /** True while the part does its job: 200; false: 503. */
  ok: boolean;
  /** Why it is not ok, one sentence for the operator (expected when `ok` is false). */
  problem?: string;
  /** The part's own detail (agent: its id, seq and sources; transfer: its engine and bulks). */
  detail?: Record<string, unknown>;
}

/**
 * The `/healthz` answer for a report (docs/health.md): status 200 when ok, else 503, and always a
 * JSON object with `ok` first, `problem` when there is one, then the part's detail. The detail
 * cannot overwrite `ok` or `problem`, so a client can rely on both. Pure.
 *
 * @example
 * ```ts
 * import { healthResponse } from "./metrics_server.ts";
 * healthResponse({ ok: false, problem: "stopping", detail: { seq: 7 } });
 * // { status: 503, body: { ok: false, problem: "stopping", seq: 7 } }
 * ```
 */
export function healthResponse(
  report: HealthReport,
): { status: 200 | 503; body: Record<string, unknown> } {
  const body: Record<string, unknown> = { ok: report.ok };
  if (report.problem !== undefined) body.problem = report.problem;
  for (const [key, value] of Object.entries(report.detail ?? {})) {
    if (key !== "ok" && key !== "problem") body[key] = value;
  }
  return { status: report.ok ? 200 : 503, body };
}

export interface MetricsServerOptions {
  /** `host:port` (IPv6 in brackets); port 0 picks a free port. */
  address: string;
  /** Whose metrics: anything holding a prom-client registry (AgentMetrics, TransferMetrics). */
  metrics: { readonly registry: Registry };
  /** Asked on every `/healthz` request. */
  health: () => HealthReport;
  /** Log category of the part serving, e.g. "agent" (its start-up line names the address). */
  part?: string;
}

/** A running metrics server. */
export interface MetricsServer {
  /** The address actually bound, as a client dials it (`host:port`, IPv6 in brackets). */
  readonly addr: string;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` and `/healthz` on `options.address` until `close()`; any other path is 404.
 * Throws InvalidInputError for an address that is not HOST:PORT.
 *
 * @example
 * ```ts
 * import { Registry } from "prom-client";
 * import { serveMetrics } from "./metrics_server.ts";
 * const server = serveMetrics({
 *   address: "127.0.0.1:0",
 *   metrics: { registry: new Registry() },
 *   health: () => ({ ok: true }),
 * });
 * const response = await fetch(`http://${server.addr}/healthz`);
 * await response.json(); // { ok: true }
 * await server.close();
 * ```
 */
export function serveMetrics(options: MetricsServerOptions): MetricsServer {
  const { hostname, port } = parseHostPort(options.address, "metrics address");
  const { registry } = options.metrics;
  const server = Deno.serve({ hostname, port, onListen: () => {} }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/metrics") {
      return new Response(await registry.metrics(), {
        headers: { "content-type": registry.contentType },
      });
    }
    if (path === "/healthz") {
      const { status, body } = healthResponse(options.health());
      return Response.json(body, { status });
    }
    return new Response("not found: try /metrics or /healthz\n", { status: 404 });
  });
  const bound = server.addr as Deno.NetAddr;
  const addr = formatHostPort(bound.hostname, bound.port);
  getLogger(...(options.part ? [options.part] : []), "metrics").info(
    "metrics on http://{addr}/metrics",
    { addr },
  );
  return { addr, port: bound.port, close: () => server.shutdown() };
}
