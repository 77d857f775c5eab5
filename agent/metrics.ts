/**
 * What the agent counts, in Prometheus text format (prom-client). core/metrics_server.ts serves
 * it on `/metrics`, beside `/healthz` (docs/health.md).
 * @module
 */
import { Counter, Gauge, Registry } from "prom-client";

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
  readonly kafkaErrors: Counter<"topic" | "kind"> = new Counter({
    name: "sluice_agent_kafka_errors_total",
    help: "Failed Kafka sends, per topic and kind: unreachable and topic_refused are retried, " +
      "record_refused splits the batch or dead-letters the record, out_of_sequence follows another.",
    labelNames: ["topic", "kind"] as const,
    registers: [this.registry],
  });
  readonly topicRefused: Gauge<"topic"> = new Gauge({
    name: "sluice_agent_kafka_topic_refused",
    help: "1 while Kafka refuses a topic: its sources hold (their lines wait in their files).",
    labelNames: ["topic"] as const,
    registers: [this.registry],
  });
  /** How many topics have a producer now; asked when /metrics is read (the agent sets it). */
  countKafkaTopics: () => number = () => 0;
  readonly kafkaTopics: Gauge<string> = new Gauge({
    name: "sluice_agent_kafka_topics",
    help: "Topics the agent has a producer for (one in-order queue and producer id each).",
    registers: [this.registry],
    collect: () => this.kafkaTopics.set(this.countKafkaTopics()),
  });
  readonly deadLetters: Counter<"source" | "topic"> = new Counter({
    name: "sluice_agent_dead_letters_total",
    help:
      "Lines their topic refused for themselves (too large, invalid), sent to the dead-letter " +
      "topic instead; per source and refusing topic.",
    labelNames: ["source", "topic"] as const,
    registers: [this.registry],
  });
  readonly linesFlagged: Counter<"source" | "flag"> = new Counter({
    name: "sluice_agent_lines_flagged_total",
    help: "Lines sent with a flag (their time did not parse, a parser or processor step failed), " +
      "per source and flag; none is dropped for it.",
    labelNames: ["source", "flag"] as const,
    registers: [this.registry],
  });
  readonly linesDropped: Counter<"source"> = new Counter({
    name: "sluice_agent_lines_dropped_total",
    help: "Lines a drop or keep processor of the source filtered out on purpose, per source.",
    labelNames: ["source"] as const,
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
