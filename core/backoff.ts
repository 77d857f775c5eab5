/**
 * The one retry/backoff helper of sluice: exponential backoff with full jitter. The delay is a
 * pure function so callers (Kafka output, bulk indexer, etcd watcher) and tests share it.
 * @module
 */

export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  initialMs: number;
  /** Upper bound of any delay, in ms. */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** 0 = no jitter, 1 = full jitter (default 1): the delay is drawn from [(1-jitter)·d, d]. */
  jitter?: number;
}

/**
 * Delay before retry number `attempt` (0-based).
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * backoffDelay(3, { initialMs: 100, maxMs: 5_000, jitter: 0 }); // 800
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 1;
  const ceiling = Math.min(
    options.maxMs,
    options.initialMs * Math.pow(factor, Math.max(0, attempt)),
  );
  return Math.round(ceiling * (1 - jitter * random()));
}

/** Resolves after `ms`, or rejects with the signal's reason when it is aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RetryOptions extends BackoffOptions {
  /** Give up after this many attempts in all (default: never). */
  maxAttempts?: number;
  /** Return false to stop retrying and rethrow (default: retry everything). */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to log the failure. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

/**
 * Runs `fn` until it resolves, waiting `backoffDelay` between failures.
 *
 * @example
 * ```ts
 * import { retry } from "./backoff.ts";
 * let calls = 0;
 * const value = await retry(() => ++calls < 3 ? Promise.reject(new Error("flaky")) : Promise.resolve(calls), {
 *   initialMs: 1,
 *   maxMs: 10,
 * });
 * // value === 3
 * ```
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const last = options.maxAttempts !== undefined && attempt + 1 >= options.maxAttempts;
      if (last || options.signal?.aborted || options.shouldRetry?.(error, attempt) === false) {
        throw error;
      }
      const delay = backoffDelay(attempt, options);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}
