import { equal, notEqual } from "node:assert/strict";
import { summarizeChange, writeId } from "./config_api.ts";

Deno.test("change summary: rollback, replace, puts, deletes, defaults", () => {
  equal(summarizeChange([], 3), "rollback to 3");
  equal(
    summarizeChange([
      { op: "set_defaults", defaults: {} },
      { op: "delete_source", id: "old" },
      { op: "put_source", source: { id: "a", paths: ["/a"] } },
      { op: "put_source", source: { id: "b", paths: ["/b"] } },
    ]),
    "put a, b; delete old; defaults",
  );
  equal(summarizeChange([{ op: "replace", state: { sources: [] } }]), "replace all");
});

Deno.test("write id: the same change once; another base, author or reason is another change", () => {
  const ops = [{ op: "delete_source" as const, id: "a" }];
  equal(writeId(1, ops, "ann", "why"), writeId(1, ops, "ann", "why"));
  notEqual(writeId(1, ops, "ann", "why"), writeId(2, ops, "ann", "why"));
  notEqual(writeId(1, ops, "ann", "why"), writeId(1, ops, "bob", "why"));
  notEqual(writeId(1, ops, "ann", "why"), writeId(1, ops, "ann", "other"));
  equal(writeId(1, ops, "ann", "why").startsWith("console-"), true);
});
