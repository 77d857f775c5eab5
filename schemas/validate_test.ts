import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import {
  formatIssues,
  kafkaTopicIssue,
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

const nginx = {
  id: "nginx",
  paths: ["/var/log/nginx/access.log"],
  topic: "t",
  parser: {
    type: "regex",
    pattern: "^(?<ip>\\S+) \\S+ \\S+ \\[(?<time>[^\\]]+)\\] (?<status>\\d+)",
  },
  timestamp: { field: "time", formats: ["common_log"], timezone: "Europe/Berlin" },
  processors: [
    { type: "drop", pattern: "GET /healthz" },
    { type: "keep", field: "status", pattern: "^[45]" },
    { type: "redact", pattern: "token=\\w+", mask: "token=***" },
    { type: "convert", fields: { status: "integer" } },
    { type: "add_fields", fields: { team: "web", tier: 1, pci: false } },
  ],
};

Deno.test("validateState accepts timestamp and processors of every kind", () => {
  const result = validateState({ sources: [nginx] });
  assert(result.ok, JSON.stringify(!result.ok && result.errors));
  assert(validateSource(nginx).ok);
  assert(
    validateState({
      sources: [{
        id: "app",
        paths: ["/a"],
        topic: "t",
        parser: { type: "json" },
        timestamp: { field: "ts.unix", formats: ["epoch_ms", "rfc3339"], max_future_sec: 0 },
      }],
    }).ok,
  );
});

Deno.test("timestamp: a bad format, zone or field is named with its value", () => {
  const errors = errorsOf({
    sources: [
      {
        ...nginx,
        timestamp: {
          field: "when",
          formats: ["common_log", "%d/%b/%Y %Q", "RFC3339"],
          timezone: "CEST",
        },
      },
      { id: "b", paths: ["/b"], topic: "t", timestamp: { field: "time", formats: ["rfc3339"] } },
      {
        id: "c",
        paths: ["/d"],
        topic: "t",
        parser: { type: "json" },
        timestamp: { field: "t", formats: ["rfc3339"], timezone: "+02:00" },
      },
    ],
  });
  assertMatch(errors["sources[0].timestamp.formats[1]"], /^"%d\/%b\/%Y %Q" uses %Q, which is not/);
  assertMatch(errors["sources[0].timestamp.formats[2]"], /^"RFC3339" is neither a named format/);
  assertMatch(errors["sources[0].timestamp.timezone"], /^"CEST" looks like an abbreviation/);
  assertMatch(
    errors["sources[0].timestamp.field"],
    /^"when" is not a named group of parser.pattern \(groups: ip, time, status\)/,
  );
  assertMatch(errors["sources[1].timestamp.field"], /^"time" needs parsed fields: set parser/);
  assertMatch(errors["sources[2].timestamp.timezone"], /^"\+02:00" is a fixed offset/);
  const schema = errorsOf({
    sources: [{
      id: "c",
      paths: ["/c"],
      topic: "t",
      parser: { type: "json" },
      timestamp: { field: "", formats: [], max_future_sec: -1, zone: "UTC" },
    }],
  });
  assertEquals(schema["sources[0].timestamp.field"], "must not be empty");
  assertEquals(schema["sources[0].timestamp.formats"], "must have at least 1 item(s)");
  assertEquals(schema["sources[0].timestamp.max_future_sec"], "must be >= 0, got number -1");
  assertMatch(
    schema["sources[0].timestamp.zone"],
    /not a known field.*known fields: field, formats/,
  );
});

Deno.test("processors: unknown kinds, missing settings, bad regexes and types are named", () => {
  const errors = errorsOf({
    sources: [{
      id: "a",
      paths: ["/a"],
      topic: "t",
      processors: [
        { type: "grep", pattern: "x" },
        { type: "drop" },
        { type: "redact", pattern: "(unclosed" },
        { type: "convert", fields: { status: "int" } },
        { type: "add_fields", fields: { team: ["a"] } },
        { type: "keep", pattern: "x", field: "level" },
        { type: "convert", fields: {} },
        { type: "drop", pattern: "[", limit: 3 },
      ],
    }],
  });
  assertMatch(errors["sources[0].processors[0].type"], /must be one of "drop", "keep", "redact"/);
  assertEquals(errors["sources[0].processors[1].pattern"], "is required but missing");
  assertMatch(
    errors["sources[0].processors[3].fields.status"],
    /must be one of "integer", "float", "boolean", "string", got string "int"/,
  );
  assertEquals(
    errors["sources[0].processors[4].fields.team"],
    "must be a string or a number or true or false, got a list",
  );
  assertEquals(errors["sources[0].processors[6].fields"], "must have at least 1 field(s)");
  assertMatch(errors["sources[0].processors[7].limit"], /is not a known field/);
  // Semantic checks run once the schema holds.
  const semantic = errorsOf({
    sources: [{
      id: "a",
      paths: ["/a"],
      topic: "t",
      processors: [
        { type: "redact", pattern: "(unclosed" },
        { type: "keep", pattern: "x", field: "level" },
        { type: "convert", fields: { n: "integer" } },
        { type: "add_fields", fields: { n: "1" } },
        { type: "convert", fields: { n: "integer" } },
        { type: "drop", pattern: "x", field: "n" },
      ],
    }],
  });
  assertMatch(
    semantic["sources[0].processors[0].pattern"],
    /is not a valid regular expression: .*\/\(unclosed\//,
  );
  assertMatch(semantic["sources[0].processors[1].field"], /^"level" needs parsed fields/);
  assertMatch(semantic["sources[0].processors[2].fields"], /needs parsed fields/);
  assertEquals(Object.keys(semantic).length, 3, Object.keys(semantic).join());
});

Deno.test("validateEvent checks the timestamp and processors of a put_source", () => {
  const bad = validateEvent({
    seq: 1,
    id: "k",
    at: "2025-01-01T00:00:00Z",
    author: "ann",
    message: "why",
    base: 0,
    ops: [{
      op: "put_source",
      source: { ...nginx, timestamp: { field: "time", formats: ["%q"], timezone: "Mars/Base" } },
    }],
  });
  assert(!bad.ok);
  assertEquals(bad.errors.map((e) => e.path), [
    "ops[0].source.timestamp.formats[0]",
    "ops[0].source.timestamp.timezone",
  ]);
});

Deno.test("topics Kafka refuses are refused here, naming field and value", () => {
  const state = (topic: unknown) => ({ sources: [{ id: "a", paths: ["/x"], topic }] });
  for (const topic of [".", "..", "", "a".repeat(250), "logs/app", "logs app", "lögs", "a:b"]) {
    const errors = errorsOf(state(topic));
    assert(errors["sources[0].topic"], `${JSON.stringify(topic)}: ${JSON.stringify(errors)}`);
  }
  assertMatch(
    errorsOf(state(".."))["sources[0].topic"],
    /^string "\.\." is not allowed here: a Kafka topic uses letters, digits.*not '\.' or '\.\.'/,
  );
  // What Kafka takes passes: dots and underscores inside a name, three dots, 249 characters.
  for (const topic of ["...", ".a", "a..b", "_", "-", "A.b_c-1", "a".repeat(249)]) {
    assert(validateState(state(topic)).ok, topic);
  }
  // The same pattern holds for the defaults and in events.
  assertMatch(
    errorsOf({ defaults: { topic: "." }, sources: [] })["defaults.topic"],
    /is not allowed here/,
  );
  const event = validateEvent({
    seq: 1,
    id: "k",
    at: "2025-01-01T00:00:00Z",
    author: "a",
    message: "m",
    base: 0,
    ops: [{ op: "put_source", source: { id: "a", paths: ["/x"], topic: ".." } }],
  });
  assert(!event.ok);
  assertEquals(event.errors[0].path, "ops[0].source.topic");
});

Deno.test("two topics that collide when '.' and '_' are taken alike are refused", () => {
  const errors = errorsOf({
    defaults: { topic: "app_logs" },
    sources: [
      { id: "a", paths: ["/a"] },
      { id: "b", paths: ["/b"], topic: "app.logs" },
      { id: "c", paths: ["/c"], topic: "web.access" },
      { id: "d", paths: ["/d"], topic: "web_access" },
      { id: "e", paths: ["/e"], topic: "web.access" },
    ],
  });
  assertEquals(Object.keys(errors).sort(), ["sources[1].topic", "sources[3].topic"]);
  assertEquals(
    errors["sources[1].topic"],
    "\"app.logs\" collides with \"app_logs\" of defaults.topic: Kafka treats '.' and '_' alike " +
      "in topic names and refuses the second; spell both the same way",
  );
  assertMatch(
    errors["sources[3].topic"],
    /"web_access" collides with "web\.access" of sources\[2\]\.topic/,
  );
  // Within a replace event the paths say where.
  const event = validateEvent({
    seq: 1,
    id: "k",
    at: "2025-01-01T00:00:00Z",
    author: "a",
    message: "m",
    base: 0,
    ops: [{
      op: "replace",
      state: {
        sources: [{ id: "a", paths: ["/a"], topic: "x.y" }, {
          id: "b",
          paths: ["/b"],
          topic: "x_y",
        }],
      },
    }],
  });
  assert(!event.ok);
  assertEquals(event.errors.map((e) => e.path), ["ops[0].state.sources[1].topic"]);
});

Deno.test("kafkaTopicIssue says why Kafka refuses a name", () => {
  assertEquals(kafkaTopicIssue("sluice-agent-dead-letter"), undefined);
  assertEquals(kafkaTopicIssue(""), "must not be empty");
  assertEquals(kafkaTopicIssue(".."), "'..' is not allowed as a Kafka topic name");
  assertMatch(kafkaTopicIssue("a".repeat(250))!, /250 characters; a Kafka topic has at most 249/);
  assertMatch(kafkaTopicIssue("a/b")!, /has "\/"; a Kafka topic uses only/);
});
