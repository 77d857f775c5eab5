import { deepStrictEqual as assertEquals, equal, ok as assert } from "node:assert/strict";
import {
  authorOf,
  checkApplyRequest,
  checkImportApplyRequest,
  checkImportRequest,
  checkPlanRequest,
  checkRevisionParam,
  checkRollbackRequest,
  MAX_STATE_TEXT,
} from "./requests.ts";

function paths(result: { ok: boolean; errors?: { path: string }[] }): string[] {
  return result.ok ? [] : result.errors!.map((e) => e.path);
}

Deno.test("plan request: text is required, the filename defaults to YAML", () => {
  assertEquals(checkPlanRequest({ text: "sources: []" }), {
    ok: true,
    value: { text: "sources: []", filename: "pasted.yaml" },
  });
  assertEquals(checkPlanRequest({ text: "{}", filename: " fleet.json " }), {
    ok: true,
    value: { text: "{}", filename: "fleet.json" },
  });
  assertEquals(paths(checkPlanRequest({ text: "  " })), ["text"]);
  assertEquals(paths(checkPlanRequest({ text: 5 })), ["text"]);
  assertEquals(paths(checkPlanRequest({ text: "x".repeat(MAX_STATE_TEXT + 1) })), ["text"]);
  assertEquals(paths(checkPlanRequest([1])), ["(top level)"]);
  assertEquals(paths(checkPlanRequest(null)), ["(top level)"]);
});

Deno.test("apply request: text, message and base are required; every missing field is named", () => {
  assertEquals(paths(checkApplyRequest({})), ["text", "message", "base"]);
  assertEquals(paths(checkApplyRequest({ text: "sources: []", message: " ", base: 1 })), [
    "message",
  ]);
  assertEquals(paths(checkApplyRequest({ text: "sources: []", message: "m", base: -1 })), ["base"]);
  assertEquals(paths(checkApplyRequest({ text: "sources: []", message: "m", base: 1.5 })), [
    "base",
  ]);
  assertEquals(
    paths(checkApplyRequest({ text: "sources: []", message: "m", base: 0, author: 7 })),
    ["author"],
  );
  const ok = checkApplyRequest({ text: "sources: []", message: " why ", base: "3", author: "ann" });
  assertEquals(ok, {
    ok: true,
    value: {
      text: "sources: []",
      filename: "pasted.yaml",
      message: "why",
      base: 3,
      author: "ann",
    },
  });
});

Deno.test("rollback request: revision and message required, base optional", () => {
  assertEquals(paths(checkRollbackRequest({})), ["revision", "message"]);
  assertEquals(checkRollbackRequest({ revision: 2, message: "undo" }), {
    ok: true,
    value: { revision: 2, message: "undo", base: undefined, author: undefined },
  });
  assertEquals(paths(checkRollbackRequest({ revision: 2, message: "undo", base: "x" })), ["base"]);
  const withBase = checkRollbackRequest({ revision: 0, message: "empty it", base: 4 });
  assert(withBase.ok && withBase.value.base === 4 && withBase.value.revision === 0);
});

Deno.test("revision parameters are whole numbers ≥ 0", () => {
  assertEquals(checkRevisionParam("7", "from"), { ok: true, value: 7 });
  assertEquals(checkRevisionParam("0", "from"), { ok: true, value: 0 });
  for (const bad of [null, "", "-1", "1.5", "abc"]) {
    assertEquals(paths(checkRevisionParam(bad, "to")), ["to"], String(bad));
  }
});

Deno.test("the author: basic-auth user wins, then the request's author, then 'console'", () => {
  equal(authorOf("bob", "ann"), "bob");
  equal(authorOf(undefined, "ann"), "ann");
  equal(authorOf(undefined, undefined), "console");
});

Deno.test("import request: a known format and exactly one of text and key", () => {
  assertEquals(checkImportRequest({ format: "logagent-list", key: " /logagent/collect " }), {
    ok: true,
    value: { format: "logagent-list", key: "/logagent/collect" },
  });
  assertEquals(
    checkImportRequest({
      format: "logagent-host-key",
      text: "[]",
      host: " 10.0.0.5 ",
      filename: "web.json",
    }),
    {
      ok: true,
      value: { format: "logagent-host-key", text: "[]", host: "10.0.0.5", filename: "web.json" },
    },
  );
  assertEquals(paths(checkImportRequest({ format: "yaml", key: "/k" })), ["format"]);
  assertEquals(paths(checkImportRequest({ format: "logagent-list" })), ["text"], "neither");
  assertEquals(
    paths(checkImportRequest({ format: "logagent-list", text: "[]", key: "/k" })),
    ["text"],
    "both",
  );
  assertEquals(paths(checkImportRequest({ format: "logagent-list", key: 7 })), ["key"]);
  assertEquals(
    paths(checkImportRequest({ format: "logagent-host-key", key: "/k", host: "a b" })),
    ["host"],
  );
  assertEquals(paths(checkImportRequest("x")), ["(top level)"]);
});

Deno.test("import apply request: base is required, the message is optional", () => {
  const ok = checkImportApplyRequest({
    format: "logagent-list",
    key: "/k",
    base: "4",
    message: " move over ",
    author: "ann",
  });
  assertEquals(ok, {
    ok: true,
    value: { format: "logagent-list", key: "/k", base: 4, message: "move over", author: "ann" },
  });
  const noMessage = checkImportApplyRequest({ format: "logagent-list", key: "/k", base: 0 });
  equal(noMessage.ok && noMessage.value.message, undefined);
  assertEquals(paths(checkImportApplyRequest({ format: "logagent-list", key: "/k" })), ["base"]);
  assertEquals(
    paths(checkImportApplyRequest({ format: "logagent-list", key: "/k", base: 1, message: 3 })),
    ["message"],
  );
});
