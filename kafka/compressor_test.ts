import { deepEqual, equal, rejects } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { gunzipSync } from "node:zlib";
import { compressionsAlgorithms } from "@platformatic/kafka";
import { decompressSync, loadCodec } from "./codec_sync.ts";
import { Compressor, defaultThreads } from "./compressor.ts";

const data = new TextEncoder().encode("GET /api/orders/17 HTTP/1.1 200 512\n".repeat(4_000));

Deno.test("Compressor: gzip of a large batch runs on the worker and gunzips back", async () => {
  const gzip = new Compressor("gzip", { offThreadBytes: 1024, threads: 1 });
  try {
    const input = data.slice();
    const out = await gzip.compress(input);
    equal(gzip.threaded, true);
    deepEqual(new Uint8Array(gunzipSync(out)), data);
    equal(out.length < data.length / 10, true);
    // The caller's buffer is left as it was (it is reused for the next batch).
    deepEqual(input, data);
    // Several at once come back to their own callers.
    const parts = [data.subarray(0, 5_000), data.subarray(5_000, 60_000), data.subarray(60_000)];
    const outs = await Promise.all(parts.map((p) => gzip.compress(p)));
    outs.forEach((o, i) => deepEqual(new Uint8Array(gunzipSync(o)), parts[i]));
  } finally {
    gzip.close();
  }
  equal(gzip.threaded, false);
});

Deno.test("Compressor: batches of steady traffic are compressed in place, a backlog's on a worker", async () => {
  const gzip = new Compressor("gzip", { threads: 1 });
  for (const input of [data.subarray(0, 2_000), data]) { // 2 KB, and ~144 KB
    deepEqual(new Uint8Array(gunzipSync(await gzip.compress(input))), input);
    equal(gzip.threaded, false);
  }
  // A backlog's batch (here ~288 KB) goes to the worker.
  const backlog = new Uint8Array(2 * data.length);
  backlog.set(data);
  backlog.set(data, data.length);
  deepEqual(new Uint8Array(gunzipSync(await gzip.compress(backlog))), backlog);
  equal(gzip.threaded, true);
  gzip.close();
});

Deno.test("Compressor: the worker stops after its idle time, and starts again on demand", async () => {
  const gzip = new Compressor("gzip", { offThreadBytes: 1024, idleMs: 50, threads: 1 });
  try {
    await gzip.compress(data);
    equal(gzip.threaded, true);
    await new Promise((r) => setTimeout(r, 200));
    equal(gzip.threaded, false);
    deepEqual(new Uint8Array(gunzipSync(await gzip.compress(data))), data);
  } finally {
    gzip.close();
  }
});

Deno.test("Compressor: close rejects what is still on the worker", async () => {
  const gzip = new Compressor("gzip", { offThreadBytes: 1024, threads: 1 });
  const pending = gzip.compress(data);
  gzip.close();
  await rejects(pending, /closed/);
});

Deno.test("Compressor: large batches at once run on several workers, each codec round-trips", async () => {
  for (const codec of ["gzip", "zstd", "lz4", "snappy"] as const) {
    await loadCodec(codec);
    const compressor = new Compressor(codec, { offThreadBytes: 1024, threads: 2 });
    try {
      const parts = [
        data.subarray(0, 50_000),
        data.subarray(50_000, 100_000),
        data.subarray(100_000),
      ];
      const outs = await Promise.all(parts.map((p) => compressor.compress(p)));
      equal(compressor.threads, 2, `${codec}: two batches at once, two workers`);
      outs.forEach((o, i) => deepEqual(decompressSync(codec, o), parts[i], codec));
      // In place below the threshold, the same bytes.
      const small = data.subarray(0, 500);
      deepEqual(decompressSync(codec, await compressor.compress(small)), small);
      equal(outs[2].length < parts[2].length / 4, true, `${codec} compresses`);
    } finally {
      compressor.close();
    }
  }
});

Deno.test("Compressor: none copies, snappy decodes back with the client's codec", async () => {
  const none = new Compressor("none");
  const input = data.subarray(0, 100);
  const copy = await none.compress(input);
  deepEqual(copy, input);
  equal(copy.buffer === input.buffer, false);
  const snappy = await new Compressor("snappy").compress(data);
  const back = compressionsAlgorithms.snappy.decompressSync(Buffer.from(snappy));
  deepEqual(new Uint8Array(back), data);
});

Deno.test("Compressor: no workers on 2 cores (the default there), one per core beyond two", async () => {
  deepEqual([1, 2, 3, 4, 6, 16].map((c) => defaultThreads(c)), [0, 0, 1, 2, 4, 4]);
  const inPlace = new Compressor("gzip", { offThreadBytes: 1024, threads: 0 });
  const backlog = data.slice();
  deepEqual(new Uint8Array(gunzipSync(await inPlace.compress(backlog))), backlog);
  equal(inPlace.threaded, false);
  inPlace.close();
});
