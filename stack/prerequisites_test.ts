import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { parseJavaMajor } from "./prerequisites.ts";

Deno.test("parseJavaMajor reads modern and 1.x version strings", () => {
  // Real first lines of `java -version` (it prints to stderr).
  assertEquals(parseJavaMajor('openjdk version "17.0.15" 2025-04-15'), 17);
  assertEquals(parseJavaMajor('openjdk version "21" 2023-09-19'), 21);
  assertEquals(parseJavaMajor('java version "1.8.0_392"'), 8);
  assertEquals(parseJavaMajor('openjdk version "11.0.2" 2019-01-15 LTS'), 11);
  assertEquals(parseJavaMajor("sh: 1: java: not found"), undefined);
});
