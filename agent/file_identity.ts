/**
 * Who a file is, independent of its path: device + inode, checked against a fingerprint (hash) of
 * its first bytes. The inode alone is not enough (a deleted file's inode is reused by the next
 * file created), and the path is not enough (rotation renames).
 * @module
 */
import { createHash } from "node:crypto";

/** How many leading bytes the fingerprint covers (fewer while the file is shorter). */
export const FINGERPRINT_BYTES = 256;

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
