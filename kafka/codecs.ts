/**
 * Compression codecs for kafkajs beyond its built-in gzip, from pure-JavaScript packages that
 * run under Deno: snappy (kafkajs-snappy on snappyjs). lz4 and zstd are refused: see
 * UNAVAILABLE_COMPRESSION for why.
 * @module
 */
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import SnappyCodec from "kafkajs-snappy";

/** Every codec a producer may be configured with. */
export const SUPPORTED_COMPRESSION = ["none", "gzip", "snappy"] as const;
export type Compression = typeof SUPPORTED_COMPRESSION[number];

/** Codecs Kafka knows that sluice does not offer, and why (shown to the operator). */
export const UNAVAILABLE_COMPRESSION: Record<string, string> = {
  // lz4js writes LZ4 frames without the block-independence flag, which Kafka's reader refuses.
  lz4: "not available (the pure-JavaScript LZ4 codec on npm writes frames Kafka refuses)",
  zstd: "not available (npm has no pure-JavaScript zstd compressor, only native bindings)",
};

/** kafkajs' compression type for a codec name. */
export const COMPRESSION_TYPES: Record<Compression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
};

let registered = false;

/**
 * Registers the snappy codec with kafkajs (once per process). Producers need it to send snappy
 * batches and consumers to read batches that others compressed with snappy.
 *
 * @example
 * ```ts
 * import { registerCodecs } from "./codecs.ts";
 * registerCodecs();
 * ```
 */
export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  (CompressionCodecs as Record<number, () => unknown>)[CompressionTypes.Snappy] = SnappyCodec;
}
