import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { FileWatcher, watchTargets } from "./file_watcher.ts";
import { waitFor } from "../core/child.ts";

Deno.test("watchTargets: one directory per glob base, recursive where the glob goes deep", () => {
  assertEquals(watchTargets(["/var/log/app/*.log", "/var/log/app/x.log", "/srv/**/*.log"]), [
    { path: "/var/log/app", recursive: false },
    { path: "/srv", recursive: true },
  ]);
});

Deno.test("complete once every directory is watched itself; not while one is awaited", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-watch-" });
  const changed: string[] = [];
  const appeared: string[] = [];
  const watcher = new FileWatcher(
    [`${dir}/a/*.log`, `${dir}/b/*.log`],
    (paths, created) => {
      changed.push(...paths);
      appeared.push(...created);
    },
  );
  try {
    await Deno.mkdir(`${dir}/a`);
    watcher.start();
    // b/ does not exist: watched through its parent, so the scan stays the way to find files.
    await new Promise((r) => setTimeout(r, 200));
    assertEquals(watcher.complete, false, "complete with b/ missing");
    await Deno.mkdir(`${dir}/b`);
    await waitFor("b/ watched itself", () => watcher.complete, { timeoutMs: 10_000 });
    await Deno.writeTextFile(`${dir}/b/new.log`, "x\n");
    await waitFor(
      `an event for b/new.log (events so far: ${changed.join(", ") || "none"})`,
      () => changed.includes(`${dir}/b/new.log`),
      { timeoutMs: 10_000 },
    );
    // Created: the file at that path may be another one than an open file had there.
    assert(appeared.includes(`${dir}/b/new.log`), `appeared: ${appeared.join(", ") || "none"}`);
    await Deno.rename(`${dir}/b/new.log`, `${dir}/b/old.log`);
    await waitFor(
      `the rename reported as appeared at b/old.log (so far: ${appeared.join(", ")})`,
      () => appeared.includes(`${dir}/b/old.log`),
      { timeoutMs: 10_000 },
    );
  } finally {
    watcher.close();
    await Deno.remove(dir, { recursive: true });
  }
  assert(!watcher.complete, "complete after close");
});
