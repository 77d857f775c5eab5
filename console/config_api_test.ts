import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { FieldErrors, validateText } from "./config_api.ts";

Deno.test("validate: a valid text counts its sources; an invalid one names every field", () => {
  assertEquals(
    validateText({
      text: "defaults: {topic: logs}\nsources: [{id: a, paths: [/a]}]",
      filename: "f.yaml",
    }),
    { ok: true, sources: 1, defaults: true },
  );
  throws(
    () => validateText({ text: "sources: [{id: Bad Id, paths: []}]", filename: "f.yaml" }),
    (error: unknown) =>
      error instanceof FieldErrors &&
      error.message.startsWith("f.yaml is not a valid desired state") &&
      error.errors.some((e) => e.path.startsWith("sources[0]")),
  );
});
