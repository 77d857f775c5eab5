/**
 * The codecs themselves, synchronous, for the producer's compressor (on the main thread and on
 * its workers) and for the consumer's decompression: gzip and zstd from the runtime's `node:zlib`,
 * lz4 (Kafka's LZ4 frame format) and snappy from @platformatic/wasm-utils (WebAssembly shipped
 * inside its npm package: nothing is downloaded or built at install time), loaded only when one
 * of them is used (`loadCodec`): a compression worker for gzip does not carry ~11 MiB of
 * WebAssembly. Kept apart from kafka/codecs.ts (names only) so that what only checks a setting
 * does not load them.
 * @module
 */
import { Buffer } from "node:buffer";
import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import type { Compression } from "./codecs.ts";

type WasmCodecs = typeof import("@platformatic/wasm-utils");
let wasm: WasmCodecs | undefined;

/**
 * Loads what `codec` needs (the WebAssembly of lz4 and snappy; gzip, zstd and none need
 * nothing); `compressSync` and `decompressSync` of that codec work once it resolved.
 *
 * @example
 * ```ts
 * import { compressSync, loadCodec } from "./codec_sync.ts";
 * await loadCodec("lz4");
 * compressSync("lz4", new TextEncoder().encode("hello hello")).length > 0; // true
 * ```
 */
export async function loadCodec(codec: Compression): Promise<void> {
  if ((codec === "lz4" || codec === "snappy") && !wasm) {
    wasm = await import("@platformatic/wasm-utils");
  }
}

function wasmCodecs(codec: Compression): WasmCodecs {
  if (!wasm) throw new Error(`the ${codec} codec is not loaded (await loadCodec first)`);
  return wasm;
}

/** A view of `data` as a Buffer, without a copy. */
function buffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * `data` compressed with `codec` as Kafka expects a record batch's records to be: a new array
 * (`none` copies, since the input may be a reused buffer).
 *
 * @example
 * ```ts
 * import { compressSync, decompressSync } from "./codec_sync.ts";
 * // gzip and zstd need no loadCodec.
 * const data = new TextEncoder().encode("GET / 200\n".repeat(100));
 * const packed = compressSync("zstd", data);
 * decompressSync("zstd", packed).length; // 1000
 * ```
 */
export function compressSync(codec: Compression, data: Uint8Array): Uint8Array {
  switch (codec) {
    case "none":
      return data.slice();
    case "gzip":
      return new Uint8Array(gzipSync(data));
    case "zstd":
      return new Uint8Array(zstdCompressSync(data));
    case "lz4":
      return new Uint8Array(wasmCodecs(codec).lz4Compress(buffer(data)));
    case "snappy":
      return new Uint8Array(wasmCodecs(codec).snappyCompress(buffer(data)));
  }
}

/** The xerial framing some producers (the Java client of old) put around snappy. */
const XERIAL = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];

/**
 * `data` decompressed from `codec` (the reverse of `compressSync`; snappy also in the xerial
 * framing older Java producers write).
 */
export function decompressSync(codec: Compression, data: Uint8Array): Uint8Array {
  switch (codec) {
    case "none":
      return data;
    case "gzip":
      return new Uint8Array(gunzipSync(data));
    case "zstd":
      return new Uint8Array(zstdDecompressSync(data));
    case "lz4":
      return new Uint8Array(wasmCodecs(codec).lz4Decompress(buffer(data)));
    case "snappy": {
      const { snappyDecompress } = wasmCodecs(codec);
      if (!XERIAL.every((b, i) => data[i] === b)) {
        return new Uint8Array(snappyDecompress(buffer(data)));
      }
      const parts: Uint8Array[] = [];
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let p = 16; p + 4 <= data.length;) {
        const size = view.getUint32(p);
        parts.push(new Uint8Array(snappyDecompress(buffer(data.subarray(p + 4, p + 4 + size)))));
        p += 4 + size;
      }
      const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
      let at = 0;
      for (const part of parts) {
        out.set(part, at);
        at += part.length;
      }
      return out;
    }
  }
}
