/**
 * What a source does to a line before it leaves the host, in this order: its parser (JSON or a
 * regex: fields), its event time (from those fields, before any redaction can touch them), its
 * processors (drop / keep, redact, convert, add fields). The result is the line's `@timestamp`,
 * its (possibly redacted) message and what its record adds (core/record_format.ts `LineExtras`).
 * A step that fails flags the line and never drops it; only a drop or keep step does. Pure; the
 * steps are compiled once per source, and a source with none of them pays nothing.
 * @module
 */
import type { LineExtras } from "../core/record_format.ts";
import type { Source } from "../config_plane/types.ts";
import { compileEventTime, type EventTimeReader } from "./event_time.ts";
import { compileLineParser, type LineParser } from "./line_parser.ts";
import { compileProcessors, type LineProcessor } from "./processors.ts";

/** A source's compiled steps (undefined: the source has none of that kind). */
export interface LineSteps {
  parse?: LineParser;
  eventTime?: EventTimeReader;
  process?: LineProcessor;
}

/** Compiles a source's parser, event time and processors (throws on an invalid spec). */
export function compileLineSteps(
  source: Pick<Source, "parser" | "timestamp" | "processors">,
): LineSteps {
  return {
    parse: compileLineParser(source.parser),
    eventTime: compileEventTime(source.timestamp),
    process: compileProcessors(source.processors),
  };
}

/** What `shapeLine` needs of a line; `text` is replaced by the redacted message. */
export interface ShapedLine {
  text: string;
  /** Set on a part of a split line: not a whole line, so it is not parsed. */
  part?: number;
}

/**
 * A line through the steps: its `@timestamp` (the event time, or `read` when the source takes
 * none or it did not parse) and its record's extras; the message is written back to `line.text`.
 * Undefined when a processor drops the line.
 *
 * @example
 * ```ts
 * import { compileLineSteps, shapeLine } from "./line_shape.ts";
 * const steps = compileLineSteps({
 *   parser: { type: "json" },
 *   timestamp: { field: "time", formats: ["rfc3339"] },
 *   processors: [{ type: "redact", pattern: "\\d{16}" }],
 * });
 * const line = { text: '{"time":"2024-05-01T10:00:00Z","card":"4111111111111111"}' };
 * const out = shapeLine(steps, line, "2024-05-02T00:00:00.000Z")!;
 * out.timestamp; // "2024-05-01T10:00:00.000Z"
 * out.extras.ingested; // "2024-05-02T00:00:00.000Z"
 * line.text.includes("4111"); // false
 * ```
 */
export function shapeLine(
  steps: LineSteps,
  line: ShapedLine,
  read: string,
): { timestamp: string; extras: LineExtras } | undefined {
  const flags: string[] = [];
  let fields: Record<string, unknown> | undefined;
  if (steps.parse && line.part === undefined) {
    const parsed = steps.parse(line.text);
    fields = parsed.fields;
    if (parsed.flag) flags.push(parsed.flag);
  }
  let timestamp = read;
  if (steps.eventTime) {
    const time = steps.eventTime(line.part === undefined ? fields : undefined, Date.parse(read));
    if (time.flag) flags.push(time.flag);
    else timestamp = new Date(time.time).toISOString();
  }
  if (steps.process) {
    const out = steps.process(line.text, fields);
    if (out.drop) return undefined;
    line.text = out.message;
    fields = out.parsed;
    for (const f of out.flags) flags.push(f);
  }
  return {
    timestamp,
    extras: {
      parsed: fields,
      ingested: steps.eventTime ? read : undefined,
      flags: flags.length > 0 ? flags : undefined,
    },
  };
}
