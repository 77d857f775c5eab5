import { deepStrictEqual as assertEquals, equal, notEqual, ok as assert } from "node:assert/strict";
import { changeId, conflictMessage, summarizeChange, summarizeRevision } from "./change.ts";
import type { ConfigEvent } from "./types.ts";

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

Deno.test("change id: the same change once; another base, author or reason is another change", () => {
  const ops = [{ op: "delete_source" as const, id: "a" }];
  const apply = (base: number) => ({ kind: "apply" as const, base, ops });
  equal(changeId(apply(1), "ann", "why"), changeId(apply(1), "ann", "why"));
  notEqual(changeId(apply(1), "ann", "why"), changeId(apply(2), "ann", "why"));
  notEqual(changeId(apply(1), "ann", "why"), changeId(apply(1), "bob", "why"));
  notEqual(changeId(apply(1), "ann", "why"), changeId(apply(1), "ann", "other"));
  assert(/^apply-[0-9a-f]{24}$/.test(changeId(apply(1), "ann", "why")));
});

Deno.test("change id: a rollback or an import is told apart by its target or its origin", () => {
  const ops = [{ op: "replace" as const, state: { sources: [] } }];
  const rollback = (to: number) => ({ kind: "rollback" as const, base: 4, ops, rollback_of: to });
  notEqual(changeId(rollback(1), "ann", "why"), changeId(rollback(2), "ann", "why"));
  assert(changeId(rollback(1), "ann", "why").startsWith("rollback-"));
  const put = [{ op: "put_source" as const, source: { id: "a", paths: ["/a"], topic: "t" } }];
  const from = (origin: string) => ({
    kind: "import" as const,
    base: 4,
    ops: put,
    import_of: origin,
  });
  notEqual(
    changeId(from("logagent-list:/a"), "ann", "why"),
    changeId(from("logagent-list:/b"), "ann", "why"),
  );
  assert(changeId(from("logagent-list:/a"), "ann", "why").startsWith("import-"));
});

Deno.test("change id: an apply keeps the key `config:apply` derived before (a retry after an upgrade)", () => {
  // sha256 of canonicalJson({author, base, message, ops}), as config_plane/main.ts computed it.
  const ops = [{ op: "delete_source" as const, id: "a" }];
  equal(changeId({ kind: "apply", base: 1, ops }, "ann", "why"), "apply-38773420e68be93d65d0cfa4");
});

Deno.test("conflict message: planned base, new head, who moved it, what to do", () => {
  const latest = { author: "carol", at: "2025-01-01T00:00:00.000Z", message: "carol was faster" };
  const text = conflictMessage(1, 2, latest);
  assert(
    text.includes(
      "planned against revision 1, but the head is now revision 2 by carol at " +
        '2025-01-01T00:00:00.000Z ("carol was faster")',
    ),
    text,
  );
  assert(text.includes("Nothing was appended; re-run the command"), text);
  assert(conflictMessage(0, 3).includes("the head is now revision 3. Nothing"));
});

Deno.test("history row: what the event says, the change in words, rollback and import kept", () => {
  const event: ConfigEvent = {
    seq: 5,
    id: "import-x",
    at: "2025-01-01T00:00:00.000Z",
    author: "ann",
    message: "move over",
    base: 4,
    ops: [{ op: "put_source", source: { id: "a", paths: ["/a"], topic: "t" } }],
    import_of: "logagent-list:pasted",
  };
  assertEquals(summarizeRevision(event), {
    seq: 5,
    at: "2025-01-01T00:00:00.000Z",
    author: "ann",
    message: "move over",
    base: 4,
    change: "put a",
    import_of: "logagent-list:pasted",
  });
  const rollback = { ...event, import_of: undefined, rollback_of: 2 };
  delete rollback.import_of;
  assertEquals(summarizeRevision(rollback).change, "rollback to 2");
  assertEquals(summarizeRevision(rollback).rollback_of, 2);
});

Deno.test("history row: an event written past append that is no valid event is shown as refused", () => {
  // What `history` returns for a foreign write; the console's history threw on `ops.some` here.
  const foreign = { seq: 3, ops: "not a list" } as unknown as ConfigEvent;
  assertEquals(summarizeRevision(foreign), {
    seq: 3,
    at: "?",
    author: "?",
    message: "",
    base: 2,
    change: "REFUSED: not a valid event, agents skip it",
    refused: true,
  });
});
