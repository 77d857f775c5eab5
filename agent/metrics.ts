/**
 * What the agent counts, in Prometheus text format (prom-client), and the small HTTP endpoint
 * that serves it: `/metrics` for scraping, `/healthz` for liveness (200 while the agent runs its
 * config, 503 while it is starting or stopping).
 * @module
 */
import { Counter, Gauge, Registry } from "prom-client";
import { getLogger } from "../core/log.ts";

/** The agent's metrics on their own registry (tests and several agents in one process stay apart). */
export class AgentMetrics {
  readonly registry: Registry = new Registry();
  readonly linesRead: Counter<"source"> = new Counter({
    name: "sluice_agent_lines_read_total",
    help: "Lines (or parts, or multiline events) read, per source.",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  readonly bytesRead: Counter<"source"> = new Counter({
    name: "sluice_agent_bytes_read_total",
    help: "File bytes read, per source.",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  readonly linesAcked: Counter<"source"> = new Counter({
    name: "sluice_agent_lines_acked_total",
    help: "Lines acknowledged by Kafka, per source.",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  readonly bytesAcked: Counter<"source"> = new Counter({
    name: "sluice_agent_bytes_acked_total",
    help: "File bytes whose lines Kafka acknowledged, per source.",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  readonly lagBytes: Gauge<"source" | "path"> = new Gauge({
    name: "sluice_agent_lag_bytes",
    help: "Bytes in a file not yet acknowledged by Kafka (file size - acknowledged offset).",
    labelNames: ["source", "path"] as const,
    registers: [this.registry],
  });
  readonly filesTailed: Gauge<"source"> = new Gauge({
    name: "sluice_agent_files",
    help: "Files open, per source.",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  readonly kafkaErrors: Counter<string> = new Counter({
    name: "sluice_agent_kafka_errors_total",
    help: "Failed Kafka send attempts (each is retried).",
    registers: [this.registry],
  });
  readonly checkpointErrors: Counter<"source"> = new Counter({
    name: "sluice_agent_checkpoint_errors_total",
    help: "Failed checkpoint saves (reading is held until a save succeeds).",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  readonly skippedFiles: Counter<"source" | "reason"> = new Counter({
    name: "sluice_agent_skipped_files_total",
    help: "Files skipped, e.g. binary files.",
    labelNames: ["source", "reason"] as const,
    registers: [this.registry],
  });
  readonly reconciles: Counter<string> = new Counter({
    name: "sluice_agent_reconciles_total",
    help: "Reconciles run (one per coalesced burst of config changes).",
    registers: [this.registry],
  });
  readonly appliedSeq: Gauge<string> = new Gauge({
    name: "sluice_agent_applied_seq",
    help: "Config plane seq whose state the agent runs.",
    registers: [this.registry],
  });
  readonly rejectedSeq: Gauge<string> = new Gauge({
    name: "sluice_agent_rejected_seq",
    help: "Latest config seq refused as invalid (0 = none).",
    registers: [this.registry],
  });

  /** Drops the per-file series of a file that is no longer tailed. */
  forgetFile(source: string, path: string): void {
    this.lagBytes.remove({ source, path });
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface MetricsServerOptions {
  /** `host:port`; port 0 picks a free port. */
  address: string;
  metrics: AgentMetrics;
  /** Health: ok = 200, else 503 with the reason. */
  health: () => { ok: boolean; detail: Record<string, unknown> };
}

/**
 * Serves `/metrics` and `/healthz` until `close()`.
 *
 * @example
 * ```ts
 * import { AgentMetrics, serveMetrics } from "./metrics.ts";
 * const server = serveMetrics({ address: "127.0.0.1:0", metrics: new AgentMetrics(), health: () => ({ ok: true, detail: {} }) });
 * console.log(server.port);
 * await server.close();
 * ```
 */
export function serveMetrics(
  options: MetricsServerOptions,
): { port: number; close(): Promise<void> } {
  const { hostname, port } = parseAddress(options.address);
  const server = Deno.serve({
    hostname,
    port,
    onListen: ({ hostname, port }) =>
      getLogger("agent", "metrics").info("metrics on http://{hostname}:{port}/metrics", {
        hostname,
        port,
      }),
  }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/metrics") {
      return new Response(await options.metrics.text(), {
        headers: { "content-type": options.metrics.registry.contentType },
      });
    }
    if (url.pathname === "/healthz") {
      const { ok, detail } = options.health();
      return Response.json({ ok, ...detail }, { status: ok ? 200 : 503 });
    }
    return new Response("not found: try /metrics or /healthz\n", { status: 404 });
  });
  return { port: server.addr.port, close: () => server.shutdown() };
}

/**
 * Splits `host:port` (IPv6 in brackets).
 *
 * @example
 * ```ts
 * import { parseAddress } from "./metrics.ts";
 * parseAddress("[::1]:9464"); // { hostname: "::1", port: 9464 }
 * ```
 */
export function parseAddress(address: string): { hostname: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim());
  if (!m) throw new TypeError(`metrics address must be host:port, got '${address}'`);
  return { hostname: m[1] || "0.0.0.0", port: Number(m[2]) };
}
