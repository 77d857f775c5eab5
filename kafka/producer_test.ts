import { equal, throws } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { murmur2 } from "@platformatic/kafka";
import { InvalidInputError } from "../core/errors.ts";
import { keyPartition, parseCompression } from "./producer.ts";

Deno.test("keyPartition: the Java client's murmur2 (its published test vectors), made positive", () => {
  // Kafka's own murmur2 test cases: key → Utils.murmur2(key) as a signed 32-bit int.
  const java: [string, number][] = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
  ];
  for (const [key, hash] of java) {
    equal(keyPartition(new TextEncoder().encode(key)), hash & 0x7fffffff, key);
  }
});

Deno.test("keyPartition agrees with @platformatic/kafka's murmur2 on every tail length and on UTF-8", () => {
  const alphabet = [..."abcXYZ019-/._é€😀"];
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let n = 0; n < 500; n++) {
    let key = "";
    const length = n % 67;
    for (let i = 0; i < length; i++) {
      key += alphabet[Math.floor(next() * alphabet.length)];
    }
    const bytes = new TextEncoder().encode(key);
    equal(keyPartition(bytes), murmur2(Buffer.from(bytes)) & 0x7fffffff, JSON.stringify(key));
  }
});

Deno.test("parseCompression: offered codecs pass, others are refused naming those offered", () => {
  equal(parseCompression("GZIP"), "gzip");
  equal(parseCompression("snappy"), "snappy");
  equal(parseCompression("lz4"), "lz4");
  equal(parseCompression("ZSTD"), "zstd");
  throws(
    () => parseCompression("brotli"),
    (e: Error) =>
      e instanceof InvalidInputError && /unknown/.test(e.message) &&
      /supported: none, gzip, snappy, lz4, zstd/.test(e.message),
  );
});
