/**
 * Compression of the producer's record batches. gzip of a large batch (a backlog being worked
 * off) runs on a worker thread, so the main thread writes the next batch meanwhile; small batches
 * (a steady trickle) are compressed in place, and the worker is stopped again after 5 s
 * without large batches, so an idle agent does not keep it.
 * @module
 */
import { Buffer } from "node:buffer";
import { gzipSync } from "node:zlib";
import { compressionsAlgorithms } from "@platformatic/kafka";
import type { Compression } from "./codecs.ts";

interface Waiting {
  resolve: (data: Uint8Array) => void;
  reject: (error: Error) => void;
}

export interface CompressorOptions {
  /**
   * gzip input from this many bytes on goes to the worker thread (default 256 KiB: a backlog
   * fills a partition's batch to ~1 MB; steady traffic, even 10,000 lines/s over 1,000 files,
   * makes batches of ~20–250 KiB, and a worker started for them would hold ~15 MiB).
   */
  offThreadBytes?: number;
  /** The worker stops after this long without work, ms (default 5,000: a Deno worker holds ~15 MiB). */
  idleMs?: number;
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
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(codec: Compression, options: CompressorOptions = {}) {
    this.#codec = codec;
    this.#offThreadBytes = options.offThreadBytes ?? 256 * 1024;
    this.#idleMs = options.idleMs ?? 5_000;
  }

  /** True while the worker thread runs. */
  get threaded(): boolean {
    return this.#worker !== undefined;
  }

  compress(data: Uint8Array): Promise<Uint8Array> {
    switch (this.#codec) {
      case "none":
        return Promise.resolve(data.slice());
      case "snappy":
        return Promise.resolve(
          compressionsAlgorithms.snappy.compressSync(
            Buffer.from(data.buffer, data.byteOffset, data.byteLength),
          ),
        );
      case "gzip":
        if (data.length < this.#offThreadBytes) {
          return Promise.resolve(new Uint8Array(gzipSync(data)));
        }
        return this.#offThread(data.slice());
    }
  }

  /** Stops the worker; compressions still running on it are rejected. */
  close(): void {
    this.#stopWorker(new Error("compressor closed"));
  }

  #offThread(data: Uint8Array): Promise<Uint8Array> {
    const worker = this.#start();
    const id = this.#nextId++;
    clearTimeout(this.#idleTimer);
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ id, data }, [data.buffer as ArrayBuffer]);
    });
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL("./gzip_worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (event: MessageEvent<{ id: number; data?: Uint8Array; error?: string }>) => {
      const { id, data, error } = event.data;
      const waiting = this.#waiting.get(id);
      this.#waiting.delete(id);
      if (data) waiting?.resolve(data);
      else waiting?.reject(new Error(`gzip failed: ${error}`));
      if (this.#waiting.size === 0) {
        clearTimeout(this.#idleTimer);
        const timer = setTimeout(() => this.#stopWorker(), this.#idleMs);
        // The idle worker must not keep the process alive on its own.
        Deno.unrefTimer(timer as unknown as number);
        this.#idleTimer = timer;
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#stopWorker(new Error(`gzip worker failed: ${event.message}`));
    };
    this.#worker = worker;
    return worker;
  }

  #stopWorker(error = new Error("gzip worker stopped")): void {
    clearTimeout(this.#idleTimer);
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const w of this.#waiting.values()) w.reject(error);
    this.#waiting.clear();
  }
}
