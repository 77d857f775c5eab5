import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { lastLines } from "./child.ts";

Deno.test("lastLines ignores the trailing newline", () => {
  assertEquals(lastLines("a\nb\nc\n", 2), ["b", "c"]);
  assertEquals(lastLines("a\nb", 5), ["a", "b"]);
  assertEquals(lastLines("", 3), []);
});
