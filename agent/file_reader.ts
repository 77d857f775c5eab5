/**
 * Reading one file from an offset through an open handle, and noticing what happened to it: the
 * handle keeps a renamed or deleted file readable to its end; `check` tells truncation
 * (copytruncate), a rename away and a deletion apart by comparing the handle with the path.
 *
 * Everything after `open` is synchronous. A tailed file is local and what is read was just
 * written, so it comes from the page cache: a seek or a small read costs a few microseconds, and
 * an async call (a hop to the runtime's thread pool and back, ~25–60 µs, plus a promise) would
 * cost ten times that for every file at every poll. The size comes from a seek to the end, not
 * from `stat`, which builds a ~1 KiB `Deno.FileInfo` (four `Date`s) each time: at 1,000 files
 * polled every 50 ms that garbage alone was ~20 MiB/s.
 * @module
 */
import {
  type FileIdentity,
  FINGERPRINT_BYTES,
  identify,
  isSameFile,
  OFFSET_PRINT_BYTES,
  offsetPrint,
  readBefore,
  readHead,
} from "./file_identity.ts";
import { looksBinary } from "./line_splitter.ts";

/** What `check` found. */
export type FileChange =
  /** Still the same file at the same path. */
  | "none"
  /** Shorter than what was read, or its first bytes changed: start again at 0. */
  | "truncated"
  /** Another file (or none) is at the path: this one was renamed away or replaced. */
  | "moved"
  | "deleted";

/**
 * One open file.
 *
 * @example
 * ```ts
 * import { FileReader } from "./file_reader.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello\n");
 * const reader = await FileReader.open(path, 0);
 * reader.read(1024); // Uint8Array of "hello\n"
 * reader.close();
 * ```
 */
export class FileReader {
  /** Where the file was last seen (updated when discovery finds it renamed). */
  path: string;
  /** Next byte to read. */
  offset: number;
  /** Undefined until the file has content. */
  identity: FileIdentity | undefined;
  /** Set when the first bytes contain NUL (see looksBinary). */
  binary = false;
  readonly #file: Deno.FsFile;
  /** Device and inode of the open file: a handle's never change. */
  readonly #id: { dev: number; ino: number };
  #size: number;
  /**
   * The last bytes read (at most OFFSET_PRINT_BYTES): the file still holds them just before
   * `offset` unless it was truncated and written again since (`continuous`).
   */
  #last: Uint8Array = new Uint8Array(0);

  private constructor(path: string, file: Deno.FsFile, info: Deno.FileInfo, offset: number) {
    this.path = path;
    this.#file = file;
    this.#id = { dev: info.dev ?? 0, ino: info.ino ?? 0 };
    this.#size = info.size;
    this.offset = offset;
  }

  /** Opens `path` positioned at `offset` and takes its identity when it has content. */
  static async open(path: string, offset: number): Promise<FileReader> {
    const file = await Deno.open(path, { read: true });
    try {
      const info = file.statSync();
      const reader = new FileReader(path, file, info, offset);
      file.seekSync(offset, Deno.SeekMode.Start);
      reader.establishIdentity();
      return reader;
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** Device of the open file. */
  get dev(): number {
    return this.#id.dev;
  }

  /** Inode of the open file. */
  get ino(): number {
    return this.#id.ino;
  }

  /** Device and inode of the open file. */
  get devIno(): string {
    return `${this.#id.dev}:${this.#id.ino}`;
  }

  /** Size at the last `refreshSize` (or `check`). */
  get size(): number {
    return this.#size;
  }

  /** The size of the open file now (a seek to its end and back to `offset`). */
  refreshSize(): number {
    this.#size = this.#file.seekSync(0, Deno.SeekMode.End);
    this.#file.seekSync(this.offset, Deno.SeekMode.Start);
    return this.#size;
  }

  /** Takes the identity (and the binary verdict) once the file has bytes; no-op after that. */
  establishIdentity(): FileIdentity | undefined {
    if (this.identity) return this.identity;
    if (this.#size === 0) return undefined;
    const head = readHead(this.#file, FINGERPRINT_BYTES);
    this.identity = identify(this.#id, head);
    this.binary = looksBinary(head);
    return this.identity;
  }

  /** The bytes just before `offset` (file_identity.ts `readBefore`), for an offset's print. */
  bytesBefore(offset: number): Uint8Array {
    return readBefore(this.#file, offset);
  }

  /** The first bytes, to compare with a checkpointed identity. */
  head(n = FINGERPRINT_BYTES): Uint8Array {
    return readHead(this.#file, n);
  }

  /** Reads up to `max` bytes at `offset`; an empty array at the end of the file. */
  /**
   * Reads up to `max` bytes at `offset`, or undefined (having read nothing) when the file turned
   * out to have been truncated and written again past `offset` while it was read: the bytes just
   * before `offset` are compared before and after the read, so a copytruncate that lands between
   * a look and its read is never read as the old content's continuation.
   */
  readContinuous(max: number, into?: Uint8Array): Uint8Array | undefined {
    if (!this.continuous()) return undefined;
    const start = this.offset;
    const before = this.#last;
    const chunk = this.read(max, into);
    if (before.length === 0) return chunk;
    const now = readBefore(this.#file, start);
    const tail = now.subarray(now.length - before.length);
    if (tail.length === before.length && tail.every((b, i) => b === before[i])) return chunk;
    this.seekTo(start);
    return undefined;
  }

  /**
   * Reads up to `max` bytes from the offset on. `into` (at least `max` bytes): read into it, and
   * return a view of it, valid until the caller reads into it again (no array per read).
   */
  read(max: number, into?: Uint8Array): Uint8Array {
    const buf = into && into.length >= max ? into.subarray(0, max) : new Uint8Array(max);
    let got = 0;
    while (got < max) {
      const n = this.#file.readSync(buf.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    this.offset += got;
    if (got >= OFFSET_PRINT_BYTES) {
      this.#last = buf.slice(got - OFFSET_PRINT_BYTES, got);
    } else if (got > 0) {
      const joined = new Uint8Array(this.#last.length + got);
      joined.set(this.#last);
      joined.set(buf.subarray(0, got), this.#last.length);
      this.#last = joined.slice(Math.max(0, joined.length - OFFSET_PRINT_BYTES));
    }
    return got === max ? buf : buf.subarray(0, got);
  }

  /**
   * The print (file_identity.ts `offsetPrint`) of the last bytes read, which end at `offset`:
   * taken from the bytes as they were read, so a truncation since cannot change it.
   */
  lastPrint(): string {
    return offsetPrint(this.#last);
  }

  /**
   * False when the bytes just before `offset` are not the ones read there (before anything was
   * read: when its first bytes are not those of its identity): the file was truncated and
   * written again past `offset` between two looks (its size alone cannot show it). One small
   * read, cheap enough to make before every read of new bytes.
   */
  continuous(): boolean {
    const last = this.#last;
    if (last.length === 0) {
      // Nothing read yet: the file must still start with the bytes its identity was taken of
      // (it may have been truncated and written again while its first read was held).
      if (!this.identity) return true;
      const head = readHead(this.#file, this.identity.fpLen);
      return isSameFile(this.identity, this.#id, head);
    }
    const now = readBefore(this.#file, this.offset);
    if (now.length < last.length) return false;
    const start = now.length - last.length;
    for (let i = 0; i < last.length; i++) if (now[start + i] !== last[i]) return false;
    return true;
  }

  /**
   * What happened to the file since the last look. `verifyFingerprint` also re-reads the first
   * bytes, which catches a truncation that was refilled past our offset before we looked.
   */
  check(verifyFingerprint: boolean): FileChange {
    if (this.refreshSize() < this.offset || !this.continuous()) return "truncated";
    if (verifyFingerprint && this.identity) {
      const head = readHead(this.#file, this.identity.fpLen);
      if (!isSameFile(this.identity, this.#id, head)) return "truncated";
    }
    let atPath: Deno.FileInfo;
    try {
      atPath = Deno.statSync(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return "deleted";
      throw error;
    }
    const { dev, ino } = this.#id;
    return (atPath.dev ?? 0) === dev && (atPath.ino ?? 0) === ino ? "none" : "moved";
  }

  /** Continues reading at `offset`. */
  seekTo(offset: number): void {
    // What is before the offset now is what the checkpoint vouched for (its print matched).
    this.#last = readBefore(this.#file, offset).slice();
    this.#file.seekSync(offset, Deno.SeekMode.Start);
    this.offset = offset;
  }

  /** Starts over at byte 0 with a new identity (after a truncation). */
  restartAtZero(): void {
    this.#file.seekSync(0, Deno.SeekMode.Start);
    this.offset = 0;
    this.#last = new Uint8Array(0);
    this.identity = undefined;
    this.refreshSize();
    this.establishIdentity();
  }

  /** Releases the handle (a deleted file's space is freed now). */
  close(): void {
    try {
      this.#file.close();
    } catch {
      // already closed
    }
  }
}
