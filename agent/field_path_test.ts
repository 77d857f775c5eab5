import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { compileFieldPath } from "./field_path.ts";

Deno.test("a plain name finds only an own key", () => {
  const at = compileFieldPath("status");
  const fields = { status: 200 };
  assertEquals(at(fields), { holder: fields, key: "status" });
  assertEquals(at({}), undefined);
  assertEquals(compileFieldPath("constructor")({}), undefined);
  assertEquals(compileFieldPath("toString")({ a: 1 }), undefined);
});

Deno.test("a dotted name walks nested objects; a whole-name key wins", () => {
  const at = compileFieldPath("http.response.status");
  const nested = { http: { response: { status: 404 } } };
  const slot = at(nested)!;
  assertEquals(slot.holder[slot.key], 404);
  assert(slot.holder === nested.http.response);
  const flat = { "http.response.status": 500, http: { response: { status: 404 } } };
  assertEquals(at(flat)!.key, "http.response.status");
  assertEquals(at({ http: { response: "x" } }), undefined);
  assertEquals(at({ http: [{ response: { status: 1 } }] }), undefined);
  assertEquals(at({ http: null }), undefined);
  assertEquals(compileFieldPath("a.__proto__")({ a: {} }), undefined);
});

Deno.test("names with empty segments are looked up whole", () => {
  assertEquals(compileFieldPath("a..b")({ "a..b": 1 })!.key, "a..b");
  assertEquals(compileFieldPath(".a")({ a: 1 }), undefined);
});
