/**
 * The transfer's Prometheus metrics (npm prom-client, one registry per transfer so that several
 * can run in one process). core/metrics_server.ts serves them on `/metrics`, beside `/healthz`.
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The counters and gauges a transfer updates. */
export class TransferMetrics {
  readonly registry: Registry = new Registry();
  readonly recordsConsumed: Counter<"topic">;
  readonly docsIndexed: Counter<never>;
  readonly retries: Counter<"kind">;
  readonly deadLettered: Counter<"cause">;
  readonly consumerLag: Gauge<"topic" | "partition">;
  readonly bulksInFlight: Gauge<never>;
  readonly pausedPartitions: Gauge<never>;
  readonly bulkSeconds: Histogram<never>;

  constructor() {
    const registers = [this.registry];
    this.recordsConsumed = new Counter({
      name: "sluice_transfer_records_consumed_total",
      help: "Kafka records read by the transfer.",
      labelNames: ["topic"],
      registers,
    });
    this.docsIndexed = new Counter({
      name: "sluice_transfer_docs_indexed_total",
      help: "Documents the search engine stored.",
      registers,
    });
    this.retries = new Counter({
      name: "sluice_transfer_retries_total",
      help: "Bulk requests (kind=request) or documents (kind=item) sent again.",
      labelNames: ["kind"],
      registers,
    });
    this.deadLettered = new Counter({
      name: "sluice_transfer_dead_lettered_total",
      help: "Records sent to the dead-letter topic (cause=rejected|not_envelope|oversized).",
      labelNames: ["cause"],
      registers,
    });
    this.consumerLag = new Gauge({
      name: "sluice_transfer_consumer_lag",
      help: "Records between the committed offset and the end of each partition.",
      labelNames: ["topic", "partition"],
      registers,
    });
    this.bulksInFlight = new Gauge({
      name: "sluice_transfer_bulks_in_flight",
      help: "Bulk requests being sent or retried.",
      registers,
    });
    this.pausedPartitions = new Gauge({
      name: "sluice_transfer_paused_partitions",
      help: "Partitions not fetched because the search engine is behind.",
      registers,
    });
    this.bulkSeconds = new Histogram({
      name: "sluice_transfer_bulk_seconds",
      help: "Duration of one bulk request.",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }
}
