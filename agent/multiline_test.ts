import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Line } from "./line_splitter.ts";
import { MultilineJoiner } from "./multiline.ts";

let at = 0;
function line(text: string, extra: Partial<Line> = {}): Line {
  const l: Line = {
    offset: at,
    end: at + text.length + 1,
    resume: at + text.length + 1,
    text,
    ...extra,
  };
  at = l.end;
  return l;
}

Deno.test("joins continuation lines to the event begun by a start line", () => {
  at = 0;
  const j = new MultilineJoiner({ start_pattern: "^\\d{4}-" });
  const out = [
    ...j.push(line("2024-01-01 boom"), 0),
    ...j.push(line("  at a()"), 1),
    ...j.push(line("  at b()"), 2),
    ...j.push(line("2024-01-01 next"), 3),
  ];
  assertEquals(out, [{
    offset: 0,
    end: 34,
    resume: 34,
    text: "2024-01-01 boom\n  at a()\n  at b()",
  }]);
  assert(j.pending);
  assertEquals(j.flush().map((e) => e.text), ["2024-01-01 next"]);
  assert(!j.pending);
});

Deno.test("max_lines closes an event", () => {
  at = 0;
  const j = new MultilineJoiner({ start_pattern: "^S", max_lines: 2 });
  const out = ["S1", "c", "c", "c", "c"].flatMap((t) => j.push(line(t), 0));
  assertEquals(out.map((e) => e.text), ["S1\nc", "c\nc"]);
  assertEquals(j.flush().map((e) => e.text), ["c"]);
});

Deno.test("timeout closes an idle event, not a fresh one", () => {
  at = 0;
  const j = new MultilineJoiner({ start_pattern: "^S", timeout_ms: 100 });
  j.push(line("S"), 1000);
  j.push(line(" more"), 1050);
  assertEquals(j.flushDue(1100), []);
  assertEquals(j.flushDue(1150).map((e) => e.text), ["S\n more"]);
  assertEquals(j.flushDue(5000), []);
});

Deno.test("lines before the first start line form their own event", () => {
  at = 0;
  const j = new MultilineJoiner({ start_pattern: "^S" });
  const out = [
    ...j.push(line(" orphan"), 0),
    ...j.push(line(" orphan2"), 0),
    ...j.push(line("S"), 0),
  ];
  assertEquals(out.map((e) => e.text), [" orphan\n orphan2"]);
});

Deno.test("parts of a split line are glued back without a newline; invalid UTF-8 flag carries", () => {
  at = 0;
  const j = new MultilineJoiner({ start_pattern: "^S" });
  j.push({ offset: 0, end: 4, resume: 0, text: "Sabc", part: 0 }, 0);
  j.push({ offset: 0, end: 7, resume: 7, text: "Sxy", part: 1, invalidUtf8: true }, 0);
  assertEquals(j.flush(), [{ offset: 0, end: 7, resume: 7, text: "SabcSxy", invalidUtf8: true }]);
});
