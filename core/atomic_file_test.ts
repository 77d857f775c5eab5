import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { writeFileAtomic } from "./atomic_file.ts";

Deno.test("writeFileAtomic replaces the content and leaves no temp file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json`;
    await writeFileAtomic(path, "first");
    await writeFileAtomic(path, "second, longer than the first");
    assertEquals(await Deno.readTextFile(path), "second, longer than the first");
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["state.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic over a directory fails, keeps what was there and cleans up", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A rename cannot replace a non-empty directory: the write fails after the temp file exists.
    await Deno.mkdir(`${dir}/state.json/inner`, { recursive: true });
    await rejects(writeFileAtomic(`${dir}/state.json`, "new"));
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["state.json"]);
    assertEquals(Deno.statSync(`${dir}/state.json/inner`).isDirectory, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
