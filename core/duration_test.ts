import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DURATION_PATTERN, parseDuration } from "./duration.ts";

Deno.test("parseDuration: every unit, and what is not a duration", () => {
  assertEquals(
    ["250ms", "30s", "5m", "24h", "7d", "0s"].map(parseDuration),
    [250, 30_000, 300_000, 86_400_000, 604_800_000, 0],
  );
  for (const bad of ["", "5", "m", "1.5h", "-1s", "5 m", "5M", "1w", "99999999999999999d"]) {
    assertEquals(parseDuration(bad), undefined, bad);
  }
  // The schema's pattern accepts exactly what parses (up to the size limit).
  const re = new RegExp(DURATION_PATTERN);
  for (const text of ["250ms", "30s", "5m", "1.5h", "5 m"]) {
    assertEquals(re.test(text), parseDuration(text) !== undefined, text);
  }
});
