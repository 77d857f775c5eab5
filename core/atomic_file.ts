/**
 * Replacing a small file so that a crash at any moment leaves either the old content or the new,
 * never a torn mix: write a temp file next to it, fsync, rename over it.
 * @module
 */

/**
 * Writes `text` to `path` atomically (temp file in the same directory, fsync, rename). On failure
 * the temp file is removed and the error is thrown; `path` keeps its old content.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic_file.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/state.json`, JSON.stringify({ offset: 42 }));
 * ```
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      const bytes = new TextEncoder().encode(text);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}
