import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { CheckpointStore, CheckpointWriteError, type FileCheckpoint } from "./checkpoint_store.ts";

const cp = (id: string, offset: number): FileCheckpoint => ({
  file_id: id,
  dev: 1,
  ino: 2,
  fp_len: 4,
  fp: "f",
  path: "/x.log",
  offset,
  updated_at: "2024-01-01T00:00:00.000Z",
});

Deno.test("save then open gives back the offsets; `existed` tells a first run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = await CheckpointStore.open(dir, "src");
    assert(!a.existed);
    a.set(cp("1-2-f", 10));
    a.set(cp("1-3-g", 20));
    a.delete("1-3-g");
    await a.save();
    assert(!a.dirty);
    const b = await CheckpointStore.open(dir, "src");
    assert(b.existed);
    assertEquals(b.all(), [cp("1-2-f", 10)]);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["src.json"], "no temp file left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("concurrent saves are serialised and the last state wins", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = await CheckpointStore.open(dir, "src");
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 20; i++) {
      s.set(cp("1-2-f", i));
      saves.push(s.save());
    }
    await Promise.all(saves);
    assertEquals((await CheckpointStore.open(dir, "src")).get("1-2-f")?.offset, 20);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a write failure is a CheckpointWriteError and the store stays dirty", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = await CheckpointStore.open(dir, "src");
    s.set(cp("1-2-f", 5));
    await s.save();
    // A directory where the temp file should go makes the write fail without needing root.
    await Deno.mkdir(`${s.path}.tmp-${Deno.pid}/x`, { recursive: true });
    s.set(cp("1-2-f", 6));
    await rejects(s.save(), CheckpointWriteError);
    assert(s.dirty);
    assertEquals(
      (await CheckpointStore.open(dir, "src")).get("1-2-f")?.offset,
      5,
      "old file intact",
    );
    await Deno.remove(`${s.path}.tmp-${Deno.pid}`, { recursive: true });
    await s.save();
    assertEquals((await CheckpointStore.open(dir, "src")).get("1-2-f")?.offset, 6);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a corrupt checkpoint file is refused, not silently reset", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/src.json`, "{not json");
    await rejects(CheckpointStore.open(dir, "src"), /not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
