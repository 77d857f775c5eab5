import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { discoverFiles, globBase, globToRegExp } from "./discovery.ts";

Deno.test("globToRegExp: *, ?, **, braces, classes", () => {
  const t = (g: string, p: string) => globToRegExp(g).test(p);
  assert(t("/l/*.log", "/l/a.log"));
  assert(!t("/l/*.log", "/l/sub/a.log"));
  assert(t("/l/?.log", "/l/a.log"));
  assert(!t("/l/?.log", "/l/ab.log"));
  assert(t("/l/**/*.log", "/l/a.log"));
  assert(t("/l/**/*.log", "/l/x/y/a.log"));
  assert(t("/l/*.{log,txt}", "/l/a.txt"));
  assert(!t("/l/*.{log,txt}", "/l/a.gz"));
  assert(t("/l/app[0-9].log", "/l/app7.log"));
  assert(!t("/l/app[!0-9].log", "/l/app7.log"));
  assert(!t("/l/a.log", "/l/aXlog"), "dots are literal");
  assert(t("/l/a+b (1).log", "/l/a+b (1).log"));
});

Deno.test("globBase: literal prefix and walk depth", () => {
  assertEquals(globBase("/var/log/app/*.log"), { base: "/var/log/app", depth: 1 });
  assertEquals(globBase("/var/*/x/*.log"), { base: "/var", depth: 3 });
  assertEquals(globBase("/var/log/**/*.log"), { base: "/var/log", depth: Infinity });
  assertEquals(globBase("/*.log"), { base: "/", depth: 1 });
});

Deno.test("discoverFiles finds matching files, honours exclude, skips dirs and missing dirs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/sub/deep`, { recursive: true });
    for (const f of ["a.log", "b.log", "c.txt", "sub/d.log", "sub/deep/e.log", "skip.log"]) {
      await Deno.writeTextFile(`${dir}/${f}`, "x\n");
    }
    await Deno.mkdir(`${dir}/dir.log`);
    await Deno.symlink(`${dir}/c.txt`, `${dir}/link.log`);
    const names = async (globs: string[], exclude?: string[]) =>
      (await discoverFiles(globs, exclude)).map((f) => f.path.slice(dir.length + 1)).sort();
    assertEquals(await names([`${dir}/*.log`], [`${dir}/skip.*`]), ["a.log", "b.log", "link.log"]);
    assertEquals(await names([`${dir}/**/*.log`], ["**/skip.log", "**/link.log"]), [
      "a.log",
      "b.log",
      "sub/d.log",
      "sub/deep/e.log",
    ]);
    assertEquals(await names([`${dir}/c.txt`, `${dir}/nope/*.log`]), ["c.txt"]);
    const [file] = await discoverFiles([`${dir}/a.log`]);
    assert(file.info.ino !== null && file.info.size === 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
