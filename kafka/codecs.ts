/**
 * The compression codecs sluice offers. The producer (@platformatic/kafka) writes none, gzip and
 * snappy itself; the consumer (kafkajs) reads gzip built in and snappy from a pure-JavaScript
 * package registered here (kafkajs-snappy on snappyjs). lz4 and zstd are refused: see
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
  // The producer could write both; the transfer's consumer (kafkajs) could not read them back.
  lz4: "not available (the transfer's Kafka consumer cannot read lz4 batches)",
  zstd: "not available (the transfer's Kafka consumer cannot read zstd batches)",
};

let registered = false;

/**
 * Registers the snappy codec with kafkajs (once per process), so that consumers read batches
 * compressed with snappy.
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
