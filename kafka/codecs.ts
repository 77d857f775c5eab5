/**
 * The compression codecs sluice offers, by name. The producer writes all of them
 * (kafka/compressor.ts, kafka/codec_sync.ts); the consumer (kafkajs) reads gzip built in and the
 * others through the codecs kafka/connection.ts registers (the same kafka/codec_sync.ts).
 * @module
 */

/** Every codec a producer may be configured with. */
export const SUPPORTED_COMPRESSION = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
export type Compression = typeof SUPPORTED_COMPRESSION[number];

/** Codecs Kafka knows that sluice does not offer, and why (shown to the operator). */
export const UNAVAILABLE_COMPRESSION: Record<string, string> = {};
