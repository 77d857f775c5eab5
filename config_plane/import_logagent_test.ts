import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { InvalidInputError } from "../core/errors.ts";
import { validateState } from "../schemas/validate.ts";
import { foldOps } from "./fold.ts";
import { hostFromLogagentKey, importLogagent } from "./import_logagent.ts";

Deno.test("logagent-host-key entries become sources for that host, send_rate as a rate", () => {
  const ops = importLogagent("logagent-host-key", [
    { service: "nginx", log_path: "/var/log/nginx/access.log", topic: "web_log", send_rate: 1000 },
    { service: "My Redis", log_path: "/var/log/redis.log", topic: "redis_log", send_rate: 0 },
  ], { host: "10.0.0.5" });
  assertEquals(ops, [
    {
      op: "put_source",
      source: {
        id: "nginx-10.0.0.5",
        paths: ["/var/log/nginx/access.log"],
        topic: "web_log",
        start_at: "end",
        fields: { service: "nginx" },
        rate: { lines_per_sec: 1000 },
        hosts: { names: ["10.0.0.5"] },
      },
    },
    {
      op: "put_source",
      source: {
        id: "my-redis-10.0.0.5",
        paths: ["/var/log/redis.log"],
        topic: "redis_log",
        start_at: "end",
        fields: { service: "My Redis" },
        hosts: { names: ["10.0.0.5"] },
      },
    },
  ]);
  assertEquals(validateState(foldOps(ops, { sources: [] })).ok, true);
});

Deno.test("logagent-list entries get ids from topic and file name, unique", () => {
  const ops = importLogagent("logagent-list", [
    { path: "/var/log/nginx/access.log", topic: "web_log" },
    { path: "/srv/other/access.log", topic: "web_log" },
  ]);
  assertEquals(ops.map((o) => o.op === "put_source" ? o.source.id : ""), [
    "web_log-access",
    "web_log-access-2",
  ]);
  assertEquals(validateState(foldOps(ops, { sources: [] })).ok, true);
});

Deno.test("importLogagent names the entry and field that is wrong", () => {
  assertThrows(
    () => importLogagent("logagent-list", { path: "/x" }, { origin: "k" }),
    InvalidInputError,
  );
  assertThrows(
    () =>
      importLogagent("logagent-list", [{ path: "/a", topic: "t" }, { path: "/b" }], {
        origin: "/cfg",
      }),
    (e: Error) =>
      e instanceof InvalidInputError &&
      e.message.includes("/cfg: [1].topic must be a non-empty string"),
  );
  assertThrows(
    () =>
      importLogagent("logagent-host-key", [{
        service: "a",
        log_path: "/a",
        topic: "t",
        send_rate: "fast",
      }]),
    /\[0\]\.send_rate must be a number/,
  );
});

Deno.test("hostFromLogagentKey reads the <ip> of /logagent/<ip>/logconfig", () => {
  assertEquals(hostFromLogagentKey("/logagent/10.0.0.5/logconfig"), "10.0.0.5");
  assertEquals(hostFromLogagentKey("/other/key"), undefined);
});
