/**
 * Who a file is, independent of its path: device + inode, checked against a fingerprint (hash) of
 * its first bytes. The inode alone is not enough (a deleted file's inode is reused by the next
 * file created), and the path is not enough (rotation renames). A copy of a file (copytruncate's
 * `app.log.1`, a file moved across devices) has another inode but the same bytes: it continues
 * the file's checkpoint when its first bytes AND the bytes just before the checkpointed offset
 * are the same, and it is at least that long (`continuesCheckpoint`), so two files that merely
 * start with the same header are not taken for one another.
 * @module
 */
import { createHash } from "node:crypto";

/** How many leading bytes the fingerprint covers (fewer while the file is shorter). */
export const FINGERPRINT_BYTES = 256;

/** How many bytes before a checkpointed offset its print covers (fewer near the start). */
export const OFFSET_PRINT_BYTES = 64;

export interface FileIdentity {
  dev: number;
  ino: number;
  /** How many leading bytes were hashed; fixed for the file's life once set. */
  fpLen: number;
  /** Hex hash of the first `fpLen` bytes. */
  fp: string;
  /** `dev-ino-fp`: the file id in checkpoints, record keys and event ids. */
  id: string;
}

/**
 * Hash of a file's first bytes.
 *
 * @example
 * ```ts
 * import { fingerprint } from "./file_identity.ts";
 * fingerprint(new TextEncoder().encode("2024-01-01 first line\n")).length; // 16
 * ```
 */
export function fingerprint(head: Uint8Array): string {
  return createHash("sha256").update(head).digest("hex").slice(0, 16);
}

/**
 * The identity of a file from its stat and its first bytes (`head`, at most FINGERPRINT_BYTES are
 * used). Undefined for an empty file: an identity is only fixed once there is content to hash,
 * so a new file reusing an inode gets a different id.
 *
 * @example
 * ```ts
 * import { identify } from "./file_identity.ts";
 * identify({ dev: 2049, ino: 77 }, new TextEncoder().encode("hello\n"))?.id; // "2049-77-…"
 * ```
 */
export function identify(
  stat: { dev: number | null; ino: number | null },
  head: Uint8Array,
): FileIdentity | undefined {
  if (head.length === 0) return undefined;
  const bytes = head.subarray(0, FINGERPRINT_BYTES);
  const dev = stat.dev ?? 0;
  const ino = stat.ino ?? 0;
  const fp = fingerprint(bytes);
  return { dev, ino, fpLen: bytes.length, fp, id: `${dev}-${ino}-${fp}` };
}

/**
 * True when a file with this stat and these first bytes is the file `identity` was taken of: same
 * device and inode, and the same bytes where the fingerprint was taken. `head` must hold at least
 * `identity.fpLen` bytes, else the file was truncated and is not the same content any more.
 */
export function isSameFile(
  identity: Pick<FileIdentity, "dev" | "ino" | "fpLen" | "fp">,
  stat: { dev: number | null; ino: number | null },
  head: Uint8Array,
): boolean {
  if ((stat.dev ?? 0) !== identity.dev || (stat.ino ?? 0) !== identity.ino) return false;
  if (head.length < identity.fpLen) return false;
  return fingerprint(head.subarray(0, identity.fpLen)) === identity.fp;
}

/**
 * Reads up to `n` bytes from the start of an open file and puts its position back. Synchronous:
 * the head of a local file is in the page cache, and an async call would cost more than the read.
 */
export function readHead(file: Deno.FsFile, n = FINGERPRINT_BYTES): Uint8Array {
  const position = file.seekSync(0, Deno.SeekMode.Current);
  file.seekSync(0, Deno.SeekMode.Start);
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = file.readSync(buf.subarray(got));
    if (r === null || r === 0) break;
    got += r;
  }
  file.seekSync(position, Deno.SeekMode.Start);
  return buf.subarray(0, got);
}

/**
 * The print of a checkpointed offset: a fingerprint of the bytes just before it
 * (`OFFSET_PRINT_BYTES`, fewer near the start of the file).
 *
 * @example
 * ```ts
 * import { offsetPrint } from "./file_identity.ts";
 * offsetPrint(new TextEncoder().encode("line one\n")).length; // 16
 * ```
 */
export function offsetPrint(before: Uint8Array): string {
  return fingerprint(before.subarray(Math.max(0, before.length - OFFSET_PRINT_BYTES)));
}

/** Reads the bytes of `[offset - OFFSET_PRINT_BYTES, offset)` and puts the position back. */
export function readBefore(file: Deno.FsFile, offset: number): Uint8Array {
  const start = Math.max(0, offset - OFFSET_PRINT_BYTES);
  const position = file.seekSync(0, Deno.SeekMode.Current);
  file.seekSync(start, Deno.SeekMode.Start);
  const buf = new Uint8Array(offset - start);
  let got = 0;
  while (got < buf.length) {
    const r = file.readSync(buf.subarray(got));
    if (r === null || r === 0) break;
    got += r;
  }
  file.seekSync(position, Deno.SeekMode.Start);
  return buf.subarray(0, got);
}

/** What a checkpoint remembers of a file, to know it again. */
export interface RememberedFile {
  dev: number;
  ino: number;
  fpLen: number;
  fp: string;
  /** Next byte to read. */
  offset: number;
  /**
   * `offsetPrint` of the bytes before `printEnd` (default `offset`): the last bytes read of the
   * file, which may lie past the acknowledged offset. Absent in checkpoints of older agents.
   */
  offsetFp?: string;
  /** Where the bytes of `offsetFp` end (default `offset`). */
  printEnd?: number;
}

/** What is known of a file found on disk. */
export interface FoundEvidence {
  dev: number;
  ino: number;
  size: number;
  /** Its first bytes (at least the remembered `fpLen` of them when it is that long). */
  head: Uint8Array;
  /** Its bytes before the remembered `printEnd` (or offset; `readBefore`), when it is that long. */
  before?: Uint8Array;
}

/**
 * Whether a file found on disk continues a remembered one, and how:
 * - `inode`: the same device and inode with the same first bytes, at least as long as the
 *   checkpointed offset (a rename, or the file itself);
 * - `copy`: another inode, but at least as long as what was read, with the same first bytes and
 *   the same bytes just before where the print of the last bytes read ends (copytruncate's copy,
 *   a move across devices);
 * - undefined: another file (a reused inode with other content, or a file that only starts alike).
 *
 * @example
 * ```ts
 * import { continuesCheckpoint, fingerprint, offsetPrint } from "./file_identity.ts";
 * const bytes = new TextEncoder().encode("2024-05-01 header\nline 1\nline 2\n");
 * const remembered = { dev: 1, ino: 7, fpLen: 16, fp: fingerprint(bytes.subarray(0, 16)),
 *   offset: 25, offsetFp: offsetPrint(bytes.subarray(0, 25)) };
 * continuesCheckpoint(remembered, { dev: 1, ino: 9, size: bytes.length, head: bytes,
 *   before: bytes.subarray(0, 25) }); // "copy"
 * ```
 */
export function continuesCheckpoint(
  remembered: RememberedFile,
  found: FoundEvidence,
): "inode" | "copy" | undefined {
  // Shorter than what was read of it: truncated, or another file; either way new content.
  const printEnd = remembered.printEnd ?? remembered.offset;
  if (found.size < Math.max(remembered.offset, printEnd)) return undefined;
  if (found.head.length < remembered.fpLen) return undefined;
  if (fingerprint(found.head.subarray(0, remembered.fpLen)) !== remembered.fp) return undefined;
  if (found.dev === remembered.dev && found.ino === remembered.ino) return "inode";
  // An older checkpoint has no offset print: only its first bytes can be compared.
  if (remembered.offsetFp === undefined) return "copy";
  if (!found.before || offsetPrint(found.before) !== remembered.offsetFp) return undefined;
  return "copy";
}
