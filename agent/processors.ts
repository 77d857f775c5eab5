/**
 * Processing on the host, with no I/O: a source's `processors` list is compiled once into a
 * function applied to every line in the declared order: drop or keep by a regex, redact matches
 * in the message and the parsed fields, convert parsed fields to a type, add fields. A step that
 * fails on a line leaves the line as it was and flags it; it never drops it.
 * @module
 */
import type { ConvertType, ProcessorSpec } from "../config_plane/types.ts";
import { compileFieldPath, type FieldSlot } from "./field_path.ts";

/** The mask of a `redact` step that sets none. */
export const DEFAULT_MASK = "[REDACTED]";

/**
 * Why a step did not apply to a line: it threw (a regex too deep for the engine, a value that
 * does not convert), or a `keep` step found no field to decide on.
 */
export type ProcessorFlag = `${ProcessorSpec["type"]}_failed`;

/** A line after the steps: dropped, or its (possibly changed) message and parsed fields. */
export interface ProcessedLine {
  /** True when a `drop` or `keep` step filtered the line out; later steps did not run. */
  drop: boolean;
  message: string;
  parsed: Record<string, unknown> | undefined;
  /** Steps that failed on the line, in order; empty (and shared) when none did. */
  flags: readonly ProcessorFlag[];
}

/**
 * Runs a source's steps on one line. `parsed` is taken over: it is changed in place (it is the
 * line's own object, fresh from the parser) and returned.
 */
export type LineProcessor = (
  message: string,
  parsed: Record<string, unknown> | undefined,
) => ProcessedLine;

const NO_FLAGS: readonly ProcessorFlag[] = Object.freeze([]);

/** One step: changes `line` in place, or throws (then the line is restored and flagged). */
type Step = (line: ProcessedLine) => void;

function flag(line: ProcessedLine, why: ProcessorFlag): void {
  line.flags = line.flags === NO_FLAGS ? [why] : [...line.flags, why];
}

/** A parsed value as text for a drop/keep regex. */
function asText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
}

function filterStep(spec: { type: "drop" | "keep"; pattern: string; field?: string }): Step {
  const re = new RegExp(spec.pattern);
  const drop = spec.type === "drop";
  if (spec.field === undefined) {
    return (line) => {
      if (re.test(line.message) === drop) line.drop = true;
    };
  }
  const locate = compileFieldPath(spec.field);
  return (line) => {
    const slot = line.parsed && locate(line.parsed);
    if (!slot) {
      // A line without the field does not match: `drop` keeps it. `keep` would drop it on a
      // missing field, maybe one that failed to parse: it keeps it too, flagged.
      if (!drop) flag(line, "keep_failed");
      return;
    }
    if (re.test(asText(slot.holder[slot.key])) === drop) line.drop = true;
  };
}

function redactStep(spec: { pattern: string; mask?: string }): Step {
  const re = new RegExp(spec.pattern, "g");
  // `$1`, `$<name>` and `$&` in the mask keep part of the match (the last four digits of a card).
  const mask = spec.mask ?? DEFAULT_MASK;
  return (line) => {
    // replace() returns its subject when nothing matches: no copy, one scan.
    line.message = line.message.replace(re, mask);
    const root = line.parsed;
    if (!root) return;
    // An explicit stack, not recursion: a deeply nested JSON line cannot overflow it.
    const stack: (Record<string, unknown> | unknown[])[] = [root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (Array.isArray(node)) {
        for (let i = 0; i < node.length; i++) {
          const v = node[i];
          if (typeof v === "string") {
            const r = v.replace(re, mask);
            if (r !== v) node[i] = r;
          } else if (typeof v === "object" && v !== null) stack.push(v as Record<string, unknown>);
        }
        continue;
      }
      for (const key in node) {
        const v = node[key];
        if (typeof v === "string") {
          const r = v.replace(re, mask);
          if (r !== v) node[key] = r;
        } else if (typeof v === "object" && v !== null) stack.push(v as Record<string, unknown>);
      }
    }
  };
}

/** Returned by a conversion that cannot convert the value. */
const CANNOT = Symbol("cannot convert");
type Converter = (value: unknown) => unknown;

const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/;
const FLOAT_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const BOOLEANS: Record<string, boolean> = {
  true: true,
  false: false,
  yes: true,
  no: false,
  on: true,
  off: false,
  "1": true,
  "0": false,
};

const CONVERTERS: Record<ConvertType, Converter> = {
  integer: (v) => {
    if (typeof v === "boolean") return v ? 1 : 0;
    const n = typeof v === "number" ? v : typeof v === "string" && INTEGER_TEXT.test(v) ? +v : NaN;
    // Beyond 2^53 a JSON number would silently lose digits.
    return Number.isSafeInteger(n) ? n : CANNOT;
  },
  float: (v) => {
    if (typeof v === "boolean") return v ? 1 : 0;
    const n = typeof v === "number" ? v : typeof v === "string" && FLOAT_TEXT.test(v) ? +v : NaN;
    return Number.isFinite(n) ? n : CANNOT;
  },
  boolean: (v) => {
    if (typeof v === "boolean") return v;
    if (v === 1 || v === 0) return v === 1;
    if (typeof v !== "string") return CANNOT;
    return BOOLEANS[v.trim().toLowerCase()] ?? CANNOT;
  },
  string: (v) => typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v),
};

function convertStep(fields: Record<string, ConvertType>): Step {
  const targets = Object.entries(fields).map(([name, type]) =>
    [compileFieldPath(name), CONVERTERS[type]] as const
  );
  return (line) => {
    const parsed = line.parsed;
    if (!parsed) return;
    // All or nothing: the values are converted first and written only if every one converts.
    let changes: [FieldSlot, unknown][] | undefined;
    for (const [locate, convert] of targets) {
      const slot = locate(parsed);
      if (!slot) continue; // an absent field (an optional regex group) has nothing to convert
      const value = slot.holder[slot.key];
      if (value === null || value === undefined) continue;
      const converted = convert(value);
      if (converted === CANNOT) throw new Error("cannot convert");
      if (converted !== value) (changes ??= []).push([slot, converted]);
    }
    if (changes) { for (const [slot, value] of changes) slot.holder[slot.key] = value; }
  };
}

function addFieldsStep(fields: Record<string, string | number | boolean>): Step {
  const entries = Object.entries(fields);
  return (line) => {
    const parsed = line.parsed ??= {};
    for (const [key, value] of entries) {
      // defineProperty: a `__proto__` key is a field, never the object's prototype.
      Object.defineProperty(parsed, key, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  };
}

function compileStep(spec: ProcessorSpec): Step {
  switch (spec.type) {
    case "drop":
    case "keep":
      return filterStep(spec);
    case "redact":
      return redactStep(spec);
    case "convert":
      return convertStep(spec.fields);
    case "add_fields":
      return addFieldsStep(spec.fields);
  }
}

/**
 * Compiles a source's processors once; undefined when it has none, so such a source pays nothing
 * per line. Regexes must compile (the schema checks make sure they do).
 *
 * A step that throws on a line leaves the line as the step found it and adds `<type>_failed` to
 * its flags; `redact` is the exception: a line it could not finish is not sent as it was (it may
 * hold what had to be masked) but with the message masked whole and no parsed fields.
 *
 * @example
 * ```ts
 * import { compileProcessors } from "./processors.ts";
 * const process = compileProcessors([
 *   { type: "drop", pattern: "GET /healthz" },
 *   { type: "redact", pattern: "\\b\\d{12}(\\d{4})\\b", mask: "************$1" },
 *   { type: "convert", fields: { status: "integer" } },
 *   { type: "add_fields", fields: { team: "checkout" } },
 * ])!;
 * process("GET /healthz 200", { status: "200" }).drop; // true
 * process("paid with 4111111111111111", { status: "200" });
 * // { drop: false, message: "paid with ************1111", parsed: { status: 200, team: "checkout" }, flags: [] }
 * process("x", { status: "-" }).flags; // ["convert_failed"], status stays "-"
 * ```
 */
export function compileProcessors(specs: ProcessorSpec[] | undefined): LineProcessor | undefined {
  if (!specs || specs.length === 0) return undefined;
  const steps = specs.map(compileStep);
  const failed = specs.map((s): ProcessorFlag => `${s.type}_failed`);
  const redacts = specs.map((s) => s.type === "redact");
  const masks = specs.map((s) => s.type === "redact" ? s.mask ?? DEFAULT_MASK : "");
  return (message, parsed) => {
    const line: ProcessedLine = { drop: false, message, parsed, flags: NO_FLAGS };
    for (let i = 0; i < steps.length; i++) {
      try {
        steps[i](line);
      } catch {
        // Only redact changes a line before it can throw; every other step throws first.
        if (redacts[i]) {
          line.message = masks[i];
          line.parsed = undefined;
        }
        flag(line, failed[i]);
      }
      if (line.drop) break;
    }
    return line;
  };
}
