import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { expiredIndices, shardDay } from "./retention.ts";

const now = Date.parse("2024-03-10T12:00:00Z");

Deno.test("retention: keeps `days` days including today, deletes older shards", () => {
  const indices = [
    "s-web-2024.03.10",
    "s-web-2024.03.04",
    "s-web-2024.03.03",
    "s-app-2024.02.01",
    "s-app-2023.12.31",
  ];
  assertEquals(expiredIndices(indices, "s", 7, now), [
    "s-app-2023.12.31",
    "s-app-2024.02.01",
    "s-web-2024.03.03",
  ]);
});

Deno.test("retention: one day keeps only today", () => {
  assertEquals(
    expiredIndices(["s-a-2024.03.10", "s-a-2024.03.09"], "s", 1, now),
    ["s-a-2024.03.09"],
  );
});

Deno.test("retention: names that are not our date shards are never selected", () => {
  const indices = [
    "other-a-2020.01.01",
    "s-2020.01.01", // no stream part
    "s-a-2020.1.1",
    "s-a-2020.02.31", // no such day
    "sx-a-2020.01.01",
    ".kibana",
    "s-a-2020.01.01-restored",
  ];
  assertEquals(expiredIndices(indices, "s", 7, now), []);
});

Deno.test("retention: a stream may contain dashes and dots", () => {
  assertEquals(shardDay("s-my-app.v2-2024.03.01", "s"), Date.UTC(2024, 2, 1));
  assertEquals(shardDay("s-a-2024.02.30", "s"), undefined);
});
