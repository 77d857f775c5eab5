/**
 * Batching of documents into bulk requests, bounded by count, bytes and time (linger). Pure:
 * the caller passes the clock in, so the bounds are tested without timers.
 * @module
 */

export interface BatchLimits {
  /** A batch is full at this many items. */
  maxItems: number;
  /** A batch is full at this many bytes; an item that would overflow starts the next batch. */
  maxBytes: number;
  /** A non-empty batch is due this many ms after its first item arrived. */
  lingerMs: number;
}

/**
 * Collects items into batches. `add` hands back the batches it completed; `due`/`take` flush a
 * partly filled batch once it has waited `lingerMs`.
 *
 * @example
 * ```ts
 * import { Batcher } from "./batcher.ts";
 * const batcher = new Batcher<string>({ maxItems: 2, maxBytes: 1_000, lingerMs: 100 });
 * batcher.add("a", 1, 0); // []
 * batcher.add("b", 1, 5); // [["a", "b"]]
 * batcher.add("c", 1, 10);
 * batcher.due(109); // false
 * batcher.due(110); // true
 * batcher.take(); // ["c"]
 * ```
 */
export class Batcher<T> {
  #items: T[] = [];
  #bytes = 0;
  #firstAt = 0;
  readonly limits: BatchLimits;

  constructor(limits: BatchLimits) {
    if (limits.maxItems < 1 || limits.maxBytes < 1 || limits.lingerMs < 0) {
      throw new RangeError(`invalid batch limits ${JSON.stringify(limits)}`);
    }
    this.limits = limits;
  }

  /** Items waiting in the current batch. */
  get size(): number {
    return this.#items.length;
  }

  /** Bytes of the current batch. */
  get bytes(): number {
    return this.#bytes;
  }

  /** When the current batch is due (ms, same clock as `now`), or undefined when it is empty. */
  get dueAt(): number | undefined {
    return this.#items.length > 0 ? this.#firstAt + this.limits.lingerMs : undefined;
  }

  /** Adds one item of `bytes` size at time `now`; returns the batches this completed (0–2). */
  add(item: T, bytes: number, now: number): T[][] {
    const completed: T[][] = [];
    if (this.#items.length > 0 && this.#bytes + bytes > this.limits.maxBytes) {
      completed.push(this.take());
    }
    if (this.#items.length === 0) this.#firstAt = now;
    this.#items.push(item);
    this.#bytes += bytes;
    if (this.#items.length >= this.limits.maxItems || this.#bytes >= this.limits.maxBytes) {
      completed.push(this.take());
    }
    return completed;
  }

  /** True when a non-empty batch has waited `lingerMs` or longer at time `now`. */
  due(now: number): boolean {
    const dueAt = this.dueAt;
    return dueAt !== undefined && now >= dueAt;
  }

  /** Removes and returns the current batch (possibly empty). */
  take(): T[] {
    const items = this.#items;
    this.#items = [];
    this.#bytes = 0;
    return items;
  }
}
