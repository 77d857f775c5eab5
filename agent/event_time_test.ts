import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import type { TimestampSpec } from "../config_plane/types.ts";
import { InvalidInputError } from "../core/errors.ts";
import { compileEventTime, timestampSpecIssues, timeZoneIssue } from "./event_time.ts";

const READ = Date.parse("2024-03-09T11:00:05Z");

/** The event time of `value` as an ISO string, or the flag. */
function timeOf(spec: Partial<TimestampSpec>, value: unknown, readMs = READ): string {
  const read = compileEventTime({ field: "t", formats: ["rfc3339"], ...spec })!;
  const r = read({ t: value }, readMs);
  if (r.flag) {
    assertEquals(r.time, readMs, "a flagged line keeps the read time");
    return r.flag;
  }
  return new Date(r.time).toISOString();
}

Deno.test("rfc3339: offsets, Z, fractions, comma, space separator", () => {
  const cases: [string, string][] = [
    ["2024-03-09T12:00:01Z", "2024-03-09T12:00:01.000Z"],
    ["2024-03-09t12:00:01z", "2024-03-09T12:00:01.000Z"],
    ["2024-03-09T12:00:01.5+01:00", "2024-03-09T11:00:01.500Z"],
    ["2024-03-09T12:00:01.123456789-05:30", "2024-03-09T17:30:01.123Z"],
    ["2024-03-09 12:00:01+0100", "2024-03-09T11:00:01.000Z"],
    ["2024-03-09T12:00:01+01", "2024-03-09T11:00:01.000Z"],
    ["2024-03-09 12:00:01,042", "2024-03-09T12:00:01.042Z"], // Python logging, no offset: UTC
    ["2016-12-31T23:59:60Z", "2016-12-31T23:59:59.000Z"], // leap second
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
  ];
  for (const [value, want] of cases) assertEquals(timeOf({}, value), want, value);
});

Deno.test("rfc3339: garbage and out-of-range fields are timestamp_invalid", () => {
  for (
    const value of [
      "",
      "yesterday",
      "2024-03-09",
      "2024-03-09T12:00Z",
      "2024-03-09T12:00:01.Z",
      "2024-03-09T12:00:01.1234567890Z",
      "2024-03-09T12:00:01+1:00",
      "2024-03-09T12:00:01+01:0",
      "2024-03-09T12:00:01+24:00",
      "2024-03-09T12:00:01 Z",
      "2024-03-09T12:00:01ZZ",
      "2024-03-09X12:00:01Z",
      "2024-13-01T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2024-04-31T00:00:00Z",
      "2024-03-09T24:00:00Z",
      "2024-03-09T12:60:00Z",
      "0001-01-01T00:00:00Z",
      "２０２４-03-09T12:00:01Z",
      "\u0000".repeat(40),
    ]
  ) assertEquals(timeOf({}, value), "timestamp_invalid", JSON.stringify(value));
  assertEquals(timeOf({}, 1709982001), "timestamp_invalid", "a number is not RFC 3339 text");
  assertEquals(timeOf({}, { a: 1 }), "timestamp_invalid");
  assertEquals(timeOf({}, "x".repeat(1 << 20)), "timestamp_invalid");
});

Deno.test("common_log: nginx and Apache times with their offset; zone not needed", () => {
  const spec = { formats: ["common_log"], timezone: "America/New_York" };
  assertEquals(timeOf(spec, "09/Mar/2024:12:00:01 +0100"), "2024-03-09T11:00:01.000Z");
  assertEquals(timeOf(spec, "10/Oct/2000:13:55:36 -0700"), "2000-10-10T20:55:36.000Z");
  assertEquals(timeOf(spec, "09/mar/2024:12:00:01 +0000"), "2024-03-09T12:00:01.000Z");
  assertEquals(timeOf(spec, "09/Mrz/2024:12:00:01 +0100"), "timestamp_invalid");
  assertEquals(timeOf(spec, "[09/Mar/2024:12:00:01 +0100]"), "timestamp_invalid");
  assertEquals(timeOf(spec, "31/Feb/2024:12:00:01 +0100"), "timestamp_invalid");
});

Deno.test("epoch seconds, milliseconds, microseconds: numbers or numeric text", () => {
  const want = "2024-03-09T11:00:01.250Z";
  assertEquals(timeOf({ formats: ["epoch_s"] }, 1709982001.25), want);
  assertEquals(timeOf({ formats: ["epoch_s"] }, "1709982001.25"), want);
  assertEquals(timeOf({ formats: ["epoch_ms"] }, 1709982001250), want);
  assertEquals(timeOf({ formats: ["epoch_ms"] }, "1709982001250"), want);
  assertEquals(timeOf({ formats: ["epoch_us"] }, 1709982001250999), want);
  assertEquals(timeOf({ formats: ["epoch_us"] }, "1709982001250999"), want);
  assertEquals(timeOf({ formats: ["epoch_s"] }, -1), "1969-12-31T23:59:59.000Z");
  for (const value of ["", "12abc", "1e9", "0x10", " 1709982001", "NaN", true, [1], 1e20, -1e20]) {
    assertEquals(timeOf({ formats: ["epoch_s"] }, value), "timestamp_invalid", String(value));
  }
});

Deno.test("formats are tried in order; the first that parses wins", () => {
  const dmy = { formats: ["%d/%m/%Y", "%m/%d/%Y"] };
  assertEquals(timeOf(dmy, "03/02/2024"), "2024-02-03T00:00:00.000Z");
  assertEquals(
    timeOf(dmy, "02/29/2024"),
    "2024-02-29T00:00:00.000Z",
    "month 29 fails d/m, m/d parses",
  );
  const mixed = { formats: ["rfc3339", "epoch_ms"] };
  assertEquals(timeOf(mixed, 1709982001000), "2024-03-09T11:00:01.000Z");
  assertEquals(timeOf(mixed, "2024-03-09T11:00:01Z"), "2024-03-09T11:00:01.000Z");
  assertEquals(timeOf(mixed, "soon"), "timestamp_invalid");
});

Deno.test("strftime subset: every directive", () => {
  const cases: [string, string, string][] = [
    ["%Y-%m-%d %H:%M:%S.%f", "2024-03-09 12:00:01.5", "2024-03-09T12:00:01.500Z"],
    ["%F %T,%f %z", "2024-03-09 12:00:01,123 -0200", "2024-03-09T14:00:01.123Z"],
    ["%y%m%d %H%M%S", "240309 120001", "2024-03-09T12:00:01.000Z"],
    ["%d.%m.%y", "01.01.69", "1969-01-01T00:00:00.000Z"],
    ["%d.%m.%y", "31.12.23", "2023-12-31T00:00:00.000Z"],
    ["%a, %d %b %Y %H:%M:%S %z", "Sat, 09 Mar 2024 12:00:01 +0000", "2024-03-09T12:00:01.000Z"],
    ["%A %B %e %Y", "Saturday March  9 2024", "2024-03-09T00:00:00.000Z"],
    ["%m/%d/%Y %I:%M:%S %p", "03/09/2024 12:00:01 AM", "2024-03-09T00:00:01.000Z"],
    ["%m/%d/%Y %I:%M:%S %p", "03/09/2024 12:00:01 pm", "2024-03-09T12:00:01.000Z"],
    ["%m/%d/%Y %I:%M:%S %p", "03/09/2024 01:00:01 PM", "2024-03-09T13:00:01.000Z"],
    ["%Y-%m-%d%k:%M", "2024-03-09 7:05", "2024-03-09T07:05:00.000Z"],
    ["%b %e %l:%M %p", "Mar  9  1:05 pm", "2024-03-09T13:05:00.000Z"],
    ["[%d/%b/%Y:%T %z]", "[09/Mar/2024:12:00:01 +0100]", "2024-03-09T11:00:01.000Z"],
    ["%s", "1709982001", "2024-03-09T11:00:01.000Z"],
    ["%s.%f", "1709982001.25", "2024-03-09T11:00:01.250Z"],
    ["100%% %Y-%m-%d", "100% 2024-03-09", "2024-03-09T00:00:00.000Z"],
    ["%Y-%m-%d (x+y)*", "2024-03-09 (x+y)*", "2024-03-09T00:00:00.000Z"],
  ];
  for (const [format, value, want] of cases) {
    assertEquals(timeOf({ formats: [format] }, value), want, `${format} on ${value}`);
  }
  const bad: [string, string][] = [
    ["%m/%d/%Y %I:%M:%S %p", "03/09/2024 13:00:01 PM"],
    ["%m/%d/%Y %I:%M:%S %p", "03/09/2024 00:00:01 AM"],
    ["%Y-%m-%d", "2024-03-09 extra"],
    ["%Y-%m-%d", "x2024-03-09"],
    ["%B %d %Y", "Marchy 09 2024"],
    ["%d/%b/%Y", "09/Mar/2024:12"],
  ];
  for (const [format, value] of bad) {
    assertEquals(
      timeOf({ formats: [format] }, value),
      "timestamp_invalid",
      `${format} on ${value}`,
    );
  }
});

Deno.test("a time without an offset is read in the zone; one with an offset ignores it", () => {
  const berlin = { timezone: "Europe/Berlin" };
  assertEquals(timeOf(berlin, "2024-03-09T12:00:01"), "2024-03-09T11:00:01.000Z"); // CET
  assertEquals(
    timeOf(berlin, "2024-07-09T12:00:01", Date.parse("2024-07-09T11:00:05Z")),
    "2024-07-09T10:00:01.000Z",
  ); // CEST
  assertEquals(timeOf(berlin, "2024-03-09T12:00:01Z"), "2024-03-09T12:00:01.000Z");
  assertEquals(
    timeOf({ formats: ["%Y-%m-%d"], timezone: "Asia/Kolkata" }, "2024-03-09"),
    "2024-03-08T18:30:00.000Z",
  );
});

/** Converts local wall times in `zone` and checks each against Temporal's `compatible` rule. */
function assertAgreesWithTemporal(zone: string, walls: string[], orders = 1): void {
  const want = walls.map((wall) =>
    Temporal.PlainDateTime.from(wall).toZonedDateTime(zone, { disambiguation: "compatible" })
      .epochMilliseconds
  );
  const readMs = Date.parse("2100-01-01T00:00:00Z");
  for (let order = 0; order < orders; order++) {
    const read = compileEventTime({ field: "t", formats: ["rfc3339"], timezone: zone })!;
    // Order 0 walks forward; the others jump around (a deterministic shuffle), so the cache
    // relearns at nearly every line.
    for (let k = 0; k < walls.length; k++) {
      const i = order === 0 ? k : (k * 7919 * order) % walls.length;
      const got = read({ t: walls[i] }, readMs);
      assertEquals(got.flag, undefined, `${zone} ${walls[i]}`);
      if (got.time !== want[i]) {
        assertEquals(
          new Date(got.time).toISOString(),
          new Date(want[i]).toISOString(),
          `${zone} ${walls[i]}`,
        );
      }
    }
  }
}

Deno.test("zones across both daylight-saving changes of 2024, north and south", () => {
  const cases: [string, string, string][] = [
    // Berlin: 02:00 → 03:00 on 31 March; 03:00 → 02:00 on 27 October.
    ["Europe/Berlin", "2024-03-31T01:59:59", "2024-03-31T00:59:59.000Z"],
    ["Europe/Berlin", "2024-03-31T02:30:00", "2024-03-31T01:30:00.000Z"], // skipped: moves forward
    ["Europe/Berlin", "2024-03-31T03:00:00", "2024-03-31T01:00:00.000Z"],
    ["Europe/Berlin", "2024-10-27T01:59:59", "2024-10-26T23:59:59.000Z"],
    ["Europe/Berlin", "2024-10-27T02:30:00", "2024-10-27T00:30:00.000Z"], // repeated: the first
    ["Europe/Berlin", "2024-10-27T03:00:00", "2024-10-27T02:00:00.000Z"],
    // New York: 10 March and 3 November.
    ["America/New_York", "2024-03-10T02:30:00", "2024-03-10T07:30:00.000Z"],
    ["America/New_York", "2024-03-10T03:00:00", "2024-03-10T07:00:00.000Z"],
    ["America/New_York", "2024-11-03T01:30:00", "2024-11-03T05:30:00.000Z"],
    ["America/New_York", "2024-11-03T02:00:00", "2024-11-03T07:00:00.000Z"],
    // Sydney: summer time ends 7 April, starts 6 October.
    ["Australia/Sydney", "2024-04-07T02:30:00", "2024-04-06T15:30:00.000Z"],
    ["Australia/Sydney", "2024-10-06T02:30:00", "2024-10-05T16:30:00.000Z"],
  ];
  for (const [zone, wall, want] of cases) {
    const readMs = Date.parse(want);
    assertEquals(timeOf({ timezone: zone }, wall, readMs), want, `${zone} ${wall}`);
  }
});

Deno.test("the cached offset agrees with Temporal every 37 minutes of a year, in and out of order", () => {
  const walls: string[] = [];
  for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2025, 0, 2); t += 37 * 60_000) {
    walls.push(new Date(t).toISOString().slice(0, 19));
  }
  for (
    const zone of [
      "Europe/Berlin",
      "America/New_York",
      "Australia/Lord_Howe", // a 30-minute change
      "America/Santiago",
      "Asia/Kolkata",
      "UTC",
    ]
  ) assertAgreesWithTemporal(zone, walls, 2);
  // Samoa skipped 30 December 2011 entirely (a 24-hour change).
  assertAgreesWithTemporal("Pacific/Apia", [
    "2011-12-28T12:00:00",
    "2011-12-29T23:59:59",
    "2011-12-30T12:00:00",
    "2011-12-31T00:00:00",
    "2012-01-05T00:00:00",
    "2011-12-20T00:00:00",
  ]);
});

Deno.test("syslog: no year; a December line read in January is last year's", () => {
  const spec = { formats: ["syslog"], timezone: "Europe/Berlin" };
  // 2025-01-01 00:00:10 in Berlin.
  const read = Date.parse("2024-12-31T23:00:10Z");
  assertEquals(timeOf(spec, "Dec 31 23:59:58", read), "2024-12-31T22:59:58.000Z");
  assertEquals(timeOf(spec, "Jan  1 00:00:05", read), "2024-12-31T23:00:05.000Z");
});

Deno.test("syslog: a January line read in December is next year's (the writer's clock ahead)", () => {
  const spec = { formats: ["syslog"], timezone: "Europe/Berlin" };
  // 2024-12-31 23:59:50 in Berlin; the line says 00:00:20 of 1 January.
  const read = Date.parse("2024-12-31T22:59:50Z");
  assertEquals(timeOf(spec, "Jan  1 00:00:20", read), "2024-12-31T23:00:20.000Z");
  // A January line read in mid-December is too far ahead for next year: it is this January's.
  const mid = Date.parse("2024-12-15T12:00:00Z");
  assertEquals(timeOf(spec, "Jan 20 08:00:00", mid), "2024-01-20T07:00:00.000Z");
});

Deno.test("syslog: the year is the zone's, not UTC's, at New Year", () => {
  // 2024-12-31T23:30Z is already 2025 in Berlin: a December line is from 2024.
  const read = Date.parse("2024-12-31T23:30:00Z");
  const berlin = { formats: ["syslog"], timezone: "Europe/Berlin" };
  assertEquals(timeOf(berlin, "Dec 31 23:59:00", read), "2024-12-31T22:59:00.000Z");
  // In New York it is still 2024-12-31 18:30.
  const ny = { formats: ["syslog"], timezone: "America/New_York" };
  assertEquals(timeOf(ny, "Dec 31 18:29:00", read), "2024-12-31T23:29:00.000Z");
});

Deno.test("syslog: a line from months ahead is last year's; 29 February only in leap years", () => {
  const spec = { formats: ["syslog"] };
  const march = Date.parse("2025-03-10T12:00:00Z");
  assertEquals(timeOf(spec, "Nov  3 10:00:00", march), "2024-11-03T10:00:00.000Z");
  assertEquals(timeOf(spec, "Mar 10 12:00:30", march), "2025-03-10T12:00:30.000Z");
  assertEquals(timeOf(spec, "Mar 11 11:59:00", march), "2025-03-11T11:59:00.000Z", "within a day");
  assertEquals(
    timeOf(spec, "Feb 29 10:00:00", Date.parse("2024-03-01T00:00:00Z")),
    "2024-02-29T10:00:00.000Z",
  );
  assertEquals(timeOf(spec, "Feb 29 10:00:00", march), "timestamp_invalid");
  assertEquals(timeOf(spec, "Foo  3 10:00:00", march), "timestamp_invalid");
  assertEquals(timeOf(spec, "Mar  3 10:00", march), "timestamp_invalid");
});

Deno.test("a time beyond the future bound keeps the read time and is flagged", () => {
  const day = 86_400_000;
  const at = (ms: number) => new Date(ms).toISOString();
  assertEquals(timeOf({}, at(READ + day)), at(READ + day), "exactly one day ahead is allowed");
  assertEquals(timeOf({}, at(READ + day + 1000)), "timestamp_future");
  assertEquals(timeOf({}, "2099-01-01T00:00:00Z"), "timestamp_future");
  assertEquals(timeOf({ max_future_sec: 0 }, at(READ + 1000)), "timestamp_future");
  assertEquals(timeOf({ max_future_sec: 0 }, at(READ)), at(READ));
  assertEquals(timeOf({}, "2001-01-01T00:00:00Z"), "2001-01-01T00:00:00.000Z", "the past is kept");
});

Deno.test("a missing field, null, or no parsed fields: timestamp_missing", () => {
  const read = compileEventTime({ field: "http.time", formats: ["epoch_s"] })!;
  assertEquals(read(undefined, READ), { time: READ, flag: "timestamp_missing" });
  assertEquals(read({}, READ), { time: READ, flag: "timestamp_missing" });
  assertEquals(read({ http: { time: null } }, READ), { time: READ, flag: "timestamp_missing" });
  assertEquals(read({ http: { time: 1709982001 } }, READ), { time: 1709982001000 });
  assertEquals(read({ "http.time": "1709982001" }, READ), { time: 1709982001000 });
  assertEquals(compileEventTime(undefined), undefined);
});

Deno.test("timestampSpecIssues names the bad format or zone with its value", () => {
  const issues = (spec: Partial<TimestampSpec>) =>
    timestampSpecIssues({ field: "t", formats: ["rfc3339"], ...spec });
  assertEquals(issues({ formats: ["rfc3339", "syslog", "%Y-%m-%dT%H:%M:%S%z"] }), []);
  const bad = issues({ formats: ["rfc3339", "%Y-%q-%d", "rfc3999"], timezone: "Mars/Olympus" });
  assertEquals(bad.map((i) => i.path), ["formats[1]", "formats[2]", "timezone"]);
  assertMatch(bad[0].message, /^"%Y-%q-%d" uses %q, which is not supported \(supported: %Y /);
  assertMatch(bad[1].message, /^"rfc3999" is neither a named format \(rfc3339, common_log/);
  assertMatch(bad[2].message, /^"Mars\/Olympus" is not an IANA time zone; .*Europe\/Berlin/);
  const messages = (format: string) => issues({ formats: [format] })[0]?.message ?? "";
  assertMatch(messages("%d/%b/%Y %H:%M:%S %Z"), /%Z: zone abbreviations are ambiguous/);
  assertMatch(messages("%Y-%m-%d 100%"), /lone %/);
  assertMatch(messages("%H:%M:%S"), /needs a month .* and a day/);
  assertMatch(messages("%Y-%m-%d %I:%M"), /%I and %p together/);
});

Deno.test("time zones: IANA names pass; offsets and abbreviations are refused with advice", () => {
  for (const zone of ["UTC", "Europe/Berlin", "america/new_york", "Etc/GMT-2", "Asia/Kolkata"]) {
    assertEquals(timeZoneIssue(zone), undefined, zone);
  }
  assertMatch(timeZoneIssue("+02:00")!, /fixed offset.*Etc\/GMT-2/);
  assertMatch(timeZoneIssue("UTC+2")!, /fixed offset/);
  assertMatch(timeZoneIssue("EST")!, /abbreviation.*UTC-5 all year/);
  assertMatch(timeZoneIssue("CEST")!, /abbreviation/);
  assertMatch(timeZoneIssue("Europe/Berlim")!, /not an IANA time zone/);
  assertMatch(timeZoneIssue("")!, /not an IANA time zone/);
});

Deno.test("compileEventTime refuses a bad spec with InvalidInputError naming the field", () => {
  const error = assertThrows(
    () => compileEventTime({ field: "t", formats: ["%Q"], timezone: "UTC" }),
    InvalidInputError,
  );
  assert(error === undefined);
  try {
    compileEventTime({ field: "t", formats: ["rfc3339"], timezone: "CET" });
    assert(false, "expected an error");
  } catch (e) {
    assertMatch((e as Error).message, /^timestamp\.timezone "CET" looks like an abbreviation/);
  }
});
