/**
 * Read offsets on local disk, one JSON file per source (`<dir>/<source id>.json`). A file's offset
 * is only set once Kafka acknowledged every line before it, and each save is atomic (temp file,
 * fsync, rename), so after a crash the agent resumes at an acknowledged line boundary.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../core/atomic_file.ts";
import { SluiceError } from "../core/errors.ts";

/** Where one file was read to. */
export interface FileCheckpoint {
  /** File identity (`dev-ino-fp`). */
  file_id: string;
  dev: number;
  ino: number;
  /** Bytes covered by the fingerprint, to check the identity again after a restart. */
  fp_len: number;
  fp: string;
  /** Last path the file was seen at (where to look for it after a restart). */
  path: string;
  /** Next byte to read: every line before it was acknowledged by Kafka. */
  offset: number;
  /**
   * Fingerprint of the last bytes read before `print_end` (file_identity.ts `offsetPrint`), taken
   * from the bytes as they were read: a copy of the file continues this checkpoint only if it has
   * the same bytes there. Absent in checkpoints written by older agents.
   */
  offset_fp?: string;
  /** Where the bytes of `offset_fp` end: the read position then, at or past `offset`. */
  print_end?: number;
  /**
   * Sends past `offset` not acknowledged when this was saved: [end offset, read time in ms],
   * oldest first. A line read again after a crash gets the read time of the send that carried it,
   * so a re-sent line lands in the same date shard under the same id.
   */
  sent?: [number, number][];
  /** Last time the offset moved, ISO 8601. */
  updated_at: string;
}

interface CheckpointFile {
  version: 1;
  source: string;
  files: FileCheckpoint[];
}

/** Saving checkpoints failed (read-only or full disk): reading must not go further. */
export class CheckpointWriteError extends SluiceError {}

/**
 * The checkpoints of one source.
 *
 * @example
 * ```ts
 * import { CheckpointStore } from "./checkpoint_store.ts";
 * const store = await CheckpointStore.open(await Deno.makeTempDir(), "nginx");
 * store.set({ file_id: "1-2-ab", dev: 1, ino: 2, fp_len: 10, fp: "ab", path: "/x.log", offset: 42, updated_at: "" });
 * await store.save();
 * ```
 */
export class CheckpointStore {
  readonly path: string;
  /** True when the source had checkpoints here before (it ran on this host already). */
  readonly existed: boolean;
  readonly #files = new Map<string, FileCheckpoint>();
  #dirty = false;
  #saving: Promise<void> | undefined;

  private constructor(
    path: string,
    existed: boolean,
    files: FileCheckpoint[],
    readonly source: string,
  ) {
    this.path = path;
    this.existed = existed;
    for (const f of files) this.#files.set(f.file_id, f);
  }

  /** Loads the checkpoints of `source` from `dir` (created if missing). */
  static async open(dir: string, source: string): Promise<CheckpointStore> {
    await Deno.mkdir(dir, { recursive: true });
    const path = join(dir, `${source}.json`);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return new CheckpointStore(path, false, [], source);
      }
      throw error;
    }
    let parsed: CheckpointFile;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      // Only a torn write could do this, and saves are atomic; refuse rather than re-read all.
      throw new SluiceError(
        `checkpoint file ${path} is not valid JSON; move it away to start over`,
        1,
        {
          cause: error,
        },
      );
    }
    return new CheckpointStore(path, true, parsed.files ?? [], source);
  }

  /** The checkpoint of one file identity. */
  get(fileId: string): FileCheckpoint | undefined {
    return this.#files.get(fileId);
  }

  /** All file checkpoints. */
  all(): FileCheckpoint[] {
    return [...this.#files.values()];
  }

  /** Sets a file's checkpoint (in memory until `save`). */
  set(checkpoint: FileCheckpoint): void {
    this.#files.set(checkpoint.file_id, checkpoint);
    this.#dirty = true;
  }

  /** Forgets a file (it is gone). */
  delete(fileId: string): void {
    if (this.#files.delete(fileId)) this.#dirty = true;
  }

  /** Makes the next `save` write even without changes (records that the source ran here). */
  markDirty(): void {
    this.#dirty = true;
  }

  /** True when there are changes not yet saved. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /**
   * Writes the checkpoints atomically. Concurrent calls are serialised. Throws
   * CheckpointWriteError when the disk refuses; the in-memory state stays dirty so a later save
   * retries.
   */
  save(): Promise<void> {
    const run = (this.#saving ?? Promise.resolve()).catch(() => {}).then(() => this.#write());
    this.#saving = run;
    return run;
  }

  async #write(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const body: CheckpointFile = { version: 1, source: this.source, files: this.all() };
    try {
      await writeFileAtomic(this.path, JSON.stringify(body));
    } catch (error) {
      this.#dirty = true;
      throw new CheckpointWriteError(
        `cannot save checkpoints to ${this.path}: ${
          (error as Error).message
        }; reading of source '${this.source}' is held until it can`,
        1,
        { cause: error },
      );
    }
  }
}
