import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import {
  formatIssues,
  validateAgentStatus,
  validateEvent,
  validateSource,
  validateState,
} from "./validate.ts";

const good = {
  defaults: { topic: "logs", rate: { lines_per_sec: 100 } },
  sources: [
    {
      id: "nginx-access",
      paths: ["/var/log/nginx/*.log"],
      start_at: "beginning",
      multiline: { start_pattern: "^\\S", max_lines: 10, timeout_ms: 500 },
      parser: { type: "regex", pattern: "^(?<ip>\\S+)" },
      fields: { service: "nginx" },
      hosts: { names: ["web-*"], labels: { env: "prod" } },
      enabled: true,
      max_line_bytes: 4096,
    },
    { id: "app", paths: ["/var/log/app.json"], parser: { type: "json" }, topic: "app_logs" },
  ],
};

function errorsOf(value: unknown): Record<string, string> {
  const result = validateState(value);
  assert(!result.ok, "expected the state to be invalid");
  return Object.fromEntries(result.errors.map((e) => [e.path, e.message]));
}

Deno.test("validateState accepts a complete state and returns it typed", () => {
  const result = validateState(good);
  assert(result.ok);
  assertEquals(result.value.sources.length, 2);
});

Deno.test("validateState names the path and the problem of each bad field", () => {
  const errors = errorsOf({
    sources: [{ id: "Bad Id", path: ["/x"], rate: { lines_per_sec: "fast" }, start_at: "start" }],
  });
  assertMatch(errors["sources[0].id"], /lowercase letters/);
  assertEquals(errors["sources[0].paths"], "is required but missing");
  assertMatch(errors["sources[0].path"], /not a known field; did you mean "paths"\?/);
  assertEquals(errors["sources[0].rate.lines_per_sec"], 'must be a number, got string "fast"');
  assertEquals(
    errors["sources[0].start_at"],
    'must be one of "end", "beginning", got string "start"',
  );
});

Deno.test("validateState rejects an unknown parser and a regex parser without pattern", () => {
  const errors = errorsOf({
    defaults: { topic: "t" },
    sources: [
      { id: "a", paths: ["/a"], parser: { type: "xml" } },
      { id: "b", paths: ["/b"], parser: { type: "regex" } },
    ],
  });
  assertMatch(errors["sources[0].parser.type"], /must be one of "none", "json", "regex"/);
  assertEquals(errors["sources[1].parser.pattern"], "is required but missing");
});

Deno.test("validateState checks what a schema cannot: duplicate ids, missing topic, regexes", () => {
  const errors = errorsOf({
    sources: [
      { id: "a", paths: ["/a"], topic: "t", parser: { type: "regex", pattern: "(" } },
      { id: "a", paths: ["/b"], topic: "t", parser: { type: "regex", pattern: "\\d+" } },
      { id: "c", paths: ["/c"], multiline: { start_pattern: "[" } },
    ],
  });
  assertMatch(errors["sources[0].parser.pattern"], /not a valid regular expression/);
  assertMatch(errors["sources[1].id"], /duplicates id "a" of sources\[0\]/);
  assertMatch(errors["sources[1].parser.pattern"], /named group/);
  assertMatch(errors["sources[2].topic"], /no defaults.topic/);
  assertMatch(errors["sources[2].multiline.start_pattern"], /not a valid regular expression/);
});

Deno.test("validateState: a topic in the defaults is enough; the top level must be an object", () => {
  assert(validateState({ defaults: { topic: "t" }, sources: [{ id: "a", paths: ["/a"] }] }).ok);
  assertEquals(errorsOf([])["(top level)"], "must be an object, got a list");
  assertEquals(errorsOf({})["sources"], "is required but missing");
});

Deno.test("validateSource and validateAgentStatus", () => {
  assert(validateSource({ id: "a", paths: ["/a"] }).ok);
  assert(!validateSource({ id: "a", paths: ["/a"], rate: { lines_per_sec: 0 } }).ok);
  const now = new Date().toISOString();
  const agent = {
    agent_id: "web-1",
    host: "web-1",
    labels: { role: "web" },
    seq: 3,
    started_at: now,
    heartbeat_at: now,
    version: "0.1.0",
    sources: { app: { state: "running", files: 2, lag_bytes: 0 } },
  };
  assert(validateAgentStatus(agent).ok);
  const bad = validateAgentStatus({ ...agent, sources: { app: { state: "sleeping", files: 1 } } });
  assert(!bad.ok);
  assertEquals(bad.errors[0].path, "sources.app.state");
});

Deno.test("validateEvent checks ops by kind and the time", () => {
  const event = {
    seq: 2,
    id: "k",
    at: "2025-01-01T00:00:00Z",
    author: "ann",
    message: "why",
    base: 1,
    ops: [
      { op: "put_source", source: { id: "a", paths: ["/a"] } },
      { op: "delete_source", id: "b" },
      { op: "set_defaults", defaults: { topic: "t" } },
      { op: "replace", state: { sources: [] } },
    ],
  };
  assert(validateEvent(event).ok);
  const bad = validateEvent({
    ...event,
    at: "yesterday",
    ops: [{ op: "zap" }, { op: "delete_source" }],
  });
  assert(!bad.ok);
  const paths = bad.errors.map((e) => e.path);
  assert(paths.includes("ops[0].op"), paths.join());
  assert(paths.includes("ops[1].id"), paths.join());
  const late = validateEvent({ ...event, at: "yesterday" });
  assert(!late.ok);
  assertEquals(late.errors[0].path, "at");
});

Deno.test("formatIssues prefixes every line with the origin", () => {
  assertEquals(
    formatIssues([{ path: "a", message: "is bad" }, { path: "b", message: "too" }], "f.yaml"),
    "f.yaml: a is bad\nf.yaml: b too",
  );
});
