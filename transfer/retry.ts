/**
 * The one retry decision of the transfer, pure (as in Vector's `retry.rs`): given what a bulk
 * request returned, either everything succeeded, the whole request is retried later (429, 5xx,
 * no connection), it is split (the body itself was refused), or item by item some documents
 * are retried and those the engine rejected for their content go to the dead-letter topic with
 * the engine's reason. Tested with response bodies captured from a real OpenSearch
 * (`transfer/testdata/`).
 * @module
 */
import { backoffDelay, type BackoffOptions } from "../core/backoff.ts";

/** What sending a bulk body produced: an HTTP response, or no response at all. */
export type BulkOutcome =
  | { kind: "response"; status: number; body: unknown }
  | { kind: "error"; name: string; message: string };

/** A document the engine refused for its content. */
export interface ItemRejection {
  /** Position of the document in the request. */
  item: number;
  /** Its HTTP status, e.g. 400. */
  status: number;
  /** The engine's error type, e.g. "mapper_parsing_exception". */
  type: string;
  /** The engine's reason, with the reason of its cause when there is one. */
  reason: string;
}

export type BulkDecision =
  /** Every document is stored. */
  | { action: "success" }
  /** Nothing is known to be stored: send the same request again after `delayMs`. */
  | { action: "retry"; delayMs: number; reason: string }
  /** The request as a whole was refused (too large, malformed): send each half on its own. */
  | { action: "split"; reason: string }
  /**
   * Per document: `deadLetter` were rejected for their content, `retry` (positions) must be sent
   * again after `delayMs`; all others are stored.
   */
  | { action: "items"; deadLetter: ItemRejection[]; retry: number[]; delayMs: number };

/** Default backoff of bulk retries: quick at first, at most 10 s apart while the engine is down. */
export const BULK_BACKOFF: BackoffOptions = {
  initialMs: 200,
  maxMs: 10_000,
  factor: 2,
  jitter: 0.5,
};

/** Statuses worth sending again unchanged: the engine is busy, unwell or not reachable. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

interface EngineError {
  type?: string;
  reason?: string;
  caused_by?: EngineError;
}

/** "type: reason (caused by: type: reason)" from an engine error object. */
export function describeEngineError(error: unknown): { type: string; reason: string } {
  if (typeof error === "string") return { type: "error", reason: error };
  if (typeof error !== "object" || error === null) {
    return { type: "unknown", reason: "no reason given" };
  }
  const e = error as EngineError;
  const type = e.type ?? "unknown";
  let reason = `${type}: ${e.reason ?? "no reason given"}`;
  const cause = e.caused_by;
  if (cause && (cause.type || cause.reason)) {
    reason += ` (caused by ${cause.type ?? "unknown"}: ${cause.reason ?? "no reason given"})`;
  }
  return { type, reason };
}

function topError(body: unknown, status: number): string {
  if (typeof body === "object" && body !== null && "error" in body) {
    return `HTTP ${status} ${describeEngineError((body as { error: unknown }).error).reason}`;
  }
  if (typeof body === "string" && body.length > 0) return `HTTP ${status} ${body.slice(0, 300)}`;
  return `HTTP ${status}`;
}

/**
 * Decides what to do after bulk attempt number `attempt` (0-based) of a request holding
 * `docCount` documents. `random` feeds the backoff jitter.
 *
 * @example
 * ```ts
 * import { decideBulk } from "./retry.ts";
 * decideBulk({ kind: "response", status: 200, body: { errors: false, items: [{ index: { status: 201 } }] } }, 1, 0);
 * // { action: "success" }
 * decideBulk({ kind: "error", name: "ConnectionError", message: "connect ECONNREFUSED" }, 1, 0).action;
 * // "retry"
 * ```
 */
export function decideBulk(
  outcome: BulkOutcome,
  docCount: number,
  attempt: number,
  backoff: BackoffOptions = BULK_BACKOFF,
  random: () => number = Math.random,
): BulkDecision {
  const delayMs = backoffDelay(attempt, backoff, random);
  if (outcome.kind === "error") {
    return { action: "retry", delayMs, reason: `${outcome.name}: ${outcome.message}` };
  }
  const { status, body } = outcome;
  if (status === 413 || status === 400) {
    // The body as a whole was refused (over http.max_content_length, or a line the engine could
    // not parse). Halving isolates the document at fault; a single one is dead-lettered.
    const reason = topError(body, status);
    if (docCount > 1) return { action: "split", reason };
    return {
      action: "items",
      deadLetter: [{
        item: 0,
        status,
        type: status === 413 ? "request_too_large" : "bad_request",
        reason,
      }],
      retry: [],
      delayMs,
    };
  }
  if (status < 200 || status >= 300) {
    // 429 and 5xx are the engine asking us to wait. Other codes (401, 403, 404) are settings an
    // operator must fix; dropping the documents would lose them, so they are retried too, and
    // the partition stays paused meanwhile.
    return { action: "retry", delayMs, reason: topError(body, status) };
  }
  if (typeof body !== "object" || body === null) {
    return { action: "retry", delayMs, reason: `HTTP ${status} with an unreadable body` };
  }
  const { errors, items } = body as { errors?: boolean; items?: unknown[] };
  if (errors === false) return { action: "success" };
  if (!Array.isArray(items) || items.length !== docCount) {
    return {
      action: "retry",
      delayMs,
      reason: `HTTP ${status}: expected ${docCount} items in the bulk response, got ${
        Array.isArray(items) ? items.length : "none"
      }`,
    };
  }
  const deadLetter: ItemRejection[] = [];
  const retry: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const result = itemResult(items[i]);
    if (result.status >= 200 && result.status < 300) continue;
    // 409: a document with this _id is already there; ids derive from the line, so it is ours.
    if (result.status === 409) continue;
    if (isRetryableStatus(result.status) || result.status === 0) {
      retry.push(i);
    } else {
      const { type, reason } = describeEngineError(result.error);
      deadLetter.push({ item: i, status: result.status, type, reason });
    }
  }
  if (deadLetter.length === 0 && retry.length === 0) return { action: "success" };
  return { action: "items", deadLetter, retry, delayMs };
}

function itemResult(item: unknown): { status: number; error?: unknown } {
  if (typeof item !== "object" || item === null) return { status: 0 };
  // Each item is keyed by its operation: { "index": { status, error? } }.
  const op = Object.values(item as Record<string, unknown>)[0];
  if (typeof op !== "object" || op === null) return { status: 0 };
  const { status, error } = op as { status?: unknown; error?: unknown };
  return { status: typeof status === "number" ? status : 0, error };
}
