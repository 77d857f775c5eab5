/**
 * Recognizing etcd compaction. The etcd3 client turns "your revision was compacted" into a
 * generic error: a range at an old revision fails with "required revision has been compacted",
 * and a watch at one is cancelled with an empty reason ("Watcher canceled: "). Pure.
 * @module
 */

/**
 * True when an error from the etcd3 client means the revision asked for was compacted away. A
 * watch cancelled without a reason counts: etcd 3.4 cancels a compacted watch that way, and the
 * other cancel reasons (permissions, bad ranges) always carry a text.
 *
 * @example
 * ```ts
 * import { isCompactionError } from "./compaction.ts";
 * isCompactionError(new Error("11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted")); // true
 * isCompactionError(new Error("Watcher canceled: ")); // true
 * isCompactionError(new Error("14 UNAVAILABLE: No connection established")); // false
 * ```
 */
export function isCompactionError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error ?? "");
  if (/required revision has been compacted|mvcc: .*compacted/i.test(message)) return true;
  return /^Watcher canceled:\s*$/.test(message);
}
