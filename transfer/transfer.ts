/**
 * The transfer as a running thing: a consumer group over the configured topics feeding the index
 * pipeline, partitions paused while the engine is behind, offsets committed only up to records
 * that are done, the index template and retention, `/metrics` and `/healthz`, and a clean stop
 * (finish in-flight bulks, commit, leave the group). `startTransfer` is the in-process API.
 * @module
 */
import { getLogger } from "../core/log.ts";
import { type HealthReport, type MetricsServer, serveMetrics } from "../core/metrics_server.ts";
import { sleep } from "../core/backoff.ts";
import { SecurityError, SluiceError, UnreachableError } from "../core/errors.ts";
import {
  createGroupConsumer,
  type GroupConsumer,
  type RecordBatch,
  type TopicPartition,
} from "../kafka/consumer.ts";
import { createKafka, ensureTopic, explainKafkaSecurityError } from "../kafka/connection.ts";
import { redactUrl } from "../core/secret.ts";
import type { TransferConfig } from "./config.ts";
import { type DeadLetterSink, openDeadLetterQueue } from "./dead_letter.ts";
import { createEngine, type EngineInfo, type SearchEngine } from "./engine.ts";
import { installIndexTemplate, templateName } from "./index_template.ts";
import { TransferMetrics } from "./metrics.ts";
import { IndexPipeline, type PipelineCounts } from "./pipeline.ts";
import { applyRetention } from "./retention.ts";

const log = getLogger("transfer");

export interface TransferOptions {
  /** Aborting stops the transfer cleanly, like `stop()`. */
  signal?: AbortSignal;
  /** How long to wait for the engine at start-up, ms (default 60 s). */
  startupTimeoutMs?: number;
}

/** What a running transfer reports. */
export interface TransferStats extends PipelineCounts {
  bulksInFlight: number;
  pausedPartitions: number;
  /** Last committed offset (next to read) per "topic/partition". */
  committed: Record<string, number>;
  /** Why the engine is failing, while it is. */
  engineProblem?: string;
}

/** A running transfer. */
export interface Transfer {
  readonly engine: EngineInfo;
  /** Where /metrics and /healthz answer, when enabled. */
  readonly metricsAddr: string | undefined;
  readonly metrics: TransferMetrics;
  /** Resolves once the transfer has stopped. */
  readonly done: Promise<void>;
  stats(): TransferStats;
  /** Stops reading, finishes in-flight bulks (up to the grace period), commits, leaves the group. */
  stop(): Promise<void>;
}

/**
 * Starts a transfer: waits for the engine, installs the index template, opens the dead-letter
 * topic and joins the consumer group. Resolves once consuming has started.
 *
 * @example
 * ```ts ignore
 * import { resolveConfig } from "./config.ts";
 * import { startTransfer } from "./transfer.ts";
 * const transfer = await startTransfer(resolveConfig({ flags: { topic: ["logs"] } }));
 * // ... later
 * await transfer.stop();
 * ```
 */
export async function startTransfer(
  config: TransferConfig,
  options: TransferOptions = {},
): Promise<Transfer> {
  const engine = await connectEngine(config, options.startupTimeoutMs ?? 60_000, options.signal);
  let info: EngineInfo;
  let deadLetters: DeadLetterSink | undefined;
  try {
    info = await engine.info();
    await installIndexTemplate(engine, config);
    deadLetters = await openDeadLetterQueue({
      brokers: config.brokers,
      topic: config.deadLetterTopic,
      clientId: `${config.groupId}-dlq`,
    }).catch((error) => {
      throw kafkaUnreachable(error, config.brokers);
    });
  } catch (error) {
    await deadLetters?.close().catch(() => {});
    await engine.close().catch(() => {});
    throw error;
  }
  log.info("{kind} {version} at {url}; template {template} installed", {
    kind: info.kind,
    version: info.version,
    url: redactUrl(config.searchUrl),
    template: templateName(config.indexPrefix),
  });
  const transfer = new RunningTransfer(config, engine, info, deadLetters);
  try {
    await transfer.start();
  } catch (error) {
    await transfer.stop().catch(() => {});
    throw error;
  }
  options.signal?.addEventListener("abort", () => void transfer.stop(), { once: true });
  return transfer;
}

/** A Kafka connection failure at start-up as an operator-facing error (exit code 4). */
function kafkaUnreachable(error: unknown, brokers: string[]): unknown {
  if (error instanceof SluiceError) return error;
  const security = explainKafkaSecurityError(error, brokers);
  if (security) return new SecurityError(security, { cause: error });
  const e = error as { name?: string; message?: string; cause?: { name?: string } };
  const connection = [e?.name, e?.cause?.name].some((n) => n?.includes("Connection")) ||
    e?.name === "KafkaJSNumberOfRetriesExceeded";
  if (!connection) return error;
  return new UnreachableError(
    `Kafka at ${brokers.join(",")} does not answer (${e.message}); start it ` +
      "(deno task stack:up) or set SLUICE_KAFKA_BROKERS / --brokers",
    { cause: error },
  );
}

/** The engine, once it answers (ES/OpenSearch may still be starting when the transfer does). */
async function connectEngine(
  config: TransferConfig,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<SearchEngine> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0;; attempt++) {
    try {
      return await createEngine({ url: config.searchUrl, kind: config.engine });
    } catch (error) {
      // A refused certificate or password will not fix itself: fail at once.
      if (!(error instanceof UnreachableError) || error instanceof SecurityError) throw error;
      if (Date.now() >= deadline) throw error;
      if (attempt === 0) {
        log.warn("waiting for the search engine: {error}", { error: error.message });
      }
      await sleep(Math.min(2_000, 250 * 2 ** attempt), signal);
    }
  }
}

const keyOf = (tp: TopicPartition) => `${tp.topic}/${tp.partition}`;

class RunningTransfer implements Transfer {
  readonly engine: EngineInfo;
  readonly metrics = new TransferMetrics();
  readonly done: Promise<void>;
  metricsAddr: string | undefined;
  readonly #config: TransferConfig;
  readonly #engine: SearchEngine;
  readonly #deadLetters: DeadLetterSink;
  readonly #consumer: GroupConsumer;
  readonly #pipeline: IndexPipeline;
  readonly #abort = new AbortController();
  readonly #paused = new Map<string, TopicPartition>();
  readonly #highWatermarks = new Map<string, { tp: TopicPartition; high: number }>();
  #server: MetricsServer | undefined;
  #retentionTimer: ReturnType<typeof setInterval> | undefined;
  #commitTimer: ReturnType<typeof setTimeout> | undefined;
  #committing: Promise<void> | undefined;
  #commitAgain = false;
  #stopping: Promise<void> | undefined;
  #dlqClosing: Promise<void> | undefined;
  #resolveDone!: () => void;

  constructor(config: TransferConfig, engine: SearchEngine, info: EngineInfo, dlq: DeadLetterSink) {
    this.#config = config;
    this.#engine = engine;
    this.engine = info;
    this.#deadLetters = dlq;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.#pipeline = new IndexPipeline({
      config,
      engine,
      deadLetters: dlq,
      metrics: this.metrics,
      signal: this.#abort.signal,
      onDone: () => this.#scheduleCommit(),
      onCapacity: () => this.#resumeIfRoom(),
    });
    this.#consumer = createGroupConsumer({
      brokers: config.brokers,
      groupId: config.groupId,
      clientId: config.groupId,
      sessionTimeoutMs: config.sessionTimeoutMs,
      topics: config.topicPattern ? undefined : config.topics,
      topicPattern: config.topicPattern ? new RegExp(config.topicPattern) : undefined,
    });
  }

  async start(): Promise<void> {
    if (!this.#config.topicPattern) {
      // The transfer may well start before any agent has written: create the topics (same
      // defaults as the agent's side) rather than fail on a missing one.
      const kafka = createKafka({ brokers: this.#config.brokers, clientId: this.#config.groupId });
      try {
        for (const topic of this.#config.topics) await ensureTopic(kafka, topic);
      } catch (error) {
        throw kafkaUnreachable(error, this.#config.brokers);
      }
    }
    if (this.#config.metricsAddr) {
      this.#server = serveMetrics({
        address: this.#config.metricsAddr,
        metrics: this.metrics,
        part: "transfer",
        health: () => this.#health(),
      });
      this.metricsAddr = this.#server.addr;
    }
    if (this.#config.retentionDays > 0) {
      await this.#retention();
      this.#retentionTimer = setInterval(() => void this.#retention(), 3_600_000);
    }
    await this.#consumer.start({
      onBatch: (batch) => this.#onBatch(batch),
      onAssignment: (assigned) => {
        // Kafka re-delivers everything after the committed offsets to whoever owns a partition
        // now, so bookkeeping from the previous generation is dropped (re-indexing is harmless:
        // same _id).
        this.#pipeline.reset();
        if (this.#paused.size > 0) this.#consumer.resume([...this.#paused.values()]);
        this.#paused.clear();
        this.metrics.pausedPartitions.set(0);
        this.metrics.consumerLag.reset();
        this.#highWatermarks.clear();
        log.info("assigned {count} partitions: {partitions}", {
          count: assigned.length,
          partitions: assigned.map(keyOf).join(", "),
        });
      },
    });
    log.info("consuming {topics} as group {group} into {prefix}-*", {
      topics: this.#config.topicPattern ?? this.#config.topics.join(","),
      group: this.#config.groupId,
      prefix: this.#config.indexPrefix,
    });
  }

  stats(): TransferStats {
    const committed: Record<string, number> = {};
    for (const { tp } of this.#highWatermarks.values()) {
      const offset = this.#pipeline.tracker.committed(tp.topic, tp.partition);
      if (offset !== undefined) committed[keyOf(tp)] = offset;
    }
    return {
      ...this.#pipeline.counts,
      bulksInFlight: this.#pipeline.inFlight,
      pausedPartitions: this.#paused.size,
      committed,
      ...(this.#pipeline.problem ? { engineProblem: this.#pipeline.problem } : {}),
    };
  }

  #onBatch(batch: RecordBatch): void {
    if (this.#stopping) return; // not tracked, so not committed: read again after the restart
    this.#pipeline.accept(batch);
    this.#highWatermarks.set(keyOf(batch), {
      tp: { topic: batch.topic, partition: batch.partition },
      high: Number(batch.highWatermark),
    });
    this.#updateLag(batch);
    if (this.#pipeline.saturated && !this.#paused.has(keyOf(batch))) {
      const tp = { topic: batch.topic, partition: batch.partition };
      this.#paused.set(keyOf(tp), tp);
      this.#consumer.pause([tp]);
      this.metrics.pausedPartitions.set(this.#paused.size);
      log.debug("paused {partition}: engine behind", { partition: keyOf(tp) });
    }
  }

  #resumeIfRoom(): void {
    if (this.#stopping || this.#paused.size === 0 || this.#pipeline.saturated) return;
    this.#consumer.resume([...this.#paused.values()]);
    log.debug("resumed {count} partitions", { count: this.#paused.size });
    this.#paused.clear();
    this.metrics.pausedPartitions.set(0);
  }

  #updateLag(tp: TopicPartition): void {
    const entry = this.#highWatermarks.get(keyOf(tp));
    const committed = this.#pipeline.tracker.committed(tp.topic, tp.partition);
    if (!entry || committed === undefined) return;
    this.metrics.consumerLag.set(
      { topic: tp.topic, partition: String(tp.partition) },
      Math.max(0, entry.high - committed),
    );
  }

  /** Commits soon: acknowledgements arriving close together share one commit. */
  #scheduleCommit(): void {
    if (this.#commitTimer !== undefined) return;
    this.#commitTimer = setTimeout(() => {
      this.#commitTimer = undefined;
      void this.#commit();
    }, 100);
  }

  #commit(): Promise<void> {
    if (this.#committing) {
      this.#commitAgain = true;
      return this.#committing;
    }
    this.#committing = (async () => {
      do {
        this.#commitAgain = false;
        const tracker = this.#pipeline.tracker;
        const commits = tracker.committable();
        if (commits.length === 0) break;
        try {
          await this.#consumer.commit(commits.map((c) => ({ ...c, offset: String(c.offset) })));
          tracker.markCommitted(commits);
          for (const c of commits) this.#updateLag(c);
        } catch (error) {
          // A rebalance or a Kafka hiccup; the next acknowledgement (or stop) commits again.
          log.warn("commit failed: {error}", { error: String(error) });
          break;
        }
      } while (this.#commitAgain);
    })().finally(() => (this.#committing = undefined));
    return this.#committing;
  }

  /** docs/health.md: unhealthy while stopping or while the engine fails bulk requests. */
  #health(): HealthReport {
    const engineProblem = this.#pipeline.problem;
    const problem = this.#stopping
      ? "stopping"
      : engineProblem
      ? `search engine failing: ${engineProblem}`
      : undefined;
    return {
      ok: problem === undefined,
      problem,
      detail: {
        engine: { kind: this.engine.kind, version: this.engine.version },
        bulks_in_flight: this.#pipeline.inFlight,
        paused_partitions: this.#paused.size,
      },
    };
  }

  async #retention(): Promise<void> {
    try {
      const deleted = await applyRetention(
        this.#engine,
        this.#config.indexPrefix,
        this.#config.retentionDays,
      );
      if (deleted.length > 0) {
        log.info("retention: deleted {count} date shards older than {days} days: {indices}", {
          count: deleted.length,
          days: this.#config.retentionDays,
          indices: deleted.join(", "),
        });
      }
    } catch (error) {
      log.warn("retention failed (will try again in an hour): {error}", { error: String(error) });
    }
  }

  #closeDeadLetters(): Promise<void> {
    this.#dlqClosing ??= this.#deadLetters.close().catch((error) => {
      log.warn("closing the dead-letter producer failed: {error}", { error: String(error) });
    });
    return this.#dlqClosing;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    log.info("stopping: finishing in-flight bulks");
    clearInterval(this.#retentionTimer);
    this.#consumer.pause(this.#consumer.assignment());
    const grace = this.#config.shutdownGraceMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      this.#pipeline.idle().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), grace))),
    ]);
    clearTimeout(timer);
    if (!finished) {
      log.warn("bulks still unfinished after {grace} ms; their records will be read again", {
        grace,
      });
      this.#abort.abort(new Error("shutdown grace period over"));
      // Dead letters still being retried are given up too (their offsets stay uncommitted).
      await this.#closeDeadLetters();
      await this.#pipeline.idle();
    }
    this.#pipeline.close();
    clearTimeout(this.#commitTimer);
    await this.#commit();
    try {
      await this.#consumer.close();
    } catch (error) {
      log.warn("leaving the consumer group failed: {error}", { error: String(error) });
    }
    await this.#closeDeadLetters();
    await this.#engine.close().catch(() => {});
    await this.#server?.close();
    const { consumed, indexed, deadLettered } = this.#pipeline.counts;
    log.info("stopped: {consumed} records read, {indexed} indexed, {deadLettered} dead-lettered", {
      consumed,
      indexed,
      deadLettered,
    });
    this.#resolveDone();
  }
}
