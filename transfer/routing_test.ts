import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { indexFor, indexNamePart, utcDay } from "./routing.ts";
import type { Envelope } from "../core/envelope.ts";

function envelope(timestamp: string, source = "nginx"): Envelope {
  return {
    "@timestamp": timestamp,
    id: "id-1",
    host: "web-1",
    source,
    path: "/var/log/nginx/access.log",
    file_id: "2049-12-abc",
    offset: 0,
    message: "GET /",
  };
}

const options = { prefix: "sluice", stream: "source" as const };

Deno.test("routing: both sides of midnight UTC go to their own day", () => {
  assertEquals(
    indexFor(envelope("2024-03-09T23:59:59.999Z"), "t", options),
    "sluice-nginx-2024.03.09",
  );
  assertEquals(
    indexFor(envelope("2024-03-10T00:00:00.000Z"), "t", options),
    "sluice-nginx-2024.03.10",
  );
});

Deno.test("routing: offsets are converted to UTC before taking the day", () => {
  assertEquals(utcDay("2024-03-09T23:30:00-02:00"), "2024.03.10");
  assertEquals(utcDay("2024-03-10T01:30:00+02:00"), "2024.03.09");
});

Deno.test("routing: month and year boundaries, leap day", () => {
  assertEquals(utcDay("2023-12-31T23:59:59Z"), "2023.12.31");
  assertEquals(utcDay("2024-01-01T00:00:00Z"), "2024.01.01");
  assertEquals(utcDay("2024-02-29T12:00:00Z"), "2024.02.29");
});

Deno.test("routing: an undatable timestamp gives no index", () => {
  assertEquals(utcDay("yesterday"), undefined);
  assertEquals(indexFor(envelope("not a date"), "t", options), undefined);
});

Deno.test("routing: stream from the topic instead of the source", () => {
  assertEquals(
    indexFor(envelope("2024-03-09T10:00:00Z"), "app-logs", { prefix: "p", stream: "topic" }),
    "p-app-logs-2024.03.09",
  );
});

Deno.test("routing: stream names are made valid index name parts", () => {
  assertEquals(indexNamePart("Web Logs/2"), "web_logs_2");
  assertEquals(indexNamePart("-x"), "x");
  assertEquals(indexNamePart('a*b?c"d<e>f|g,h#i:j\\k'), "a_b_c_d_e_f_g_h_i_j_k");
  assertEquals(indexNamePart("___"), "_");
  assertEquals(
    indexFor(envelope("2024-03-09T10:00:00Z", "App.Server"), "t", options),
    "sluice-app.server-2024.03.09",
  );
});
