/**
 * What a scan of a source's globs means, decided without I/O: which open files were renamed
 * (within the globs) or left them, which remembered files (checkpoints without an open handle)
 * are back or have new data, which found files are unknown and must be identified, and which
 * checkpoints can be forgotten because no file that continues them can be found any more. And,
 * once an unknown file's first bytes are read, what it is (`decideUnknown`): a copy that
 * continues a checkpoint, a copy of a file being followed, or a new file.
 *
 * The rules, whatever order a scan and a file's own look run in:
 * - A file is known by device + inode (+ its first bytes), never by its path: an open file found
 *   at another path is the same file renamed; one not found is read to its end (drained) and let
 *   go, but its checkpoint stays, so a later scan that finds it again continues it.
 * - A checkpoint is forgotten only after `FORGET_AFTER_SCANS` scans in a row, over at least
 *   `FORGET_AFTER_MS`, found no file that continues it: by inode and first bytes, or as a copy
 *   (see file_identity.ts). A directory listed while files are renamed in it can miss a file
 *   that is there all along (logrotate renames every `app.log.N` at each rotation): one scan, or
 *   a few in quick succession, are not enough to say it is gone.
 * @module
 */
import { continuesCheckpoint, type FoundEvidence, type RememberedFile } from "./file_identity.ts";

/** Scans in a row without a file that continues a checkpoint before it is forgotten. */
export const FORGET_AFTER_SCANS = 2;
/** ...and at least this long since the first of them, ms. */
export const FORGET_AFTER_MS = 30_000;

/** A regular file the scan found under the source's globs. */
export interface ScannedFile {
  path: string;
  dev: number;
  ino: number;
  size: number;
  /** Last modification, ms since the epoch. */
  mtimeMs: number;
}

/** A file the task holds open. */
export interface OpenFile {
  /** `dev:ino` of its handle. */
  key: string;
  path: string;
  /** Its checkpoint's file id; undefined while the file is empty (no identity yet). */
  fileId: string | undefined;
}

/** A checkpoint whose file is not open (closed when idle, drained, or not opened yet). */
export interface ClosedCheckpoint extends RememberedFile {
  fileId: string;
  path: string;
  /** Scans in a row that found no file continuing it. */
  unseen: number;
  /** When the first of those scans ran (ms since the epoch). */
  unseenSince?: number;
}

export type ScanAction =
  /** An open file found at another path within the globs: it was renamed; follow it there. */
  | { kind: "renamed"; key: string; path: string }
  /** An open file the scan did not find: it left the globs (renamed away or deleted). */
  | { kind: "gone"; key: string }
  /** A closed checkpoint's file, found by its inode: open it at its offset (`path` is where). */
  | { kind: "reopen"; fileId: string; file: ScannedFile }
  /** A closed checkpoint's file found by its inode, with nothing new: only its path is noted. */
  | { kind: "seen"; fileId: string; path: string }
  /** A file whose inode is unknown: its first bytes decide what it is (`decideUnknown`). */
  | { kind: "identify"; file: ScannedFile }
  /** No file continues this checkpoint any more. */
  | { kind: "forget"; fileId: string };

export interface ScanInput {
  found: readonly ScannedFile[];
  open: readonly OpenFile[];
  closed: readonly ClosedCheckpoint[];
  /**
   * `dev:ino` → size of files already looked at and left alone (binary, copies of a followed
   * file, older than ignore_older): identified again only when their size changes.
   */
  settled: ReadonlyMap<string, number>;
  /** The scan's clock (ms since the epoch). */
  now: number;
}

/**
 * The actions of one scan.
 *
 * @example
 * ```ts
 * import { planScan } from "./scan_plan.ts";
 * const found = [{ path: "/l/app.log.1", dev: 1, ino: 7, size: 90, mtimeMs: 0 }];
 * planScan({ found, open: [{ key: "1:7", path: "/l/app.log", fileId: "1-7-ab" }], closed: [],
 *   settled: new Map(), now: 0 });
 * // [{ kind: "renamed", key: "1:7", path: "/l/app.log.1" }]
 * ```
 */
export function planScan(input: ScanInput): ScanAction[] {
  const actions: ScanAction[] = [];
  const openByKey = new Map(input.open.map((f) => [f.key, f]));
  // Closed checkpoints by inode; a reused inode can carry an old checkpoint and a new file's.
  const closedByKey = new Map<string, ClosedCheckpoint[]>();
  for (const c of input.closed) {
    const key = `${c.dev}:${c.ino}`;
    closedByKey.set(key, [...(closedByKey.get(key) ?? []), c]);
  }
  const foundKeys = new Set<string>();
  const matched = new Set<string>();
  for (const file of input.found) {
    const key = `${file.dev}:${file.ino}`;
    // Two paths to one inode (hard links): the first found is followed.
    if (foundKeys.has(key)) continue;
    foundKeys.add(key);
    const open = openByKey.get(key);
    if (open) {
      if (open.path !== file.path) actions.push({ kind: "renamed", key, path: file.path });
      continue;
    }
    const candidates = closedByKey.get(key) ?? [];
    // The inode alone says little (it may have been reused); the size is a first filter and the
    // first bytes are checked when it is opened. A file shorter than its checkpoint was truncated
    // (or is another file on a reused inode): identified like an unknown one.
    const closed = candidates.find((c) => c.offset <= file.size);
    if (closed) {
      matched.add(closed.fileId);
      actions.push(
        file.size > closed.offset
          ? { kind: "reopen", fileId: closed.fileId, file }
          : { kind: "seen", fileId: closed.fileId, path: file.path },
      );
      continue;
    }
    if (input.settled.get(key) === file.size) continue;
    actions.push({ kind: "identify", file });
  }
  for (const open of input.open) {
    if (!foundKeys.has(open.key)) actions.push({ kind: "gone", key: open.key });
  }
  for (const c of input.closed) {
    if (matched.has(c.fileId)) continue;
    // An unknown file being identified may turn out to continue it: counted, not yet forgotten.
    const since = c.unseenSince ?? input.now;
    if (c.unseen + 1 >= FORGET_AFTER_SCANS && input.now - since >= FORGET_AFTER_MS) {
      actions.push({ kind: "forget", fileId: c.fileId });
    }
  }
  return actions;
}

/** A checkpoint an unknown file may continue, and whether a handle on it is open now. */
export interface KnownCheckpoint extends RememberedFile {
  fileId: string;
  /** True while an open file of the task carries this checkpoint. */
  open: boolean;
}

export type UnknownVerdict =
  /** It continues a closed checkpoint: open it at that checkpoint, under that file id. */
  | { kind: "continue"; fileId: string; how: "inode" | "copy" }
  /** A copy of a file that is open now: not read a second time (left alone until it changes). */
  | { kind: "copy-of-open"; fileId: string }
  /** A file seen for the first time: read it from `offset` (0, or its end for start_at end). */
  | { kind: "new"; offset: number }
  /** Not modified for longer than ignore_older: left alone until it changes. */
  | { kind: "too-old" };

export interface UnknownFile {
  evidence: FoundEvidence;
  mtimeMs: number;
}

export interface UnknownOptions {
  /** The source's first scan ever on this host with start_at end: new files start at their end. */
  startAtEnd: boolean;
  /** Files not modified for this long are left alone (ms; undefined: no limit). */
  ignoreOlderMs?: number;
  now: number;
}

/**
 * What an unknown file is. The checkpoints are tried closed ones first, so that a copy takes over
 * the checkpoint its original let go of (copytruncate: the original was truncated and follows
 * its new content under a new id) rather than being mistaken for a copy of something open.
 *
 * @example
 * ```ts
 * import { decideUnknown } from "./scan_plan.ts";
 * const evidence = { dev: 1, ino: 9, size: 5, head: new TextEncoder().encode("new\n") };
 * decideUnknown({ evidence, mtimeMs: 0 }, [], { startAtEnd: false, now: 0 }); // { kind: "new", offset: 0 }
 * ```
 */
export function decideUnknown(
  file: UnknownFile,
  checkpoints: readonly KnownCheckpoint[],
  options: UnknownOptions,
): UnknownVerdict {
  const ordered = [...checkpoints].sort((a, b) => Number(a.open) - Number(b.open));
  for (const checkpoint of ordered) {
    const how = continuesCheckpoint(checkpoint, file.evidence);
    if (!how) continue;
    if (checkpoint.open) {
      // The same inode as an open file is the open file itself, never an unknown one.
      if (how === "copy") return { kind: "copy-of-open", fileId: checkpoint.fileId };
      continue;
    }
    return { kind: "continue", fileId: checkpoint.fileId, how };
  }
  if (options.ignoreOlderMs !== undefined && options.now - file.mtimeMs > options.ignoreOlderMs) {
    return { kind: "too-old" };
  }
  return { kind: "new", offset: options.startAtEnd ? file.evidence.size : 0 };
}
