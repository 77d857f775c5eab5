import { equal } from "node:assert/strict";
import { crc32c as wasmCrc32c } from "@platformatic/wasm-utils";
import { crc32c } from "./crc32c.ts";

Deno.test("crc32c: the standard check value and RFC 3720's test patterns", () => {
  equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  equal(crc32c(new Uint8Array(0)), 0);
  equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  equal(crc32c(Uint8Array.from({ length: 32 }, (_, k) => k)), 0x46dd794e);
});

Deno.test("crc32c agrees with another implementation on every length and offset up to 64 bytes, and on 1 MiB", () => {
  const data = new Uint8Array(1 << 20);
  let x = 0x12345678;
  for (let k = 0; k < data.length; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data[k] = x >>> 24;
  }
  for (let offset = 0; offset < 8; offset++) {
    for (let length = 0; length <= 64; length++) {
      const part = data.subarray(offset, offset + length);
      equal(crc32c(part), wasmCrc32c(part), `offset ${offset}, length ${length}`);
    }
  }
  equal(crc32c(data), wasmCrc32c(data));
});
