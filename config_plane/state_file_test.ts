import {
  deepStrictEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { InvalidInputError } from "../core/errors.ts";
import { checkStateText, loadStateFile, parseStateText } from "./state_file.ts";

Deno.test("parseStateText reads YAML and JSON; syntax errors name the file and line", () => {
  assertEquals(parseStateText("sources: []\n", "a.yaml"), { sources: [] });
  assertEquals(parseStateText('{"sources": []}', "a.json"), { sources: [] });
  assertThrows(
    () => parseStateText("sources: [\n  - x", "f.yaml"),
    (e: Error) =>
      e instanceof InvalidInputError && /f\.yaml: is not valid YAML at line \d+/.test(e.message),
  );
  assertThrows(() => parseStateText("{", "f.json"), /f\.json: is not valid JSON/);
});

Deno.test("checkStateText reports an empty file and schema errors with the file name", () => {
  const empty = checkStateText("", "e.yaml");
  assert(!empty.ok);
  assert(empty.message.startsWith("e.yaml: (top level) is empty"));
  const bad = checkStateText("sources:\n  - id: app\n", "b.yaml");
  assert(!bad.ok);
  assert(bad.message.includes("b.yaml: sources[0].paths is required but missing"), bad.message);
});

Deno.test("the example desired states are valid", async () => {
  for (const file of ["examples/fleet.yaml", "examples/fleet.json"]) {
    const state = await loadStateFile(new URL(`../${file}`, import.meta.url).pathname);
    assert(state.sources.length > 0, file);
  }
});
