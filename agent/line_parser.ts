/**
 * A source's parser, with no I/O: a line becomes parsed fields (`json`: an object line; `regex`:
 * the named groups of a match), or a flag that says why it did not. A line that does not parse is
 * never dropped: it is sent with its message and the flag. Compiled once per source.
 * @module
 */
import type { ParserSpec } from "../config_plane/types.ts";

/** Why a line has no parsed fields. */
export type ParseFlag = "json_invalid" | "json_not_object" | "regex_no_match";

/** The outcome for one line: the fields, or the flag saying why there are none. */
export interface ParsedLine {
  fields?: Record<string, unknown>;
  flag?: ParseFlag;
}

/** Parses one line (the text without its line ending). */
export type LineParser = (text: string) => ParsedLine;

// The failures are shared frozen objects: a source whose lines do not parse allocates nothing.
const JSON_INVALID: ParsedLine = Object.freeze({ flag: "json_invalid" });
const JSON_NOT_OBJECT: ParsedLine = Object.freeze({ flag: "json_not_object" });
const REGEX_NO_MATCH: ParsedLine = Object.freeze({ flag: "regex_no_match" });

function parseJson(text: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse stops at the first character that cannot start or continue JSON, so a plain
    // text line (a stack trace in a JSON log) costs about as little as a prefix check would.
    return JSON_INVALID;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return JSON_NOT_OBJECT;
  return { fields: value as Record<string, unknown> };
}

function regexParser(pattern: string): LineParser {
  const re = new RegExp(pattern);
  return (text) => {
    const groups = re.exec(text)?.groups;
    if (!groups) return REGEX_NO_MATCH;
    // Groups that took no part in the match (an optional field) are left out, not undefined.
    const fields: Record<string, unknown> = {};
    for (const name in groups) {
      const value = groups[name];
      if (value !== undefined) fields[name] = value;
    }
    return { fields };
  };
}

/**
 * Compiles a source's parser once; undefined for `none` or no parser, so such a source pays
 * nothing per line. The regex must compile (the schema checks make sure it does).
 *
 * @example
 * ```ts
 * import { compileLineParser } from "./line_parser.ts";
 * const parse = compileLineParser({ type: "regex", pattern: "^(?<ip>\\S+) (?<status>\\d{3})" })!;
 * parse("10.0.0.1 200"); // { fields: { ip: "10.0.0.1", status: "200" } }
 * parse("garbage"); // { flag: "regex_no_match" }
 * compileLineParser({ type: "json" })!('{"level":"info"}'); // { fields: { level: "info" } }
 * compileLineParser({ type: "none" }); // undefined
 * ```
 */
export function compileLineParser(spec: ParserSpec | undefined): LineParser | undefined {
  if (!spec) return undefined;
  switch (spec.type) {
    case "json":
      return parseJson;
    case "regex":
      return regexParser(spec.pattern);
    case "none":
      return undefined;
  }
}

const compiledByPattern = new Map<string, LineParser>();

/**
 * Parses one line with a parser spec, compiling (and keeping) a regex the first time it is seen.
 * For a hot loop, compile once with `compileLineParser` instead.
 *
 * @example
 * ```ts
 * import { parseLine } from "./line_parser.ts";
 * parseLine({ type: "json" }, "[1, 2]"); // { flag: "json_not_object" }
 * parseLine({ type: "json" }, "not json"); // { flag: "json_invalid" }
 * parseLine({ type: "none" }, "anything"); // {}
 * ```
 */
export function parseLine(spec: ParserSpec, text: string): ParsedLine {
  if (spec.type === "json") return parseJson(text);
  if (spec.type !== "regex") return {};
  let parse = compiledByPattern.get(spec.pattern);
  if (!parse) compiledByPattern.set(spec.pattern, parse = regexParser(spec.pattern));
  return parse(text);
}
