import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  chooseEvictions,
  fileBudget,
  OpenFiles,
  processSoftLimit,
  RESERVED_DESCRIPTORS,
  softLimitFromProc,
} from "./open_files.ts";

Deno.test("softLimitFromProc: the soft limit of open files, or nothing when unlimited", () => {
  const text = "Limit                     Soft Limit           Hard Limit           Units\n" +
    "Max cpu time              unlimited            unlimited            seconds\n" +
    "Max open files            1024                 524288               files\n";
  assertEquals(softLimitFromProc(text), 1024);
  assertEquals(softLimitFromProc("Max open files  unlimited  unlimited  files\n"), undefined);
  assertEquals(softLimitFromProc("nothing here"), undefined);
  assert((processSoftLimit() ?? 1) > 0);
});

Deno.test("fileBudget: the soft limit minus the reserve, at least 16, at most what is configured", () => {
  assertEquals(fileBudget(1024), 1024 - RESERVED_DESCRIPTORS);
  assertEquals(fileBudget(64), 16);
  assertEquals(fileBudget(undefined), Infinity);
  assertEquals(fileBudget(65536, 5000), 5000);
});

Deno.test("chooseEvictions: settled files idle long enough, the idlest first", () => {
  const c = [
    { key: "a", idleMs: 100, settled: true },
    { key: "b", idleMs: 9000, settled: true },
    { key: "c", idleMs: 20000, settled: false },
    { key: "d", idleMs: 5000, settled: true },
  ];
  assertEquals(chooseEvictions(c, 2, 500), ["b", "d"]);
  assertEquals(chooseEvictions(c, 5, 500), ["b", "d"]);
  assertEquals(chooseEvictions(c, 0, 500), []);
});

Deno.test("OpenFiles: a budget, and reclaim asks the holders (the asking one first) to close idle files", () => {
  const files = new OpenFiles(2);
  assert(files.tryTake() && files.tryTake());
  assert(!files.tryTake());
  const asked: string[] = [];
  const holder = (name: string, can: number) => ({
    closeIdle(count: number) {
      asked.push(name);
      const n = Math.min(count, can);
      for (let i = 0; i < n; i++) files.give();
      return n;
    },
  });
  const a = holder("a", 0);
  const b = holder("b", 1);
  files.register(a);
  const unregister = files.register(b);
  assertEquals(files.reclaim(1, 500, b), 1);
  assertEquals(asked, ["b"]);
  assert(files.tryTake());
  unregister();
  assertEquals(files.reclaim(1, 500), 0);
  assertEquals(files.open, 2);
});
