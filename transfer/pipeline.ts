/**
 * The path every record takes, shared by the transfer and by replay: decode → batch (count,
 * bytes, linger) → bulk-index, with records that are not envelopes sent to the dead-letter topic,
 * and each record's offset tracked until it is done. What is committed (and whether anything is)
 * is the caller's business.
 * @module
 */
import { getLogger } from "../core/log.ts";
import type { RecordBatch } from "../kafka/consumer.ts";
import { Batcher } from "./batcher.ts";
import { BulkIndexer } from "./bulk_indexer.ts";
import type { TransferConfig } from "./config.ts";
import type { DeadLetter, DeadLetterSink } from "./dead_letter.ts";
import { decodeRecord } from "./decode.ts";
import type { BulkDoc } from "./encoder.ts";
import type { SearchEngine } from "./engine.ts";
import type { TransferMetrics } from "./metrics.ts";
import { OffsetTracker } from "./offsets.ts";
import { BULK_BACKOFF } from "./retry.ts";

const log = getLogger("transfer", "pipeline");

/** A document with the tracker its offset was registered in (a rebalance starts a new one). */
type TrackedDoc = BulkDoc & { tracker: OffsetTracker };

export interface PipelineOptions {
  config: TransferConfig;
  engine: SearchEngine;
  deadLetters: DeadLetterSink;
  metrics: TransferMetrics;
  /** Called after records became done (their offsets may now be committable). */
  onDone?(): void;
  /** Called when a bulk slot frees up. */
  onCapacity?(): void;
  /** Aborting gives up on retries (shutdown past its grace period). */
  signal?: AbortSignal;
}

/** Counts since the pipeline started. */
export interface PipelineCounts {
  consumed: number;
  indexed: number;
  deadLettered: number;
}

/** Decodes, batches and indexes records; tracks their offsets. */
export class IndexPipeline {
  readonly #options: PipelineOptions;
  readonly #batcher: Batcher<TrackedDoc>;
  readonly #indexer: BulkIndexer<TrackedDoc>;
  readonly #pendingLetters = new Set<Promise<void>>();
  #tracker = new OffsetTracker();
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly counts: PipelineCounts = { consumed: 0, indexed: 0, deadLettered: 0 };

  constructor(options: PipelineOptions) {
    this.#options = options;
    const { config } = options;
    this.#batcher = new Batcher({
      maxItems: config.bulkMaxDocs,
      maxBytes: config.bulkMaxBytes,
      lingerMs: config.bulkLingerMs,
    });
    this.#indexer = new BulkIndexer<TrackedDoc>({
      engine: options.engine,
      deadLetters: options.deadLetters,
      maxInFlight: config.maxInFlight,
      backoff: { ...BULK_BACKOFF, maxMs: config.retryMaxMs },
      metrics: options.metrics,
      signal: options.signal,
      onDone: (docs, how) => {
        if (how === "stored") this.counts.indexed += docs.length;
        else this.counts.deadLettered += docs.length;
        for (const doc of docs) doc.tracker.ack(doc.topic, doc.partition, doc.offset);
        this.#options.onDone?.();
      },
      onCapacity: () => options.onCapacity?.(),
    });
  }

  /** The offsets of the current assignment. */
  get tracker(): OffsetTracker {
    return this.#tracker;
  }

  /** True while every bulk slot is busy and a batch waits: the caller should pause reading. */
  get saturated(): boolean {
    return this.#indexer.saturated;
  }

  /** Why the engine is failing right now, if it is. */
  get problem(): string | undefined {
    return this.#indexer.problem;
  }

  get inFlight(): number {
    return this.#indexer.inFlight;
  }

  /**
   * Takes in a batch of records (all of them, or those `keep` accepts). Returns at once: the
   * records are indexed in the background.
   */
  accept(batch: RecordBatch, keep?: (offset: number) => boolean): void {
    const tracker = this.#tracker;
    const letters: DeadLetter[] = [];
    const now = Date.now();
    let accepted = 0;
    for (const record of batch.records) {
      const offset = Number(record.offset);
      if (keep && !keep(offset)) continue;
      accepted++;
      tracker.track(record.topic, record.partition, offset);
      const decoded = decodeRecord(record, {
        prefix: this.#options.config.indexPrefix,
        stream: this.#options.config.stream,
      }, this.#options.config.bulkMaxBytes);
      if ("reason" in decoded) {
        letters.push({
          cause: decoded.cause,
          reason: decoded.reason,
          topic: record.topic,
          partition: record.partition,
          offset,
          key: record.key,
          value: record.value,
        });
        continue;
      }
      const doc = decoded.doc as TrackedDoc;
      doc.tracker = tracker;
      for (const full of this.#batcher.add(doc, doc.bytes, now)) this.#indexer.enqueue(full);
    }
    this.counts.consumed += accepted;
    this.#options.metrics.recordsConsumed.inc({ topic: batch.topic }, accepted);
    if (letters.length > 0) this.#deadLetter(letters, tracker);
    this.#armLinger();
  }

  /** Sends what is batched now, full or not. */
  flush(): void {
    this.#clearTimer();
    this.#indexer.enqueue(this.#batcher.take());
  }

  /** Flushes, then resolves when every bulk request and dead letter is finished. */
  async idle(): Promise<void> {
    this.flush();
    while (
      this.#indexer.inFlight > 0 || this.#indexer.queued > 0 || this.#pendingLetters.size > 0
    ) {
      await Promise.all([this.#indexer.idle(), ...this.#pendingLetters]);
    }
  }

  /** Starts a new offset tracker (after a rebalance Kafka re-delivers from the committed offsets). */
  reset(): void {
    this.#tracker = new OffsetTracker();
  }

  /** Stops the linger timer. */
  close(): void {
    this.#clearTimer();
  }

  #deadLetter(letters: DeadLetter[], tracker: OffsetTracker): void {
    for (const letter of letters) {
      log.warn("record {topic}/{partition}@{offset} is not indexable, dead-lettered: {reason}", {
        topic: letter.topic,
        partition: letter.partition,
        offset: letter.offset,
        reason: letter.reason,
      });
    }
    // Not awaited by the partition: later records keep flowing while these are written.
    const sending = this.#options.deadLetters.send(letters).then(() => {
      for (const l of letters) this.#options.metrics.deadLettered.inc({ cause: l.cause });
      this.counts.deadLettered += letters.length;
      for (const l of letters) tracker.ack(l.topic, l.partition, l.offset);
      this.#options.onDone?.();
    }, (error) => {
      log.error("could not write {count} dead letters: {error}; their offsets stay uncommitted", {
        count: letters.length,
        error: String(error),
      });
    }).finally(() => this.#pendingLetters.delete(sending));
    this.#pendingLetters.add(sending);
  }

  #armLinger(): void {
    const dueAt = this.#batcher.dueAt;
    if (dueAt === undefined || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#batcher.due(Date.now())) this.flush();
      else this.#armLinger();
    }, Math.max(0, dueAt - Date.now()));
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
