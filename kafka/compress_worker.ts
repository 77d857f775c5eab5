/**
 * Compresses record batches off the agent's main thread (started by kafka/compressor.ts when a
 * backlog makes batches large; several run side by side). Each message is `{ id, codec, data }`;
 * the answer is `{ id, data }` with the compressed bytes, or `{ id, error }`.
 * @module
 */
import type { Compression } from "./codecs.ts";
import { compressSync, loadCodec } from "./codec_sync.ts";

interface WorkerScope {
  onmessage:
    | ((event: MessageEvent<{ id: number; codec: Compression; data: Uint8Array }>) => void)
    | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;
scope.onmessage = async ({ data: { id, codec, data } }) => {
  try {
    await loadCodec(codec);
    const out = compressSync(codec, data);
    scope.postMessage({ id, data: out }, [out.buffer as ArrayBuffer]);
  } catch (error) {
    scope.postMessage({ id, error: String(error) });
  }
};
