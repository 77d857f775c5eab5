/**
 * What one look at an open file means, decided without I/O: read what it grew by, start again at
 * byte 0 (it shrank, or its first bytes changed: copytruncate), ask the scan where it went (it
 * left its path: renamed or deleted — only a scan of the globs can tell a rename within them from
 * one out of them), let it go once it is read to its end (the scan found it outside the globs),
 * or close it while it is idle (close_inactive; its checkpoint stays and the scan reopens it when
 * it grows). The reading loop (tail_task.ts) carries the verdict out.
 * @module
 */

/** What comparing an open file with its path found (file_reader.ts `check`). */
export type PathCheck = "none" | "truncated" | "moved" | "deleted";

export interface LookInput {
  /** Size of the open file now. */
  size: number;
  /** Next byte to read. */
  offset: number;
  /** The path check, when it ran at this look (it runs about once a second). */
  check?: PathCheck;
  /** The file left its path and the scan has not yet said where it went. */
  moved: boolean;
  /** The scan did not find it under the globs: it is read to its end, then let go. */
  draining: boolean;
  /** Time since its last new byte, ms. */
  idleMs: number;
  /** A drained file is let go after this long without a new byte, ms. */
  rotateWaitMs: number;
  /** An idle file is closed after this long (undefined: never). */
  closeInactiveMs?: number;
  /** Nothing is held for it: no partial line, no open multiline event. */
  settled: boolean;
}

export type LookVerdict =
  /** Read what is new; nothing else to do. */
  | "read"
  /** Nothing new, nothing to do. */
  | "wait"
  /** Shorter than what was read, or other first bytes: new content, read again from byte 0. */
  | "restart"
  /** It left its path: ask for a scan, and keep reading it meanwhile (look again at once). */
  | "ask-scan"
  /** Read to its end and outside the globs: flush what is held and let it go. */
  | "release"
  /** Idle for close_inactive: close the handle, keep the checkpoint. */
  | "close";

/**
 * The verdict of one look.
 *
 * @example
 * ```ts
 * import { decideLook } from "./file_look.ts";
 * decideLook({ size: 100, offset: 40, moved: false, draining: false, idleMs: 0,
 *   rotateWaitMs: 2000, settled: true }); // "read"
 * ```
 */
export function decideLook(look: LookInput): LookVerdict {
  if (look.size < look.offset || look.check === "truncated") return "restart";
  // Before "read": a file that keeps growing must still be looked for when it left its path.
  if ((look.check === "moved" || look.check === "deleted") && !look.moved && !look.draining) {
    return "ask-scan";
  }
  if (look.size > look.offset) return "read";
  if (look.draining && look.idleMs >= look.rotateWaitMs) return "release";
  if (
    !look.draining && !look.moved && look.settled && look.closeInactiveMs !== undefined &&
    look.idleMs >= look.closeInactiveMs
  ) {
    return "close";
  }
  return "wait";
}
