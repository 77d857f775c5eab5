import { deepStrictEqual as assertEquals, notStrictEqual, ok as assert } from "node:assert/strict";
import {
  canonicalJson,
  DEFAULT_MAX_LINE_BYTES,
  matchesHost,
  resolveSource,
  sourcesForHost,
  specHash,
} from "./source.ts";
import type { DesiredState } from "./types.ts";

Deno.test("resolveSource fills every default and lets the source's own values win", () => {
  const resolved = resolveSource(
    { id: "app", paths: ["/a.log"], fields: { team: "pay" }, multiline: { start_pattern: "^\\S" } },
    {
      topic: "logs",
      rate: { lines_per_sec: 50 },
      start_at: "beginning",
      fields: { env: "prod", team: "x" },
    },
  );
  assertEquals(resolved, {
    id: "app",
    paths: ["/a.log"],
    exclude: [],
    topic: "logs",
    rate: { lines_per_sec: 50, burst: 50 },
    start_at: "beginning",
    parser: { type: "none" },
    fields: { env: "prod", team: "pay" },
    enabled: true,
    max_line_bytes: DEFAULT_MAX_LINE_BYTES,
    multiline: { start_pattern: "^\\S", max_lines: 500, timeout_ms: 1000 },
  });
  const own = resolveSource({
    id: "b",
    paths: ["/b"],
    topic: "t",
    start_at: "end",
    rate: { lines_per_sec: 5, burst: 9 },
  }, {
    topic: "logs",
    start_at: "beginning",
  });
  assertEquals([own.topic, own.start_at, own.rate], ["t", "end", { lines_per_sec: 5, burst: 9 }]);
  assertEquals(resolveSource({ id: "c", paths: ["/c"] }).start_at, "end");
});

Deno.test("resolveSource keeps timestamp and processors, processors in their order", () => {
  const timestamp = { field: "time", formats: ["syslog"], timezone: "Europe/Berlin" };
  const processors = [
    { type: "redact" as const, pattern: "\\d{16}" },
    { type: "drop" as const, pattern: "healthz" },
  ];
  const resolved = resolveSource({ id: "a", paths: ["/a"], timestamp, processors });
  assertEquals(resolved.timestamp, timestamp);
  assertEquals(resolved.processors, processors);
  assertEquals("processors" in resolveSource({ id: "a", paths: ["/a"], processors: [] }), false);
  const swapped = resolveSource({ id: "a", paths: ["/a"], processors: [...processors].reverse() });
  notStrictEqual(specHash(swapped), specHash(resolved));
});

Deno.test("matchesHost: no selector matches all; names are globs (any); labels must all match", () => {
  assert(matchesHost(undefined, "anything", {}));
  assert(matchesHost({}, "anything", {}));
  assert(matchesHost({ names: ["db-1", "web-*"] }, "web-12", {}));
  assert(!matchesHost({ names: ["web-*"] }, "db-1", {}));
  assert(matchesHost({ names: ["web-?"] }, "web-1", {}));
  assert(!matchesHost({ names: ["web-?"] }, "web-12", {}));
  assert(!matchesHost({ names: ["web.1"] }, "webx1", {}), "a dot is literal, not a regex wildcard");
  assert(
    matchesHost({ labels: { env: "prod", role: "web" } }, "h", {
      env: "prod",
      role: "web",
      zone: "a",
    }),
  );
  assert(!matchesHost({ labels: { env: "prod", role: "web" } }, "h", { env: "prod" }));
  assert(!matchesHost({ names: ["web-*"], labels: { env: "prod" } }, "web-1", { env: "dev" }));
});

Deno.test("sourcesForHost keeps enabled, matching sources, resolved, sorted by id", () => {
  const state: DesiredState = {
    defaults: { topic: "logs" },
    sources: [
      { id: "web", paths: ["/w"], hosts: { labels: { role: "web" } } },
      { id: "all", paths: ["/all"] },
      { id: "off", paths: ["/off"], enabled: false },
      { id: "db", paths: ["/d"], hosts: { names: ["db-*"] } },
    ],
  };
  const web = sourcesForHost(state, "web-1", { role: "web" });
  assertEquals(web.map((s) => s.id), ["all", "web"]);
  assertEquals(web[0].topic, "logs");
  assertEquals(sourcesForHost(state, "db-2", {}).map((s) => s.id), ["all", "db"]);
});

Deno.test("specHash ignores key order, hosts and enabled; changes with anything the task does", () => {
  const a = resolveSource({ id: "a", paths: ["/a"], topic: "t", fields: { x: "1", y: "2" } });
  const b = resolveSource({ fields: { y: "2", x: "1" }, topic: "t", paths: ["/a"], id: "a" });
  assertEquals(specHash(a), specHash(b));
  assertEquals(specHash(a), specHash({ ...a, hosts: { names: ["h"] }, enabled: false }));
  assertEquals(
    specHash(a),
    specHash(
      resolveSource({
        id: "a",
        paths: ["/a"],
        topic: "t",
        fields: { x: "1", y: "2" },
        enabled: true,
        start_at: "end",
      }),
    ),
  );
  for (
    const changed of [
      { ...a, topic: "u" },
      { ...a, paths: ["/b"] },
      {
        ...a,
        rate: { lines_per_sec: 1, burst: 1 },
      },
      { ...a, fields: { x: "1" } },
      {
        ...a,
        timestamp: { field: "time", formats: ["rfc3339"] },
      },
      { ...a, processors: [{ type: "drop" as const, pattern: "x" }] },
    ]
  ) {
    notStrictEqual(specHash(changed), specHash(a));
  }
  assert(/^[0-9a-f]{16}$/.test(specHash(a)));
});

Deno.test("canonicalJson sorts keys at every level and drops undefined", () => {
  assertEquals(
    canonicalJson({ b: [{ d: 1, c: 2 }], a: undefined, e: null }),
    '{"b":[{"c":2,"d":1}],"e":null}',
  );
});
