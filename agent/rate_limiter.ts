/**
 * Token buckets on lines/s and bytes/s, with no I/O. `take` debits what was read and answers how
 * long the reader must wait before reading on; it never refuses, so a rate limit delays lines and
 * never drops them (the file is the buffer).
 * @module
 */
import type { RateLimit } from "../config_plane/types.ts";

class Bucket {
  #tokens: number;
  #at: number;
  constructor(readonly rate: number, readonly capacity: number, now: number) {
    this.#tokens = capacity;
    this.#at = now;
  }
  /** Debits `n` tokens at `now`; returns the ms until the balance is back to ≥ 0. */
  take(n: number, now: number): number {
    this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#at) * this.rate) / 1000);
    this.#at = now;
    this.#tokens -= n;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.rate;
  }
}

/**
 * A rate limit of one source: lines/s, and bytes/s when set. The bucket starts full (`burst`,
 * default one second's worth).
 *
 * @example
 * ```ts
 * import { RateLimiter } from "./rate_limiter.ts";
 * const r = new RateLimiter({ lines_per_sec: 100, burst: 10 }, 0);
 * r.take(10, 500, 0); // 0: the burst covers it
 * r.take(10, 500, 0); // 100: wait 100 ms for 10 more tokens
 * ```
 */
export class RateLimiter {
  readonly #lines: Bucket;
  readonly #bytes: Bucket | undefined;
  /** How many lines to take at once so that pacing stays smooth (≈ 1/10 s worth, ≥ 1). */
  readonly sliceLines: number;

  constructor(rate: RateLimit, now: number) {
    const lps = Math.max(rate.lines_per_sec, 0.001);
    const burst = Math.max(1, rate.burst ?? lps);
    this.#lines = new Bucket(lps, burst, now);
    if (rate.bytes_per_sec && rate.bytes_per_sec > 0) {
      // The byte bucket holds as many seconds as the line bucket does.
      this.#bytes = new Bucket(rate.bytes_per_sec, rate.bytes_per_sec * (burst / lps), now);
    }
    this.sliceLines = Math.max(1, Math.floor(Math.min(lps / 10, burst)));
  }

  /** Debits `lines` and `bytes` read at `now` (ms); returns how many ms to wait before reading on. */
  take(lines: number, bytes: number, now: number): number {
    const a = this.#lines.take(lines, now);
    const b = this.#bytes ? this.#bytes.take(bytes, now) : 0;
    return Math.ceil(Math.max(a, b));
  }
}
