/**
 * CRC-32C (Castagnoli), the checksum of Kafka's v2 record batches, in plain TypeScript: eight
 * tables of 256 entries, eight bytes a step ("slicing by 8"). It is computed on the main thread
 * once per batch, over the compressed records. Plain code keeps WebAssembly's compiler out of the
 * agent's memory (see docs/decisions/0008-own-kafka-connections.md).
 * @module
 */

/** `TABLES[k][b]`: the CRC of byte `b` followed by `k` zero bytes. */
const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    tables[0][b] = c >>> 0;
  }
  for (let b = 0; b < 256; b++) {
    for (let k = 1; k < 8; k++) {
      const previous = tables[k - 1][b];
      tables[k][b] = (previous >>> 8) ^ tables[0][previous & 0xff];
    }
  }
  return tables;
})();

/**
 * The CRC-32C of `data`, as an unsigned 32-bit number.
 *
 * @example
 * ```ts
 * import { crc32c } from "./crc32c.ts";
 * crc32c(new TextEncoder().encode("123456789")); // 0xe3069283
 * ```
 */
export function crc32c(data: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = 0xffffffff;
  let i = 0;
  const whole = data.length & ~7;
  for (; i < whole; i += 8) {
    const a = crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    crc = t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24] ^
      t3[data[i + 4]] ^ t2[data[i + 5]] ^ t1[data[i + 6]] ^ t0[data[i + 7]];
  }
  for (; i < data.length; i++) crc = (crc >>> 8) ^ t0[(crc ^ data[i]) & 0xff];
  return (crc ^ 0xffffffff) >>> 0;
}
