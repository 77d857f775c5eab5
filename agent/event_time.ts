/**
 * The event time of a line, with no I/O: a source's `timestamp` settings are compiled once into a
 * function from a line's parsed fields and its read time to epoch milliseconds. A time that is
 * missing, does not parse, or lies too far in the future gives the read time and a flag; the line
 * is never dropped. Zones follow the IANA rules through Deno's `Temporal`, with the offset cached
 * between transitions so that most lines cost no `Temporal` call
 * (`docs/decisions/0004-event-time.md`).
 * @module
 */
import type { TimestampSpec } from "../config_plane/types.ts";
import { InvalidInputError } from "../core/errors.ts";
import { compileFieldPath } from "./field_path.ts";

/** The named formats and what they stand for (strftime-style where they are one). */
export const NAMED_TIME_FORMATS = {
  /** RFC 3339 / ISO 8601: `2024-03-09T12:00:01.123+01:00`, `2024-03-09 12:00:01,123` (no offset: the zone). */
  rfc3339: "rfc3339",
  /** nginx / Apache access logs: `09/Mar/2024:12:00:01 +0100`. */
  common_log: "%d/%b/%Y:%H:%M:%S %z",
  /** RFC 3164 syslog, no year: `Mar  9 12:00:01`. */
  syslog: "%b %e %H:%M:%S",
  /** Seconds since 1970-01-01 UTC, a number or a numeric string, fractions allowed. */
  epoch_s: "epoch_s",
  /** Milliseconds since 1970-01-01 UTC. */
  epoch_ms: "epoch_ms",
  /** Microseconds since 1970-01-01 UTC. */
  epoch_us: "epoch_us",
} as const;
export type NamedTimeFormat = keyof typeof NAMED_TIME_FORMATS;

/** A time further ahead of the read time than this is not trusted (one day). */
export const DEFAULT_MAX_FUTURE_SEC = 86_400;

/** Why a line's `@timestamp` is its read time although the source names a time field. */
export type TimeFlag = "timestamp_missing" | "timestamp_invalid" | "timestamp_future";

/** The event time of one line: epoch milliseconds, and a flag when it is the read time instead. */
export interface EventTime {
  time: number;
  flag?: TimeFlag;
}

/** A source's compiled `timestamp`: (parsed fields, read time in epoch ms) → event time. */
export type EventTimeReader = (
  fields: Record<string, unknown> | undefined,
  readMs: number,
) => EventTime;

/** One format: the value's epoch milliseconds, NaN when it does not parse. */
type FormatParser = (value: unknown, readMs: number) => number;

// ---- zones -------------------------------------------------------------------------------

/**
 * Two offsets of one zone never differ by 32 h (the extremes ever used, local mean times of the
 * 19th century included, are about -15:56 and +15:13): 2 days is safely more.
 */
const UNAMBIGUOUS_MARGIN_MS = 2 * 86_400_000;

/**
 * One IANA zone's rules. Temporal answers every question, but a `Temporal` conversion costs
 * microseconds per line; so the offset in force and the transitions around it are kept, and a
 * wall time whose instant falls well inside that interval (more than the largest possible offset
 * change away from both ends) is converted with plain arithmetic. Near a transition, and after a
 * jump to another interval, Temporal decides, with the `compatible` rule: a time in the skipped
 * hour of spring moves forward, a time in the repeated hour of autumn is the first of the two.
 */
class ZoneRules {
  readonly id: string;
  #offsetMs = 0;
  #from = Infinity;
  #to = -Infinity;

  constructor(id: string) {
    this.id = id;
  }

  #learn(zoned: Temporal.ZonedDateTime): void {
    this.#offsetMs = zoned.offsetNanoseconds / 1e6;
    // "previous" is strictly before the instant: one nanosecond later it includes a transition
    // at this very instant (a line written at 03:00:00.000 on the spring-forward day).
    this.#from =
      zoned.add({ nanoseconds: 1 }).getTimeZoneTransition("previous")?.epochMilliseconds ??
        -Infinity;
    this.#to = zoned.getTimeZoneTransition("next")?.epochMilliseconds ?? Infinity;
  }

  /** The instant of a wall time; `wallAsUtc` is the same fields read as UTC (Date.UTC). */
  toEpoch(wallAsUtc: number, w: Wall): number {
    const guess = wallAsUtc - this.#offsetMs;
    if (guess >= this.#from + UNAMBIGUOUS_MARGIN_MS && guess < this.#to - UNAMBIGUOUS_MARGIN_MS) {
      return guess;
    }
    const zoned = new Temporal.PlainDateTime(
      w.year,
      w.month,
      w.day,
      w.hour,
      w.minute,
      w.second,
      w.ms,
    )
      .toZonedDateTime(this.id, { disambiguation: "compatible" });
    this.#learn(zoned);
    return zoned.epochMilliseconds;
  }

  /** The local year and month at an instant, as year * 100 + month. */
  yearMonthAt(epochMs: number): number {
    if (!(epochMs >= this.#from && epochMs < this.#to)) {
      this.#learn(Temporal.Instant.fromEpochMilliseconds(epochMs).toZonedDateTimeISO(this.id));
    }
    const local = new Date(epochMs + this.#offsetMs);
    return local.getUTCFullYear() * 100 + local.getUTCMonth() + 1;
  }
}

/**
 * What is wrong with a time-zone name, or undefined when it is an IANA zone. Fixed offsets and
 * abbreviations are refused: they ignore daylight saving (EST is UTC-5 all year, also in July).
 *
 * @example
 * ```ts
 * import { timeZoneIssue } from "./event_time.ts";
 * timeZoneIssue("Europe/Berlin"); // undefined
 * timeZoneIssue("+02:00"); // "is a fixed offset: ..."
 * ```
 */
export function timeZoneIssue(name: string): string | undefined {
  const example = 'name the zone the host writes its logs in, e.g. "Europe/Berlin", ' +
    '"America/New_York" or "UTC"';
  if (/^(?:[+-]\d|(?:UTC|GMT)[+-])/i.test(name)) {
    return `is a fixed offset: it ignores daylight saving; ${example} ` +
      '(for an offset that truly never changes, "Etc/GMT-2" is UTC+2)';
  }
  if (/^[A-Z]{3,4}$/i.test(name) && !/^(?:UTC|GMT|UCT)$/i.test(name)) {
    return `looks like an abbreviation: these are ambiguous or fixed (EST is UTC-5 all year); ${example}`;
  }
  try {
    Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(name);
    return undefined;
  } catch {
    return `is not an IANA time zone; ${example}`;
  }
}

// ---- wall times ----------------------------------------------------------------------------

/** Fields of a time as written; `offsetMin` is NaN when the text has no offset. */
interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  offsetMin: number;
}

function newWall(): Wall {
  return { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, ms: 0, offsetMin: NaN };
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/**
 * Epoch milliseconds of a wall time, NaN when a field is out of range (a 31 April is not 1 May).
 * Years before 1000 are refused: in a log they are a zero value (Go's 0001-01-01), not a time.
 */
function wallToEpoch(w: Wall, zone: ZoneRules): number {
  if (
    w.year < 1000 || w.year > 9999 || w.month < 1 || w.month > 12 || w.day < 1 ||
    w.day > daysInMonth(w.year, w.month) || w.hour > 23 || w.minute > 59 || w.second > 60
  ) return NaN;
  // A leap second (23:59:60) is the last second of the minute, as Temporal reads it.
  if (w.second === 60) w.second = 59;
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.ms);
  if (w.offsetMin === w.offsetMin) return asUtc - w.offsetMin * 60_000;
  return zone.toEpoch(asUtc, w);
}

/** `n` decimal digits at `i`, or -1. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Milliseconds of a fraction's digits ("1" → 100, "123456" → 123). */
function fractionMs(s: string, from: number, to: number): number {
  let ms = 0;
  for (let k = 0; k < 3; k++) ms = ms * 10 + (from + k < to ? s.charCodeAt(from + k) - 48 : 0);
  return ms;
}

/** Minutes of an offset at `i` to the end: `Z`, `+01:00`, `+0100`, `+01`; NaN when malformed. */
function offsetAt(s: string, i: number): number {
  const n = s.length - i;
  const sign = s[i];
  if (n === 1 && (sign === "Z" || sign === "z")) return 0;
  if (sign !== "+" && sign !== "-") return NaN;
  const h = digits(s, i + 1, 2);
  let m = 0;
  if (n === 6 && s[i + 3] === ":") m = digits(s, i + 4, 2);
  else if (n === 5) m = digits(s, i + 3, 2);
  else if (n !== 3) return NaN;
  if (h < 0 || h > 23 || m < 0 || m > 59) return NaN;
  return (sign === "-" ? -1 : 1) * (h * 60 + m);
}

/**
 * RFC 3339 / ISO 8601 extended format, scanned by hand: ~0.47 µs a value against ~1.2 µs for an
 * equivalent regex and `Date.UTC` (docs/decisions/0004-event-time.md).
 */
function rfc3339Parser(zone: ZoneRules): FormatParser {
  const w = newWall();
  return (value) => {
    if (typeof value !== "string") return NaN;
    const s = value;
    const n = s.length;
    if (n < 19 || s[4] !== "-" || s[7] !== "-" || s[13] !== ":" || s[16] !== ":") return NaN;
    const sep = s[10];
    if (sep !== "T" && sep !== "t" && sep !== " ") return NaN;
    w.year = digits(s, 0, 4);
    w.month = digits(s, 5, 2);
    w.day = digits(s, 8, 2);
    w.hour = digits(s, 11, 2);
    w.minute = digits(s, 14, 2);
    w.second = digits(s, 17, 2);
    if ((w.year | w.month | w.day | w.hour | w.minute | w.second) < 0) return NaN;
    let i = 19;
    w.ms = 0;
    if (i < n && (s[i] === "." || s[i] === ",")) {
      const start = ++i;
      while (i < n && i - start < 9 && digits(s, i, 1) >= 0) i++;
      if (i === start) return NaN;
      w.ms = fractionMs(s, start, i);
    }
    w.offsetMin = i === n ? NaN : offsetAt(s, i);
    if (i !== n && w.offsetMin !== w.offsetMin) return NaN;
    return wallToEpoch(w, zone);
  };
}

const EPOCH_TEXT = /^-?\d+(?:\.\d+)?$/;
/** Beyond ±100,000,000 days from 1970 a Date cannot hold the time. */
const MAX_EPOCH_MS = 8.64e15;

function epochParser(msPerUnit: number): FormatParser {
  return (value) => {
    let n: number;
    if (typeof value === "number") n = value;
    else if (typeof value === "string" && EPOCH_TEXT.test(value)) n = Number(value);
    else return NaN;
    const ms = Math.floor(n * msPerUnit);
    return ms >= -MAX_EPOCH_MS && ms <= MAX_EPOCH_MS ? ms : NaN;
  };
}

// ---- strftime-style patterns -------------------------------------------------------------

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTH_NAMES = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];
const MONTH_BY_NAME = new Map<string, number>([
  ...MONTHS.map((m, i) => [m, i + 1] as const),
  ...MONTH_NAMES.map((m, i) => [m, i + 1] as const),
]);

// What a capture group of a compiled pattern holds.
const YEAR = 0, YEAR2 = 1, MONTH = 2, MONTH_NAME = 3, DAY = 4, HOUR = 5, HOUR12 = 6, AM_PM = 7;
const MINUTE = 8, SECOND = 9, FRACTION = 10, OFFSET = 11, EPOCH = 12;

/** Directive → [regex, what its group holds (-1: matched and ignored)]. */
const DIRECTIVES: Record<string, [string, number]> = {
  Y: ["(\\d{4})", YEAR],
  y: ["(\\d{2})", YEAR2],
  m: ["(\\d{1,2})", MONTH],
  b: ["([A-Za-z]{3})", MONTH_NAME],
  h: ["([A-Za-z]{3})", MONTH_NAME],
  B: ["([A-Za-z]{3,9})", MONTH_NAME],
  d: ["(\\d{1,2})", DAY],
  e: ["( ?\\d{1,2})", DAY],
  H: ["(\\d{1,2})", HOUR],
  k: ["( ?\\d{1,2})", HOUR],
  I: ["(\\d{1,2})", HOUR12],
  l: ["( ?\\d{1,2})", HOUR12],
  p: ["([AaPp][Mm])", AM_PM],
  M: ["(\\d{2})", MINUTE],
  S: ["(\\d{2})", SECOND],
  f: ["(\\d{1,9})", FRACTION],
  z: ["([Zz]|[+-]\\d{2}(?::?\\d{2})?)", OFFSET],
  s: ["(-?\\d+)", EPOCH],
  a: ["[A-Za-z]{3}", -1],
  A: ["[A-Za-z]{6,9}", -1],
};
/** Shorthands, expanded before compiling. */
const SHORTHANDS: Record<string, string> = { T: "%H:%M:%S", F: "%Y-%m-%d" };

/** The directives a strftime-style pattern may use, for messages and docs. */
export const STRFTIME_DIRECTIVES = [...Object.keys(DIRECTIVES), ...Object.keys(SHORTHANDS), "%"]
  .map((d) => `%${d}`).join(" ");

interface CompiledPattern {
  re: RegExp;
  /** What each capture group holds, in order. */
  groups: number[];
  /** No %Y, %y or %s: the year is inferred from the read time. */
  yearless: boolean;
}

/** Compiles a strftime-style pattern into an anchored regex; throws an Error saying what is wrong. */
function compileStrftime(pattern: string): CompiledPattern {
  let source = "";
  const groups: number[] = [];
  const expanded = pattern.replace(/%([TF])/g, (_, d: string) => SHORTHANDS[d]);
  for (let i = 0; i < expanded.length; i++) {
    const c = expanded[i];
    if (c !== "%") {
      if (/\s/.test(c)) {
        // A run of blanks matches any run of blanks, as strptime does (syslog pads days).
        while (i + 1 < expanded.length && /\s/.test(expanded[i + 1])) i++;
        source += "\\s+";
      } else source += c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
      continue;
    }
    const d = expanded[++i];
    if (d === undefined) throw new Error("ends with a lone %; write %% for a literal %");
    if (d === "%") {
      source += "%";
      continue;
    }
    if (d === "Z") {
      throw new Error(
        "uses %Z: zone abbreviations are ambiguous (CST is three zones); use %z for a numeric " +
          "offset, or leave the abbreviation out of the field and set timezone",
      );
    }
    const directive = DIRECTIVES[d];
    if (!directive) {
      throw new Error(`uses %${d}, which is not supported (supported: ${STRFTIME_DIRECTIVES})`);
    }
    source += directive[0];
    if (directive[1] >= 0) groups.push(directive[1]);
  }
  const has = (kind: number) => groups.includes(kind);
  if (!has(EPOCH) && !((has(MONTH) || has(MONTH_NAME)) && has(DAY))) {
    throw new Error("needs a month (%m, %b or %B) and a day (%d or %e), or epoch seconds (%s)");
  }
  if (has(HOUR12) !== has(AM_PM)) throw new Error("needs %I and %p together (12-hour clock)");
  return {
    re: new RegExp(`^${source}$`),
    groups,
    yearless: !has(YEAR) && !has(YEAR2) && !has(EPOCH),
  };
}

function patternParser(
  pattern: string,
  zone: ZoneRules,
  maxFutureMs: number,
): FormatParser {
  const { re, groups, yearless } = compileStrftime(pattern);
  const w = newWall();
  return (value, readMs) => {
    if (typeof value !== "string") return NaN;
    const m = re.exec(value);
    if (!m) return NaN;
    w.year = w.month = w.day = 0;
    w.hour =
      w.minute =
      w.second =
      w.ms =
        0;
    w.offsetMin = NaN;
    let pm = -1;
    let epoch = NaN;
    for (let g = 0; g < groups.length; g++) {
      const text = m[g + 1];
      switch (groups[g]) {
        case YEAR:
          w.year = +text;
          break;
        case YEAR2: // POSIX: 69-99 are 1969-1999, 00-68 are 2000-2068.
          w.year = +text + (+text >= 69 ? 1900 : 2000);
          break;
        case MONTH:
          w.month = +text;
          break;
        case MONTH_NAME:
          w.month = MONTH_BY_NAME.get(text.toLowerCase()) ?? 0;
          break;
        case DAY:
          w.day = +text;
          break;
        case HOUR:
          w.hour = +text;
          break;
        case HOUR12:
          w.hour = +text;
          if (w.hour < 1 || w.hour > 12) return NaN;
          break;
        case AM_PM:
          pm = text[0] === "P" || text[0] === "p" ? 1 : 0;
          break;
        case MINUTE:
          w.minute = +text;
          break;
        case SECOND:
          w.second = +text;
          break;
        case FRACTION:
          w.ms = fractionMs(text, 0, text.length);
          break;
        case OFFSET:
          w.offsetMin = offsetAt(text, 0);
          if (w.offsetMin !== w.offsetMin) return NaN;
          break;
        case EPOCH:
          epoch = +text * 1000;
          break;
      }
    }
    if (epoch === epoch) {
      const ms = epoch + w.ms;
      return ms >= -MAX_EPOCH_MS && ms <= MAX_EPOCH_MS ? ms : NaN;
    }
    if (pm >= 0) w.hour = (w.hour % 12) + (pm === 1 ? 12 : 0);
    if (!yearless) return wallToEpoch(w, zone);
    return guessYear(w, zone, readMs, maxFutureMs);
  };
}

/**
 * The year of a yearless time (syslog), as Logstash infers it: the read time's year in the
 * zone, except that a December line read in January is from last year and a January line read in
 * December from next year. One step further than Logstash: a time that would then lie beyond the
 * future bound is taken from the year before (a November line read in March is last November's,
 * where Logstash would place it eight months ahead).
 */
function guessYear(w: Wall, zone: ZoneRules, readMs: number, maxFutureMs: number): number {
  const now = zone.yearMonthAt(readMs);
  const nowYear = Math.floor(now / 100);
  const nowMonth = now % 100;
  let year = nowYear;
  if (w.month === 12 && nowMonth === 1) year--;
  else if (w.month === 1 && nowMonth === 12) year++;
  w.year = year;
  const t = wallToEpoch(w, zone);
  if (!(t > readMs + maxFutureMs)) return t;
  w.year = year - 1;
  return wallToEpoch(w, zone);
}

/** Compiles one format (named or strftime-style); throws an Error saying what is wrong. */
function compileFormat(format: string, zone: ZoneRules, maxFutureMs: number): FormatParser {
  switch (format) {
    case "rfc3339":
      return rfc3339Parser(zone);
    case "epoch_s":
      return epochParser(1000);
    case "epoch_ms":
      return epochParser(1);
    case "epoch_us":
      return epochParser(0.001);
    case "common_log":
    case "syslog":
      return patternParser(NAMED_TIME_FORMATS[format], zone, maxFutureMs);
  }
  if (!format.includes("%")) {
    throw new Error(
      `is neither a named format (${
        Object.keys(NAMED_TIME_FORMATS).join(", ")
      }) nor a strftime-style pattern with % directives (e.g. "%Y-%m-%d %H:%M:%S")`,
    );
  }
  return patternParser(format, zone, maxFutureMs);
}

/** One problem of a timestamp spec: the path inside `timestamp` and what is wrong. */
export interface TimestampIssue {
  path: string;
  message: string;
}

/**
 * What is wrong with a (schema-valid) timestamp spec: formats that do not compile, a zone that is
 * not an IANA zone. Each message starts with the value, for `config:validate`.
 *
 * @example
 * ```ts
 * import { timestampSpecIssues } from "./event_time.ts";
 * timestampSpecIssues({ field: "time", formats: ["rfc3339", "%Y-%q"], timezone: "Mars/Olympus" });
 * // [{ path: "formats[1]", message: '"%Y-%q" uses %q, which is not supported (...)' },
 * //  { path: "timezone", message: '"Mars/Olympus" is not an IANA time zone; ...' }]
 * ```
 */
export function timestampSpecIssues(spec: TimestampSpec): TimestampIssue[] {
  const issues: TimestampIssue[] = [];
  const utc = new ZoneRules("UTC");
  spec.formats.forEach((format, i) => {
    try {
      compileFormat(format, utc, 0);
    } catch (error) {
      issues.push({
        path: `formats[${i}]`,
        message: `${JSON.stringify(format)} ${(error as Error).message}`,
      });
    }
  });
  if (spec.timezone !== undefined) {
    const problem = timeZoneIssue(spec.timezone);
    if (problem) {
      issues.push({ path: "timezone", message: `${JSON.stringify(spec.timezone)} ${problem}` });
    }
  }
  return issues;
}

/**
 * Compiles a source's `timestamp` once; undefined when the source has none (the read time is the
 * event time, at no cost per line). Throws InvalidInputError for a spec that does not compile.
 *
 * @example
 * ```ts
 * import { compileEventTime } from "./event_time.ts";
 * const eventTime = compileEventTime({
 *   field: "time",
 *   formats: ["common_log"],
 * })!;
 * const read = Date.parse("2024-03-09T11:00:05Z");
 * eventTime({ time: "09/Mar/2024:12:00:01 +0100" }, read); // { time: Date.parse("2024-03-09T11:00:01Z") }
 * eventTime({ time: "yesterday" }, read); // { time: read, flag: "timestamp_invalid" }
 * eventTime(undefined, read); // { time: read, flag: "timestamp_missing" }
 * ```
 */
export function compileEventTime(spec: TimestampSpec | undefined): EventTimeReader | undefined {
  if (!spec) return undefined;
  const issues = timestampSpecIssues(spec);
  if (issues.length > 0) {
    throw new InvalidInputError(`timestamp.${issues[0].path} ${issues[0].message}`);
  }
  const zone = new ZoneRules(spec.timezone ?? "UTC");
  const maxFutureMs = (spec.max_future_sec ?? DEFAULT_MAX_FUTURE_SEC) * 1000;
  const parsers = spec.formats.map((f) => compileFormat(f, zone, maxFutureMs));
  const locate = compileFieldPath(spec.field);
  return (fields, readMs) => {
    const slot = fields && locate(fields);
    const value = slot ? slot.holder[slot.key] : undefined;
    if (value === undefined || value === null) return { time: readMs, flag: "timestamp_missing" };
    for (let i = 0; i < parsers.length; i++) {
      const time = parsers[i](value, readMs);
      if (time !== time) continue;
      if (time > readMs + maxFutureMs) return { time: readMs, flag: "timestamp_future" };
      return { time };
    }
    return { time: readMs, flag: "timestamp_invalid" };
  };
}
