import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { compileLineParser, parseLine } from "./line_parser.ts";

const NGINX = '^(?<ip>\\S+) \\S+ (?<user>\\S+) \\[(?<time>[^\\]]+)\\] "(?<method>\\S+) ' +
  '(?<path>\\S+) [^"]*" (?<status>\\d{3}) (?<bytes>\\d+|-)(?: "(?<referer>[^"]*)")?';

Deno.test("json: an object line becomes its fields, nested values kept", () => {
  const parse = compileLineParser({ type: "json" })!;
  assertEquals(parse('{"level":"info","http":{"status":200},"tags":["a"]}'), {
    fields: { level: "info", http: { status: 200 }, tags: ["a"] },
  });
  assertEquals(parse('  {"a":1}  '), { fields: { a: 1 } });
  assertEquals(parse("{}"), { fields: {} });
});

Deno.test("json: invalid JSON and non-object JSON are flagged, with no fields", () => {
  const parse = compileLineParser({ type: "json" })!;
  for (const text of ["", "   ", "plain text", '{"a":1', '{"a":1}x', "{'a':1}", "\tat Foo.bar"]) {
    assertEquals(parse(text), { flag: "json_invalid" }, text);
  }
  for (const text of ["[1,2]", "42", '"text"', "null", "true"]) {
    assertEquals(parse(text), { flag: "json_not_object" }, text);
  }
});

Deno.test("json: a __proto__ key is an own field, not the prototype", () => {
  const { fields } = compileLineParser({ type: "json" })!('{"__proto__":{"x":1},"a":2}');
  assert(fields);
  assertEquals(Object.getPrototypeOf(fields), Object.prototype);
  assert(Object.hasOwn(fields, "__proto__"));
  assertEquals((fields as Record<string, unknown>).x, undefined);
});

Deno.test("regex: named groups become fields; groups that did not take part are left out", () => {
  const parse = compileLineParser({ type: "regex", pattern: NGINX })!;
  const line = '10.0.0.1 - - [09/Mar/2024:12:00:01 +0100] "GET /x HTTP/1.1" 200 512';
  assertEquals(parse(line), {
    fields: {
      ip: "10.0.0.1",
      user: "-",
      time: "09/Mar/2024:12:00:01 +0100",
      method: "GET",
      path: "/x",
      status: "200",
      bytes: "512",
    },
  });
  const withReferer = parse(line + ' "https://a.example/"');
  assertEquals(withReferer.fields?.referer, "https://a.example/");
  assertEquals(Object.getPrototypeOf(withReferer.fields), Object.prototype);
});

Deno.test("regex: a line that does not match is flagged regex_no_match", () => {
  const parse = compileLineParser({ type: "regex", pattern: NGINX })!;
  assertEquals(parse("GET /x 200"), { flag: "regex_no_match" });
  assertEquals(parse(""), { flag: "regex_no_match" });
});

Deno.test("none or no parser compiles to nothing, so the source pays nothing per line", () => {
  assertEquals(compileLineParser(undefined), undefined);
  assertEquals(compileLineParser({ type: "none" }), undefined);
});

Deno.test("huge lines: a 1 MiB JSON object and a 1 MiB regex line parse; 1 MiB of text is flagged", () => {
  const big = "x".repeat(1 << 20);
  const json = compileLineParser({ type: "json" })!;
  assertEquals(json(JSON.stringify({ message: big, n: 1 })).fields?.n, 1);
  assertEquals(json(big), { flag: "json_invalid" });
  assertEquals(json("{" + big), { flag: "json_invalid" });
  const regex = compileLineParser({ type: "regex", pattern: "^(?<head>\\w{4})(?<rest>.*)$" })!;
  const fields = regex(big).fields!;
  assertEquals(fields.head, "xxxx");
  assertEquals((fields.rest as string).length, (1 << 20) - 4);
  const started = performance.now();
  assertEquals(regex("-" + big), { flag: "regex_no_match" });
  assert(performance.now() - started < 1000, "an anchored non-match must not scan for long");
});

Deno.test("parseLine compiles a regex once and answers like the compiled parser", () => {
  const spec = { type: "regex" as const, pattern: "^(?<a>\\d+)$" };
  assertEquals(parseLine(spec, "12"), { fields: { a: "12" } });
  assertEquals(parseLine(spec, "x"), { flag: "regex_no_match" });
  assertEquals(parseLine({ type: "json" }, "[]"), { flag: "json_not_object" });
  assertEquals(parseLine({ type: "none" }, "anything"), {});
});
