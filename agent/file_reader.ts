/**
 * Reading one file from an offset through an open handle, and noticing what happened to it: the
 * handle keeps a renamed or deleted file readable to its end; `check` tells truncation
 * (copytruncate), a rename away and a deletion apart by comparing the handle with the path.
 * @module
 */
import {
  type FileIdentity,
  FINGERPRINT_BYTES,
  identify,
  isSameFile,
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
 * await reader.read(1024); // Uint8Array of "hello\n"
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
  #info: Deno.FileInfo;

  private constructor(path: string, file: Deno.FsFile, info: Deno.FileInfo, offset: number) {
    this.path = path;
    this.#file = file;
    this.#info = info;
    this.offset = offset;
  }

  /** Opens `path` positioned at `offset` and takes its identity when it has content. */
  static async open(path: string, offset: number): Promise<FileReader> {
    const file = await Deno.open(path, { read: true });
    try {
      const info = await file.stat();
      const reader = new FileReader(path, file, info, offset);
      await file.seek(offset, Deno.SeekMode.Start);
      await reader.establishIdentity();
      return reader;
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** Device and inode of the open file. */
  get devIno(): string {
    return `${this.#info.dev}:${this.#info.ino}`;
  }

  /** Size at the last `stat`. */
  get size(): number {
    return this.#info.size;
  }

  /** Refreshes the size from the handle. */
  async stat(): Promise<Deno.FileInfo> {
    this.#info = await this.#file.stat();
    return this.#info;
  }

  /** Takes the identity (and the binary verdict) once the file has bytes; no-op after that. */
  async establishIdentity(): Promise<FileIdentity | undefined> {
    if (this.identity) return this.identity;
    if (this.#info.size === 0) return undefined;
    const head = await readHead(this.#file, FINGERPRINT_BYTES);
    this.identity = identify(this.#info, head);
    this.binary = looksBinary(head);
    return this.identity;
  }

  /** The first bytes, to compare with a checkpointed identity. */
  head(n = FINGERPRINT_BYTES): Promise<Uint8Array> {
    return readHead(this.#file, n);
  }

  /** Reads up to `max` bytes at `offset`; an empty array at the end of the file. */
  async read(max: number): Promise<Uint8Array> {
    const buf = new Uint8Array(max);
    let got = 0;
    while (got < max) {
      const n = await this.#file.read(buf.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    this.offset += got;
    return got === max ? buf : buf.subarray(0, got);
  }

  /**
   * What happened to the file since the last look. `verifyFingerprint` also re-reads the first
   * bytes, which catches a truncation that was refilled past our offset before we looked.
   */
  async check(verifyFingerprint: boolean): Promise<FileChange> {
    const info = await this.stat();
    if (info.size < this.offset) return "truncated";
    if (verifyFingerprint && this.identity) {
      const head = await readHead(this.#file, this.identity.fpLen);
      if (!isSameFile(this.identity, info, head)) return "truncated";
    }
    let atPath: Deno.FileInfo;
    try {
      atPath = await Deno.stat(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return "deleted";
      throw error;
    }
    return atPath.dev === info.dev && atPath.ino === info.ino ? "none" : "moved";
  }

  /** Continues reading at `offset`. */
  async seekTo(offset: number): Promise<void> {
    await this.#file.seek(offset, Deno.SeekMode.Start);
    this.offset = offset;
  }

  /** Starts over at byte 0 with a new identity (after a truncation). */
  async restartAtZero(): Promise<void> {
    await this.#file.seek(0, Deno.SeekMode.Start);
    this.offset = 0;
    this.identity = undefined;
    await this.stat();
    await this.establishIdentity();
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
