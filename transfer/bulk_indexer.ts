/**
 * Sends batches of documents to the engine, several bulk requests at once, and carries out the
 * retry decision of retry.ts: whole-request retries with backoff, halving of a refused body,
 * item retries, and dead letters for documents rejected for their content. It reports each
 * document once it is done (stored or dead-lettered): only those may have their offsets committed.
 * @module
 */
import { type BackoffOptions, sleep } from "../core/backoff.ts";
import { getLogger } from "../core/log.ts";
import type { DeadLetterSink } from "./dead_letter.ts";
import { type BulkDoc, encodeBulk } from "./encoder.ts";
import type { SearchEngine } from "./engine.ts";
import type { TransferMetrics } from "./metrics.ts";
import { BULK_BACKOFF, decideBulk } from "./retry.ts";

const log = getLogger("transfer", "bulk");

export interface BulkIndexerOptions<D extends BulkDoc> {
  engine: SearchEngine;
  deadLetters: DeadLetterSink;
  /** Bulk requests sent at once. */
  maxInFlight: number;
  backoff?: BackoffOptions;
  metrics?: TransferMetrics;
  /** Documents that are done: stored by the engine, or stored in the dead-letter topic. */
  onDone(docs: readonly D[], how: "stored" | "dead_lettered"): void;
  /** Called whenever a request slot frees up (to resume paused partitions). */
  onCapacity?(): void;
  /** Aborting stops waiting between retries; unfinished documents are then never reported done. */
  signal?: AbortSignal;
}

/**
 * A queue of batches with at most `maxInFlight` bulk requests in progress.
 *
 * @example
 * ```ts ignore
 * import { BulkIndexer } from "./bulk_indexer.ts";
 * const indexer = new BulkIndexer({ engine, deadLetters, maxInFlight: 4, onDone: (docs) => ack(docs) });
 * indexer.enqueue(batch);
 * await indexer.idle();
 * ```
 */
export class BulkIndexer<D extends BulkDoc = BulkDoc> {
  readonly #options: BulkIndexerOptions<D>;
  readonly #backoff: BackoffOptions;
  readonly #queue: D[][] = [];
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  #problem: string | undefined;

  constructor(options: BulkIndexerOptions<D>) {
    this.#options = options;
    this.#backoff = options.backoff ?? BULK_BACKOFF;
  }

  /** Requests in progress (including those waiting to be retried). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Batches waiting for a free request slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** True when every slot is busy and a batch is already waiting: time to stop reading. */
  get saturated(): boolean {
    return this.#inFlight >= this.#options.maxInFlight && this.#queue.length > 0;
  }

  /** Why the engine is failing right now (undefined while requests succeed). */
  get problem(): string | undefined {
    return this.#problem;
  }

  /** Queues a batch; it is sent as soon as a slot is free. */
  enqueue(docs: D[]): void {
    if (docs.length === 0) return;
    this.#queue.push(docs);
    this.#pump();
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#inFlight < this.#options.maxInFlight && this.#queue.length > 0) {
      const docs = this.#queue.shift()!;
      this.#inFlight++;
      this.#options.metrics?.bulksInFlight.set(this.#inFlight);
      this.#send(docs, 0)
        .catch((error) => {
          // Only an abort gets here (shutdown past its grace period): the documents are not
          // reported done, so their offsets stay uncommitted and they are read again later.
          log.warn("abandoned a bulk of {count} documents: {error}", {
            count: docs.length,
            error: String(error),
          });
        })
        .finally(() => {
          this.#inFlight--;
          this.#options.metrics?.bulksInFlight.set(this.#inFlight);
          this.#pump();
          this.#options.onCapacity?.();
          if (this.#inFlight === 0 && this.#queue.length === 0) {
            for (const resolve of this.#idleWaiters.splice(0)) resolve();
          }
        });
    }
  }

  async #send(first: D[], firstAttempt: number): Promise<void> {
    const { engine, metrics, signal } = this.#options;
    let docs = first;
    for (let attempt = firstAttempt;; attempt++) {
      signal?.throwIfAborted();
      const started = performance.now();
      const outcome = await engine.bulk(encodeBulk(docs));
      metrics?.bulkSeconds.observe((performance.now() - started) / 1000);
      const decision = decideBulk(outcome, docs.length, attempt, this.#backoff);
      switch (decision.action) {
        case "success":
          this.#recovered();
          this.#stored(docs);
          return;
        case "retry":
          if (this.#problem === undefined || attempt % 10 === 0) {
            log.warn("bulk of {count} documents failed ({reason}); retry {attempt} in {delay} ms", {
              count: docs.length,
              reason: decision.reason,
              attempt: attempt + 1,
              delay: decision.delayMs,
            });
          }
          this.#problem = decision.reason;
          metrics?.retries.inc({ kind: "request" });
          await sleep(decision.delayMs, signal);
          continue;
        case "split": {
          this.#recovered();
          log.warn("engine refused a bulk of {count} documents as a whole ({reason}); splitting", {
            count: docs.length,
            reason: decision.reason,
          });
          const half = Math.ceil(docs.length / 2);
          await Promise.all([this.#send(docs.slice(0, half), 0), this.#send(docs.slice(half), 0)]);
          return;
        }
        case "items": {
          this.#recovered();
          const rejected = new Set(decision.deadLetter.map((r) => r.item));
          const retry = new Set(decision.retry);
          this.#stored(docs.filter((_, i) => !rejected.has(i) && !retry.has(i)));
          if (decision.deadLetter.length > 0) {
            const letters = decision.deadLetter.map((r) => ({ rejection: r, doc: docs[r.item] }));
            for (const { rejection, doc } of letters) {
              log.warn("document {id} for {index} rejected, dead-lettered: {reason}", {
                id: doc.id,
                index: doc.index,
                reason: rejection.reason,
              });
            }
            // Awaited here so the request slot (and with it the partition) is only freed once
            // the rejects are safe in Kafka; other slots keep indexing meanwhile.
            await this.#options.deadLetters.send(letters.map(({ rejection, doc }) => ({
              cause: "rejected" as const,
              reason: rejection.reason,
              status: rejection.status,
              errorType: rejection.type,
              topic: doc.topic,
              partition: doc.partition,
              offset: doc.offset,
              key: doc.key,
              value: doc.source,
              index: doc.index,
              id: doc.id,
            })));
            metrics?.deadLettered.inc({ cause: "rejected" }, letters.length);
            this.#options.onDone(letters.map(({ doc }) => doc), "dead_lettered");
          }
          if (retry.size === 0) return;
          docs = decision.retry.map((i) => docs[i]);
          metrics?.retries.inc({ kind: "item" }, docs.length);
          await sleep(decision.delayMs, signal);
          continue;
        }
      }
    }
  }

  #stored(docs: D[]): void {
    if (docs.length === 0) return;
    this.#options.metrics?.docsIndexed.inc(docs.length);
    this.#options.onDone(docs, "stored");
  }

  #recovered(): void {
    if (this.#problem !== undefined) {
      log.info("search engine answers again (after: {problem})", { problem: this.#problem });
      this.#problem = undefined;
    }
  }
}
