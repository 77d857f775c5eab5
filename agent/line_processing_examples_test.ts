// examples/event-time.yaml (the examples of docs/agent.md, "Event time and processors") does what
// its comments say: each source's sample line through parser → event time → processors.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { validateState } from "../schemas/validate.ts";
import type { Source } from "../config_plane/types.ts";
import { compileEventTime } from "./event_time.ts";
import { compileLineParser } from "./line_parser.ts";
import { compileProcessors } from "./processors.ts";

const text = await Deno.readTextFile(new URL("../examples/event-time.yaml", import.meta.url));
const checked = validateState(parseYaml(text));
assert(checked.ok, JSON.stringify(!checked.ok && checked.errors));
const sources = new Map(checked.value.sources.map((s) => [s.id, s]));

/** A line through the source's compiled steps, as the agent runs them. */
function run(source: Source, line: string, readMs: number) {
  const parse = compileLineParser(source.parser);
  const time = compileEventTime(source.timestamp)!;
  const process = compileProcessors(source.processors)!;
  const parsed = parse?.(line);
  const event = time(parsed?.fields, readMs);
  return { parseFlag: parsed?.flag, event, ...process(line, parsed?.fields) };
}

Deno.test("example nginx-access: time from the line, probes dropped, tokens masked, numbers", () => {
  const nginx = sources.get("nginx-access")!;
  const read = Date.parse("2024-03-09T11:00:03Z");
  const out = run(
    nginx,
    '10.0.0.7 - - [09/Mar/2024:12:00:01 +0100] "GET /cart?token=abc HTTP/1.1" 200 512 "-" "curl/8.5"',
    read,
  );
  assertEquals(out.event, { time: Date.parse("2024-03-09T11:00:01Z") });
  assertEquals(out.drop, false);
  assertEquals(out.message.includes("/cart?token=*** HTTP/1.1"), true);
  assertEquals(out.parsed, {
    client: "10.0.0.7",
    user: "-",
    time: "09/Mar/2024:12:00:01 +0100",
    method: "GET",
    path: "/cart?token=***",
    status: 200,
    bytes: 512,
  });
  assertEquals(out.flags, []);
  const dash = run(
    nginx,
    '10.0.0.7 - - [09/Mar/2024:12:00:01 +0100] "HEAD / HTTP/1.1" 304 -',
    read,
  );
  assertEquals([dash.parsed?.status, dash.parsed?.bytes, dash.flags], [304, "-", [
    "convert_failed",
  ]]);
  const probe = run(
    nginx,
    '10.0.0.1 - - [09/Mar/2024:12:00:01 +0100] "GET /healthz HTTP/1.1" 200 2',
    read,
  );
  assert(probe.drop);
});

Deno.test("example checkout: epoch ms or RFC 3339, warnings only, cards masked, team added", () => {
  const checkout = sources.get("checkout")!;
  const read = Date.parse("2024-03-09T11:00:03Z");
  const out = run(
    checkout,
    '{"ts":1709982001123,"level":"WARN","msg":"paid","card":"4111 1111 1111 1111"}',
    read,
  );
  assertEquals(out.event, { time: 1709982001123 });
  assertEquals(out.drop, false);
  assertEquals(out.parsed, {
    ts: 1709982001123,
    level: "WARN",
    msg: "paid",
    card: "**** 1111",
    team: "payments",
    pci: true,
  });
  assert(!out.message.includes("4111"));
  const older = run(checkout, '{"ts":"2024-03-09T11:00:01Z","level":"error"}', read);
  assertEquals(older.event, { time: Date.parse("2024-03-09T11:00:01Z") });
  assert(run(checkout, '{"ts":1709982001123,"level":"info"}', read).drop);
  // A stack trace line is not JSON: kept, flagged by the parser, by the time, and by `keep`.
  const trace = run(checkout, "\tat com.shop.Pay.run(Pay.java:42)", read);
  assertEquals([trace.drop, trace.parseFlag, trace.event.flag, trace.flags], [
    false,
    "json_invalid",
    "timestamp_missing",
    ["keep_failed"],
  ]);
});

Deno.test("example syslog: the year from the read time, the zone's daylight saving", () => {
  const syslog = sources.get("syslog")!;
  const line = "Mar  9 12:00:01 web-1 sshd[812]: Accepted password: hunter2 for deploy";
  const out = run(syslog, line, Date.parse("2024-03-09T11:00:03Z"));
  assertEquals(out.event, { time: Date.parse("2024-03-09T11:00:01Z") }); // CET, UTC+1
  assertEquals(out.parsed?.pid, 812);
  assertEquals(out.parsed?.text, "Accepted password: *** for deploy");
  const summer = run(syslog, "Jul  9 12:00:01 web-1 cron: x", Date.parse("2024-07-09T10:00:03Z"));
  assertEquals(summer.event, { time: Date.parse("2024-07-09T10:00:01Z") }); // CEST, UTC+2
  const newYear = run(syslog, "Dec 31 23:59:59 web-1 cron: x", Date.parse("2025-01-01T00:00:30Z"));
  assertEquals(newYear.event, { time: Date.parse("2024-12-31T22:59:59Z") });
});
