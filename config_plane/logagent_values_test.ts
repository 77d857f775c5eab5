import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { InvalidInputError } from "../core/errors.ts";
import { logagentOpsFromText } from "./logagent_values.ts";

const HOST_KEY = '[{"service":"nginx","log_path":"/var/log/nginx/access.log","topic":"web_log"}]';

Deno.test("logagent text: the host comes from a /logagent/<ip>/logconfig origin unless given", () => {
  const fromKey = logagentOpsFromText("logagent-host-key", HOST_KEY, {
    origin: "/logagent/10.0.0.5/logconfig",
  });
  assertEquals(fromKey.map((o) => o.op === "put_source" && o.source.id), ["nginx-10.0.0.5"]);
  const given = logagentOpsFromText("logagent-host-key", HOST_KEY, {
    origin: "/logagent/10.0.0.5/logconfig",
    host: "web-1",
  });
  assertEquals(given.map((o) => o.op === "put_source" && o.source.hosts), [{ names: ["web-1"] }]);
  const pasted = logagentOpsFromText("logagent-host-key", HOST_KEY, { origin: "pasted" });
  assertEquals(pasted.map((o) => o.op === "put_source" && [o.source.id, o.source.hosts]), [
    ["nginx", undefined],
  ]);
});

Deno.test("logagent text: text that is not JSON is refused naming where it came from", () => {
  assertThrows(
    () => logagentOpsFromText("logagent-list", "[{path: x}]", { origin: "pasted" }),
    (e: Error) =>
      e instanceof InvalidInputError && e.message.startsWith("pasted: is not valid JSON"),
  );
});
