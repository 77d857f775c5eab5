/**
 * The compression codecs sluice offers. The producer writes none, gzip and snappy
 * (kafka/compressor.ts); the consumer (kafkajs) reads gzip built in and snappy from a pure-JavaScript
 * package (kafkajs-snappy on snappyjs, registered in kafka/connection.ts). lz4 and zstd are
 * refused: see UNAVAILABLE_COMPRESSION for why.
 * @module
 */

/** Every codec a producer may be configured with. */
export const SUPPORTED_COMPRESSION = ["none", "gzip", "snappy"] as const;
export type Compression = typeof SUPPORTED_COMPRESSION[number];

/** Codecs Kafka knows that sluice does not offer, and why (shown to the operator). */
export const UNAVAILABLE_COMPRESSION: Record<string, string> = {
  // The producer could write both; the transfer's consumer (kafkajs) could not read them back.
  lz4: "not available (the transfer's Kafka consumer cannot read lz4 batches)",
  zstd: "not available (the transfer's Kafka consumer cannot read zstd batches)",
};
