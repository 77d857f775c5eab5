/**
 * Micro-benchmark of the per-line work of issue 19 (`deno bench bench/event_time_bench.ts`): the
 * event time of each format, the same done with Temporal alone, parsing, and the processors. Each
 * bench cycles through 1,000 different lines a minute apart, as a log file would hold them. The
 * results are checked once, so a fast-but-wrong parser cannot pass for a fast one. Figures are in
 * docs/decisions/0004-event-time.md.
 * @module
 */
import { compileEventTime } from "../agent/event_time.ts";
import { compileLineParser } from "../agent/line_parser.ts";
import { compileProcessors } from "../agent/processors.ts";

const N = 1000;
const START = Date.parse("2024-03-09T08:00:00Z");
const READ = START + N * 60_000;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** The i-th time as fields in UTC+1 (the wall clock of Berlin in March). */
function wall(i: number) {
  const d = new Date(START + i * 60_000 + 3_600_000);
  return {
    y: d.getUTCFullYear(),
    mo: d.getUTCMonth() + 1,
    d: d.getUTCDate(),
    h: d.getUTCHours(),
    mi: d.getUTCMinutes(),
    s: d.getUTCSeconds(),
  };
}
const values = {
  rfc3339Z: Array.from({ length: N }, (_, i) => new Date(START + i * 60_000 + 123).toISOString()),
  rfc3339Local: Array.from({ length: N }, (_, i) => {
    const w = wall(i);
    return `${w.y}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}:${pad(w.s)}.123`;
  }),
  commonLog: Array.from({ length: N }, (_, i) => {
    const w = wall(i);
    return `${pad(w.d)}/${MONTHS[w.mo - 1]}/${w.y}:${pad(w.h)}:${pad(w.mi)}:${pad(w.s)} +0100`;
  }),
  syslog: Array.from({ length: N }, (_, i) => {
    const w = wall(i);
    return `${MONTHS[w.mo - 1]} ${String(w.d).padStart(2, " ")} ${pad(w.h)}:${pad(w.mi)}:${
      pad(w.s)
    }`;
  }),
  epochMs: Array.from({ length: N }, (_, i) => START + i * 60_000),
  python: Array.from({ length: N }, (_, i) => {
    const w = wall(i);
    return `${w.y}-${pad(w.mo)}-${pad(w.d)} ${pad(w.h)}:${pad(w.mi)}:${pad(w.s)},123`;
  }),
};

const readers = {
  rfc3339Z: compileEventTime({ field: "t", formats: ["rfc3339"] })!,
  rfc3339Local: compileEventTime({
    field: "t",
    formats: ["rfc3339"],
    timezone: "Europe/Berlin",
  })!,
  commonLog: compileEventTime({ field: "t", formats: ["common_log"] })!,
  syslog: compileEventTime({ field: "t", formats: ["syslog"], timezone: "Europe/Berlin" })!,
  epochMs: compileEventTime({ field: "t", formats: ["epoch_ms"] })!,
  python: compileEventTime({
    field: "t",
    formats: ["%Y-%m-%d %H:%M:%S,%f"],
    timezone: "Europe/Berlin",
  })!,
};

// Checked once: every reader gives the instant the value was made from.
for (const [name, read] of Object.entries(readers)) {
  const list = values[name as keyof typeof values];
  for (let i = 0; i < N; i++) {
    const want = START + i * 60_000 + (name === "rfc3339Z" || name.startsWith("rfc3339L") ||
        name === "python"
      ? 123
      : 0);
    const got = read({ t: list[i] }, READ);
    if (got.flag || got.time !== want) {
      throw new Error(`${name}[${i}] ${list[i]}: got ${JSON.stringify(got)}, want ${want}`);
    }
  }
}

let i = 0;
const next = () => (i = (i + 1) % N);

for (const [name, read] of Object.entries(readers)) {
  const list = values[name as keyof typeof values];
  Deno.bench({
    name: `event time: ${name}`,
    group: "event time",
    baseline: name === "rfc3339Z",
    fn() {
      read({ t: list[next()] }, READ);
    },
  });
}

// The same with Temporal alone, as the choice in the decision record was made against.
Deno.bench({
  name: "Temporal.Instant.from (rfc3339Z)",
  group: "event time",
  fn() {
    Temporal.Instant.from(values.rfc3339Z[next()]).epochMilliseconds;
  },
});
Deno.bench({
  name: "Temporal PlainDateTime → Europe/Berlin (rfc3339Local)",
  group: "event time",
  fn() {
    Temporal.PlainDateTime.from(values.rfc3339Local[next()]).toZonedDateTime("Europe/Berlin")
      .epochMilliseconds;
  },
});
Deno.bench({
  name: "Date.parse (rfc3339Z; no zones, lenient)",
  group: "event time",
  fn() {
    Date.parse(values.rfc3339Z[next()]);
  },
});

// ---- parsing and processors on an nginx access line and a JSON application line -------------

const NGINX_PATTERN = '^(?<ip>\\S+) \\S+ (?<user>\\S+) \\[(?<time>[^\\]]+)\\] "(?<method>\\S+) ' +
  '(?<path>\\S+) [^"]*" (?<status>\\d{3}) (?<bytes>\\d+|-) "(?<referer>[^"]*)" "(?<agent>[^"]*)"';
const nginxLines = values.commonLog.map((t, k) =>
  `10.0.${k % 256}.7 - - [${t}] "GET /cart/${k}?page=2 HTTP/1.1" 200 ${
    512 + k
  } "https://shop.example/" "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"`
);
const jsonLines = values.rfc3339Z.map((t, k) =>
  JSON.stringify({
    time: t,
    level: k % 10 === 0 ? "warn" : "info",
    logger: "checkout.payment",
    msg: `order ${k} paid`,
    order_id: 100_000 + k,
    duration_ms: String(12 + (k % 50)),
    user: { id: `u${k}`, country: "DE" },
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  })
);
const regex = compileLineParser({ type: "regex", pattern: NGINX_PATTERN })!;
const json = compileLineParser({ type: "json" })!;
const redactNoMatch = compileProcessors([
  { type: "redact", pattern: "\\b(?:\\d[ -]?){12}(\\d{4})\\b", mask: "[card $1]" },
])!;
const nginxSteps = compileProcessors([
  { type: "drop", pattern: "GET /healthz" },
  { type: "redact", pattern: "token=[^&\\s]+", mask: "token=***" },
  { type: "convert", fields: { status: "integer", bytes: "integer" } },
])!;
const redactTokenNoMatch = compileProcessors([
  { type: "redact", pattern: "token=[^&\\s]+", mask: "token=***" },
])!;
const convertOnly = compileProcessors([
  { type: "convert", fields: { status: "integer", bytes: "integer" } },
])!;
const nginxTime = compileEventTime({ field: "time", formats: ["common_log"] })!;
const jsonTime = compileEventTime({ field: "time", formats: ["rfc3339"] })!;

if (regex(nginxLines[0]).fields?.status !== "200" || !json(jsonLines[0]).fields) {
  throw new Error("the bench lines do not parse");
}

Deno.bench({
  name: "parse: regex (nginx, 10 groups)",
  group: "line",
  baseline: true,
  fn() {
    regex(nginxLines[next()]);
  },
});
Deno.bench({
  name: "parse: json (8 fields, one nested)",
  group: "line",
  fn() {
    json(jsonLines[next()]);
  },
});
// Parsed once: with nothing to mask, redact changes nothing, so the same fields serve every run.
const nginxFields = nginxLines.map((l) => regex(l).fields);
const jsonFields = jsonLines.map((l) => json(l).fields);
Deno.bench({
  name: "redact (card), no match: nginx message + 10 fields",
  group: "line",
  fn() {
    const k = next();
    redactNoMatch(nginxLines[k], nginxFields[k]);
  },
});
Deno.bench({
  name: "redact (card), no match: JSON message + 7 strings",
  group: "line",
  fn() {
    const k = next();
    redactNoMatch(jsonLines[k], jsonFields[k]);
  },
});
Deno.bench({
  name: "redact (token=…), no match: nginx message + 10 fields",
  group: "line",
  fn() {
    const k = next();
    redactTokenNoMatch(nginxLines[k], nginxFields[k]);
  },
});
Deno.bench({
  name: "convert 2 fields to integer",
  group: "line",
  fn() {
    convertOnly("m", { status: "200", bytes: 512 });
  },
});
Deno.bench({
  name: "nginx whole: parse + event time + drop, redact, convert",
  group: "line",
  fn() {
    const k = next();
    const fields = regex(nginxLines[k]).fields;
    nginxTime(fields, READ);
    nginxSteps(nginxLines[k], fields);
  },
});
Deno.bench({
  name: "json whole: parse + event time",
  group: "line",
  fn() {
    const k = next();
    const fields = json(jsonLines[k]).fields;
    jsonTime(fields, READ);
  },
});
