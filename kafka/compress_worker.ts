/**
 * Compresses record batches with gzip off the agent's main thread (started by kafka/compressor.ts
 * when a backlog makes batches large). Each message is `{ id, data }`; the answer is
 * `{ id, data }` with the gzip bytes, or `{ id, error }`.
 * @module
 */
import { gzipSync } from "node:zlib";

interface WorkerScope {
  onmessage: ((event: MessageEvent<{ id: number; data: Uint8Array }>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;
scope.onmessage = ({ data: { id, data } }) => {
  try {
    const out = new Uint8Array(gzipSync(data));
    scope.postMessage({ id, data: out }, [out.buffer]);
  } catch (error) {
    scope.postMessage({ id, error: String(error) });
  }
};
