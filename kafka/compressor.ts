/**
 * Compression of the producer's record batches. A large batch (a backlog being worked off) is
 * compressed on a worker thread where the machine has cores to spare, so the main thread keeps
 * reading and writing the next batches meanwhile; batches compressed at once go to several
 * workers (each started only when the others are busy). Small batches (a steady trickle) are
 * compressed in place, and a worker stops again after 5 s without large batches, so an idle
 * agent keeps none. On 2 cores there are no workers (see `defaultThreads`).
 * @module
 */
import type { Compression } from "./codecs.ts";
import { compressSync, loadCodec } from "./codec_sync.ts";

interface Waiting {
  resolve: (data: Uint8Array) => void;
  reject: (error: Error) => void;
}

export interface CompressorOptions {
  /**
   * Input from this many bytes on goes to a worker thread (default 256 KiB: a backlog fills a
   * partition's batch to ~1 MB; steady traffic, even 10,000 lines/s over 1,000 files, makes
   * batches of ~20–250 KiB, and a worker started for them would hold ~15 MiB).
   */
  offThreadBytes?: number;
  /** A worker stops after this long without work, ms (default 5,000: a Deno worker holds ~15 MiB). */
  idleMs?: number;
  /** Most workers at once; 0: everything in place (default: `defaultThreads`). */
  threads?: number;
}

/**
 * Compression workers by default: one per core beyond two, at most 4. Measured on 2 cores (a
 * backlog of 1,000,000 lines, docs/BENCHMARKS.md): with the byte path the main thread is mostly
 * idle, and one or two gzip workers sent no faster than compressing in place, used ~0.5 CPU s more
 * and held 60–120 MiB more (a Deno worker is an isolate of its own, and its allocations stay in
 * its own malloc arena), so on 2 cores the agent compresses in place.
 *
 * @example
 * ```ts
 * import { defaultThreads } from "./compressor.ts";
 * defaultThreads(2); // 0
 * defaultThreads(8); // 4
 * ```
 */
export function defaultThreads(cores: number = navigator.hardwareConcurrency ?? 1): number {
  return Math.min(4, Math.max(0, cores - 2));
}

/** One worker thread and what it is working on. */
interface Thread {
  worker: Worker;
  waiting: Map<number, Waiting>;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Compresses with one codec; always returns a new array (the input may be a reused buffer).
 *
 * @example
 * ```ts
 * import { Compressor } from "./compressor.ts";
 * const gzip = new Compressor("gzip");
 * const out = await gzip.compress(new TextEncoder().encode("hello hello hello"));
 * gzip.close();
 * ```
 */
export class Compressor {
  readonly #codec: Compression;
  readonly #offThreadBytes: number;
  readonly #idleMs: number;
  readonly #maxThreads: number;
  readonly #threads: Thread[] = [];
  #nextId = 0;
  /** The codec's code is loaded on this thread (`loadCodec`). */
  #loaded: boolean;

  constructor(codec: Compression, options: CompressorOptions = {}) {
    this.#codec = codec;
    this.#offThreadBytes = options.offThreadBytes ?? 256 * 1024;
    this.#idleMs = options.idleMs ?? 5_000;
    this.#maxThreads = Math.max(0, options.threads ?? defaultThreads());
    this.#loaded = codec !== "lz4" && codec !== "snappy";
  }

  /** True while a worker thread runs. */
  get threaded(): boolean {
    return this.#threads.length > 0;
  }

  /** Worker threads running now. */
  get threads(): number {
    return this.#threads.length;
  }

  compress(data: Uint8Array): Promise<Uint8Array> {
    if (this.#codec === "none" || data.length < this.#offThreadBytes || this.#maxThreads === 0) {
      if (!this.#loaded) {
        // The first compression in place loads the codec; the caller's buffer is reused as soon
        // as this returns, so it is copied for the wait.
        const copy = data.slice();
        return loadCodec(this.#codec).then(() => {
          this.#loaded = true;
          return compressSync(this.#codec, copy);
        });
      }
      try {
        return Promise.resolve(compressSync(this.#codec, data));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#offThread(data.slice());
  }

  /** Stops the workers; compressions still running on them are rejected. */
  close(): void {
    for (const thread of [...this.#threads]) this.#stop(thread, new Error("compressor closed"));
  }

  #offThread(data: Uint8Array): Promise<Uint8Array> {
    const thread = this.#pick();
    const id = this.#nextId++;
    clearTimeout(thread.idleTimer);
    return new Promise((resolve, reject) => {
      thread.waiting.set(id, { resolve, reject });
      thread.worker.postMessage({ id, codec: this.#codec, data }, [data.buffer as ArrayBuffer]);
    });
  }

  /** An idle worker, a new one while there is room, else the least busy. */
  #pick(): Thread {
    let best: Thread | undefined;
    for (const t of this.#threads) {
      if (t.waiting.size === 0) return t;
      if (!best || t.waiting.size < best.waiting.size) best = t;
    }
    if (this.#threads.length < this.#maxThreads || !best) return this.#start();
    return best;
  }

  #start(): Thread {
    const worker = new Worker(new URL("./compress_worker.ts", import.meta.url), {
      type: "module",
    });
    const thread: Thread = { worker, waiting: new Map(), idleTimer: undefined };
    worker.onmessage = (event: MessageEvent<{ id: number; data?: Uint8Array; error?: string }>) => {
      const { id, data, error } = event.data;
      const waiting = thread.waiting.get(id);
      thread.waiting.delete(id);
      if (data) waiting?.resolve(data);
      else waiting?.reject(new Error(`${this.#codec} compression failed: ${error}`));
      if (thread.waiting.size === 0) {
        clearTimeout(thread.idleTimer);
        const timer = setTimeout(() => this.#stop(thread), this.#idleMs);
        // An idle worker must not keep the process alive on its own.
        Deno.unrefTimer(timer as unknown as number);
        thread.idleTimer = timer;
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#stop(thread, new Error(`compression worker failed: ${event.message}`));
    };
    this.#threads.push(thread);
    return thread;
  }

  #stop(thread: Thread, error = new Error("compression worker stopped")): void {
    clearTimeout(thread.idleTimer);
    thread.worker.terminate();
    const i = this.#threads.indexOf(thread);
    if (i >= 0) this.#threads.splice(i, 1);
    for (const w of thread.waiting.values()) w.reject(error);
    thread.waiting.clear();
  }
}
