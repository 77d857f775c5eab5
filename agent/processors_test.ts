import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { ProcessorSpec } from "../config_plane/types.ts";
import { compileProcessors, DEFAULT_MASK } from "./processors.ts";

function run(specs: ProcessorSpec[], message: string, parsed?: Record<string, unknown>) {
  return compileProcessors(specs)!(message, parsed);
}

Deno.test("no processors compile to nothing, so the source pays nothing per line", () => {
  assertEquals(compileProcessors(undefined), undefined);
  assertEquals(compileProcessors([]), undefined);
});

Deno.test("drop and keep by a regex on the message", () => {
  const drop: ProcessorSpec[] = [{ type: "drop", pattern: "GET /healthz" }];
  assert(run(drop, '10.0.0.1 "GET /healthz HTTP/1.1" 200').drop);
  assertEquals(run(drop, '10.0.0.1 "GET /cart HTTP/1.1" 200'), {
    drop: false,
    message: '10.0.0.1 "GET /cart HTTP/1.1" 200',
    parsed: undefined,
    flags: [],
  });
  const keep: ProcessorSpec[] = [{ type: "keep", pattern: "\\b(?:ERROR|WARN)\\b" }];
  assert(!run(keep, "2024-03-09 ERROR boom").drop);
  assert(run(keep, "2024-03-09 INFO fine").drop);
  assert(!run([{ type: "keep", pattern: "(?i:error)" }], "Error: x").drop, "inline flags work");
});

Deno.test("drop and keep on a parsed field; a missing field never drops the line", () => {
  const drop: ProcessorSpec[] = [{ type: "drop", field: "status", pattern: "^[23]\\d\\d$" }];
  assert(run(drop, "a", { status: "204" }).drop);
  assert(run(drop, "a", { status: 302 }).drop, "a number is matched as its text");
  assertEquals(run(drop, "a", { status: "500" }).drop, false);
  assertEquals(run(drop, "a", {}), { drop: false, message: "a", parsed: {}, flags: [] });
  const keep: ProcessorSpec[] = [{ type: "keep", field: "log.level", pattern: "^error$" }];
  assertEquals(run(keep, "a", { log: { level: "error" } }).drop, false);
  assert(run(keep, "a", { log: { level: "info" } }).drop);
  assertEquals(run(keep, "not json", undefined), {
    drop: false,
    message: "not json",
    parsed: undefined,
    flags: ["keep_failed"],
  });
});

Deno.test("steps run in the declared order; a drop stops the rest", () => {
  const specs: ProcessorSpec[] = [
    { type: "redact", pattern: "secret\\S*", mask: "***" },
    { type: "drop", pattern: "\\*\\*\\*" },
    { type: "add_fields", fields: { seen: true } },
  ];
  const dropped = run(specs, "token=secret123", { a: "secret1" });
  assert(dropped.drop);
  assertEquals(dropped.parsed, { a: "***" }, "the add after the drop did not run");
  // The same steps with drop first: it sees the unredacted message and does not match.
  const reordered = run([specs[1], specs[0], specs[2]], "token=secret123", { a: "x" });
  assertEquals(reordered, {
    drop: false,
    message: "token=***",
    parsed: { a: "x", seen: true },
    flags: [],
  });
});

Deno.test("redact masks the message and every string in parsed fields, nested and in arrays", () => {
  const specs: ProcessorSpec[] = [
    { type: "redact", pattern: "\\b(?:\\d[ -]?){12}(\\d{4})\\b", mask: "[card ending $1]" },
    { type: "redact", pattern: "(?<=password=)\\S+" },
  ];
  const message = '{"card":"4111 1111 1111 1111","q":"password=hunter2 ok"}';
  const parsed = {
    card: "4111 1111 1111 1111",
    q: "password=hunter2 ok",
    nested: { deeper: [{ cc: "5500000000000004" }, "password=x", 4111111111111111] },
    status: 200,
  };
  const out = run(specs, message, parsed);
  assertEquals(out.message, `{"card":"[card ending 1111]","q":"password=${DEFAULT_MASK} ok"}`);
  assertEquals(out.parsed, {
    card: "[card ending 1111]",
    q: `password=${DEFAULT_MASK} ok`,
    nested: {
      deeper: [{ cc: "[card ending 0004]" }, `password=${DEFAULT_MASK}`, 4111111111111111],
    },
    status: 200,
  });
  assertEquals(out.flags, []);
});

Deno.test("redact leaves unmatched strings identical (no copies) and handles deep nesting", () => {
  const process = compileProcessors([{ type: "redact", pattern: "tok_[a-z0-9]+" }])!;
  const message = "nothing to hide here";
  const parsed = { a: "b", list: ["c", { d: "e" }] };
  const out = process(message, parsed);
  assert(out.message === message);
  assert(out.parsed === parsed);
  assertEquals(out.parsed, { a: "b", list: ["c", { d: "e" }] });
  // 100,000 levels of nesting: a recursive walk would overflow the stack.
  let deep: Record<string, unknown> = { leaf: "tok_abc" };
  for (let i = 0; i < 100_000; i++) deep = { n: deep };
  const walked = process("x", deep);
  assertEquals(walked.flags, []);
  let node = walked.parsed!;
  while (node.n) node = node.n as Record<string, unknown>;
  assertEquals(node.leaf, DEFAULT_MASK);
});

Deno.test("redact that cannot finish does not send the line as it was", () => {
  // A mask so long that the masked message exceeds the engine's string limit.
  const process = compileProcessors([
    { type: "redact", pattern: ".", mask: "x".repeat(1 << 20) },
  ])!;
  const out = process("y".repeat(1 << 10), { secret: "y" });
  assertEquals(out.flags, ["redact_failed"]);
  assertEquals(out.message, "x".repeat(1 << 20));
  assertEquals(out.parsed, undefined);
  assertEquals(out.drop, false);
});

Deno.test("convert gives parsed fields a type", () => {
  const specs: ProcessorSpec[] = [{
    type: "convert",
    fields: {
      status: "integer",
      bytes: "integer",
      duration: "float",
      cached: "boolean",
      "http.version": "float",
      user_id: "string",
      absent: "integer",
      nothing: "integer",
    },
  }];
  const out = run(specs, "m", {
    status: "200",
    bytes: " 512 ",
    duration: "0.25",
    cached: "TRUE",
    http: { version: "1.1" },
    user_id: 12345,
    nothing: null,
  });
  assertEquals(out, {
    drop: false,
    message: "m",
    parsed: {
      status: 200,
      bytes: 512,
      duration: 0.25,
      cached: true,
      http: { version: 1.1 },
      user_id: "12345",
      nothing: null,
    },
    flags: [],
  });
});

Deno.test("convert: every accepted and refused value", () => {
  const convert = (type: "integer" | "float" | "boolean" | "string", value: unknown) => {
    const out = run([{ type: "convert", fields: { v: type } }], "m", { v: value });
    return out.flags.length > 0 ? "failed" : out.parsed!.v;
  };
  assertEquals(convert("integer", "-42"), -42);
  assertEquals(convert("integer", "+7"), 7);
  assertEquals(convert("integer", 3), 3);
  assertEquals(convert("integer", true), 1);
  for (const bad of ["2.5", 2.5, "-", "", "12a", "9007199254740993", "1e3", {}, [1]]) {
    assertEquals(convert("integer", bad), "failed", JSON.stringify(bad));
  }
  assertEquals(convert("float", "1e3"), 1000);
  assertEquals(convert("float", ".5"), 0.5);
  assertEquals(convert("float", "-3."), -3);
  assertEquals(convert("float", 7), 7);
  for (const bad of ["NaN", "Infinity", "1e999", "-", "0x10", "1,5"]) {
    assertEquals(convert("float", bad), "failed", bad);
  }
  for (
    const [value, want] of [["yes", true], ["Off", false], ["1", true], ["0", false], [1, true], [
      0,
      false,
    ], [false, false]] as const
  ) {
    assertEquals(convert("boolean", value), want, String(value));
  }
  for (const bad of ["maybe", 2, "", {}]) {
    assertEquals(convert("boolean", bad), "failed", String(bad));
  }
  assertEquals(convert("string", { a: 1 }), '{"a":1}');
  assertEquals(convert("string", false), "false");
  assertEquals(convert("string", "x"), "x");
});

Deno.test("a convert that fails on one field leaves every field as it was, flagged", () => {
  const specs: ProcessorSpec[] = [
    { type: "convert", fields: { status: "integer", upstream_time: "float" } },
    { type: "add_fields", fields: { after: 1 } },
  ];
  const out = run(specs, "m", { status: "200", upstream_time: "-" });
  assertEquals(out, {
    drop: false,
    message: "m",
    parsed: { status: "200", upstream_time: "-", after: 1 },
    flags: ["convert_failed"],
  });
  const twice = run([specs[0], specs[0]], "m", { status: "x" });
  assertEquals(twice.flags, ["convert_failed", "convert_failed"]);
});

Deno.test("add_fields sets fields, creating parsed fields for an unparsed line", () => {
  const specs: ProcessorSpec[] = [
    {
      type: "add_fields",
      fields: { team: "checkout", tier: 1, pci: true },
    },
  ];
  assertEquals(run(specs, "m", { team: "old", a: 1 }).parsed, {
    team: "checkout",
    a: 1,
    tier: 1,
    pci: true,
  });
  const fresh = run(
    [{ type: "add_fields", fields: JSON.parse('{"__proto__": "x", "team": "t"}') }],
    "m",
  ).parsed!;
  assertEquals(Object.getPrototypeOf(fresh), Object.prototype);
  assertEquals(Object.keys(fresh), ["__proto__", "team"]);
});

Deno.test("a huge line: redaction and filters stay linear", () => {
  const big = "a".repeat(1 << 20) + " card 4111111111111111";
  const process = compileProcessors([
    { type: "keep", pattern: "card" },
    { type: "redact", pattern: "\\b\\d{16}\\b", mask: "****" },
  ])!;
  const started = performance.now();
  const out = process(big, { message: big });
  assert(performance.now() - started < 1000);
  assert(out.message.endsWith(" card ****"));
  assert((out.parsed!.message as string).endsWith(" card ****"));
});
