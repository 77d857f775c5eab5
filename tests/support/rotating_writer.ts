/**
 * A writer of numbered lines (`tag seq=NNNNNN xxx…`) at a steady rate that rotates its file the
 * ways logrotate does — rename (`app.log.1`, `.2`, … or dateext `app.log-20240501-7`) or
 * copytruncate, with `compress` (+ `delaycompress`) — between two writes, so that no line is lost
 * by the rotation itself (logrotate's copytruncate can lose what is written between its copy and
 * its truncate; this one does not, so a test can demand every line). The agent tests and the
 * fault suite use it to check that every number arrives exactly once.
 * @module
 */
import { sleep } from "../../core/backoff.ts";

export type RotationMode = "rename" | "copytruncate";

export interface RotatingWriterOptions {
  /** Lines per second. */
  rate: number;
  /** Rotate after every this many lines (default: never). */
  rotateEvery?: number;
  mode?: RotationMode;
  /** Rotated names `app.log-YYYYMMDD-N` (logrotate's dateext) instead of `app.log.N`. */
  dateext?: boolean;
  /**
   * Compress rotated files with gzip (a new `.gz` file, the original removed); with
   * delaycompress the newest rotated file stays uncompressed until the next rotation.
   */
  compress?: "compress" | "delaycompress";
  /** Stop by itself after this many lines (default: until `stop()`). */
  total?: number;
  /** Padding of each line (default 40 bytes). */
  pad?: number;
}

/** `tag seq=000042 xxx…` lines for seq in [from, to). */
export function numberedLines(tag: string, from: number, to: number, pad = 40): string {
  let out = "";
  const padding = "x".repeat(pad);
  for (let n = from; n < to; n++) out += `${tag} seq=${String(n).padStart(6, "0")} ${padding}\n`;
  return out;
}

/** The number of a line written by `numberedLines`, or -1. */
export function seqOfLine(message: string): number {
  const m = / seq=(\d+) /.exec(message);
  return m ? Number(m[1]) : -1;
}

/** Writes numbered lines to `path` at a steady rate, rotating as configured. */
export class RotatingWriter {
  count = 0;
  rotations = 0;
  readonly done: Promise<number>;
  /** Names of the rotated files, oldest first (uncompressed ones only). */
  readonly rotated: string[] = [];
  #running = true;
  #paused: Promise<void> | undefined;
  #resume: (() => void) | undefined;

  constructor(
    readonly path: string,
    readonly tag: string,
    readonly options: RotatingWriterOptions,
  ) {
    this.done = this.#run();
  }

  async #run(): Promise<number> {
    const { rate, total = Infinity, rotateEvery = Infinity, pad = 40 } = this.options;
    let started = Date.now();
    let base = 0;
    while (this.#running && this.count < total) {
      if (this.#paused) {
        const pausedAt = Date.now();
        await this.#paused;
        // The rate restarts from where it paused: no burst after a pause.
        started += Date.now() - pausedAt;
      }
      const due = Math.min(total, base + Math.floor(((Date.now() - started) / 1000) * rate) + 1);
      while (this.count < due && this.#running) {
        const boundary = (Math.floor(this.count / rotateEvery) + 1) * rotateEvery;
        const to = Math.min(due, boundary);
        await Deno.writeTextFile(this.path, numberedLines(this.tag, this.count, to, pad), {
          append: true,
        });
        this.count = to;
        if (to === boundary) await this.rotate();
      }
      await sleep(5);
      if (this.count >= due && Date.now() - started > 60_000) {
        // Keep the arithmetic exact over long runs.
        base = this.count;
        started = Date.now();
      }
    }
    return this.count;
  }

  /** Rotates now (between two writes). */
  async rotate(): Promise<void> {
    const n = ++this.rotations;
    const name = this.options.dateext ? `${this.path}-20240501-${n}` : `${this.path}.1`;
    if (!this.options.dateext) {
      // app.log.N → app.log.N+1, the newest first taken by app.log.
      for (let i = this.rotated.length; i >= 1; i--) {
        await renameIfThere(`${this.path}.${i}`, `${this.path}.${i + 1}`);
        await renameIfThere(`${this.path}.${i}.gz`, `${this.path}.${i + 1}.gz`);
      }
    }
    if (this.options.mode === "copytruncate") {
      await Deno.copyFile(this.path, name);
      await Deno.truncate(this.path, 0);
    } else {
      await Deno.rename(this.path, name);
      await Deno.writeTextFile(this.path, "");
    }
    this.rotated.push(name);
    await this.#compress();
  }

  /** Compresses rotated files as logrotate's compress / delaycompress do. */
  async #compress(): Promise<void> {
    const mode = this.options.compress;
    if (!mode) return;
    const names = this.options.dateext
      ? this.rotated.map((_, i) => this.rotated[i])
      : this.rotated.map((_, i) => `${this.path}.${i + 1}`);
    const newest = this.options.dateext ? this.rotated.at(-1) : `${this.path}.1`;
    for (const name of names) {
      if (mode === "delaycompress" && name === newest) continue;
      try {
        const data = await Deno.readFile(name);
        const gz = await new Response(
          new Blob([data]).stream().pipeThrough(new CompressionStream("gzip")),
        ).arrayBuffer();
        await Deno.writeFile(`${name}.gz`, new Uint8Array(gz));
        await Deno.remove(name);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
  }

  /** Holds writing until `resume()` (e.g. while the agent is stopped for a test). */
  pause(): void {
    this.#paused ??= new Promise((resolve) => (this.#resume = resolve));
  }

  resume(): void {
    this.#resume?.();
    this.#paused = undefined;
    this.#resume = undefined;
  }

  /** Stops writing; resolves to the number of lines written. */
  stop(): Promise<number> {
    this.#running = false;
    this.resume();
    return this.done;
  }
}

async function renameIfThere(from: string, to: string): Promise<void> {
  try {
    await Deno.rename(from, to);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
