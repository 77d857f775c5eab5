import { equal, notEqual } from "node:assert/strict";
import { eventId, eventIdFrom, eventIdPrefix } from "./envelope.ts";

Deno.test("eventId is stable for the same line and differs for any other part", () => {
  const a = eventId("web-1", "64769-1234-ab12", 4096);
  equal(a, eventId("web-1", "64769-1234-ab12", 4096));
  equal(a.length, 22 + 3); // the file's prefix, then 4096 in base 36
  equal(a.slice(0, 22), eventId("web-1", "64769-1234-ab12", 0).slice(0, 22));
  notEqual(a, eventId("web-2", "64769-1234-ab12", 4096));
  notEqual(a, eventId("web-1", "64769-1235-ab12", 4096));
  notEqual(a, eventId("web-1", "64769-1234-ab12", 4097));
  notEqual(a, eventId("web-1", "64769-1234-ab12", 4096, 1));
});

Deno.test("event ids of one file are distinct for every offset and part", () => {
  const prefix = eventIdPrefix("web-1", "64769-1234-ab12");
  const ids = new Set<string>();
  for (let offset = 0; offset < 5_000; offset++) {
    for (let part = 0; part < 3; part++) ids.add(eventIdFrom(prefix, offset, part));
  }
  equal(ids.size, 15_000);
  equal(eventIdFrom(prefix, 4096), eventId("web-1", "64769-1234-ab12", 4096));
});
