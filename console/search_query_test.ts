import { deepStrictEqual as assertEquals, equal, ok as assert } from "node:assert/strict";
import {
  checkLogQuery,
  histogramInterval,
  INTERVALS,
  searchBody,
  spanMs,
  tailBody,
} from "./search_query.ts";

const NOW = Date.parse("2024-03-09T12:00:00Z");
const q = (text: string) => checkLogQuery(new URLSearchParams(text), NOW);

Deno.test("spans: s, m, h, d; anything else is not one", () => {
  equal(spanMs("15m"), 900_000);
  equal(spanMs("2h"), 7_200_000);
  equal(spanMs("7d"), 604_800_000);
  equal(spanMs("30s"), 30_000);
  for (const bad of ["", "15", "m", "0m", "1w", "-1h", "1.5h"]) equal(spanMs(bad), undefined, bad);
});

Deno.test("a search defaults to the last 15 minutes, everything, 100 rows", () => {
  assertEquals(q(""), {
    ok: true,
    value: { q: "", from: NOW - 900_000, to: NOW, sources: [], size: 100 },
  });
});

Deno.test("range, from/to, sources (repeated or comma separated) and size are read", () => {
  const r = q("q=%20error%20&range=1h&source=nginx,app&source=db&size=20");
  assertEquals(r, {
    ok: true,
    value: {
      q: "error",
      from: NOW - 3_600_000,
      to: NOW,
      sources: ["nginx", "app", "db"],
      size: 20,
    },
  });
  const fixed = q("from=2024-03-08T00:00:00Z&to=2024-03-08T06:00:00.000Z&range=ignored");
  assert(fixed.ok);
  if (fixed.ok) {
    equal(fixed.value.from, Date.parse("2024-03-08T00:00:00Z"));
    equal(fixed.value.to, Date.parse("2024-03-08T06:00:00Z"));
  }
  // `to` alone moves the end of a relative range.
  const ending = q("range=1h&to=2024-03-09T10:00:00Z");
  assert(ending.ok && ending.value.from === Date.parse("2024-03-09T09:00:00Z"));
});

Deno.test("bad parameters are named", () => {
  const paths = (text: string) => {
    const r = q(text);
    return r.ok ? [] : r.errors.map((e) => e.path);
  };
  assertEquals(paths("range=forever"), ["range"]);
  assertEquals(paths("from=yesterday"), ["from"]);
  assertEquals(paths("from=2024-03-09T12:00:00Z&to=2024-03-09T11:00:00Z"), ["from"]);
  assertEquals(paths("size=501"), ["size"]);
  assertEquals(paths("size=-1"), ["size"]);
  assertEquals(paths("size=ten&to=nope"), ["to", "size"]);
});

Deno.test("histogram interval: the smallest that draws the range in at most 60 bars", () => {
  equal(histogramInterval(60_000), "1s");
  equal(histogramInterval(61_000), "5s");
  equal(histogramInterval(15 * 60_000), "30s");
  equal(histogramInterval(3_600_000), "1m");
  equal(histogramInterval(86_400_000), "30m");
  equal(histogramInterval(7 * 86_400_000), "3h");
  equal(histogramInterval(30 * 86_400_000), "12h");
  equal(histogramInterval(10 * 365 * 86_400_000), "30d"); // the largest, even past 60 bars
  equal(histogramInterval(0), "1s");
  for (let range = 1_000; range < 3 * 365 * 86_400_000; range *= 1.7) {
    const ms = INTERVALS.find(([name]) => name === histogramInterval(range))![1];
    assert(Math.ceil(range / ms) <= 60, `${range} ms → ${ms}`);
  }
});

Deno.test("search body: time range filter, sources, query string, histogram over the range", () => {
  const from = Date.parse("2024-03-09T11:45:00Z");
  const body = searchBody({
    q: "error AND host.name:web-1",
    from,
    to: NOW,
    sources: ["app"],
    size: 50,
  });
  equal(body.size, 50);
  equal(body.track_total_hits, true);
  assertEquals(body.sort[0], { "@timestamp": { order: "desc" } });
  assertEquals(body.query.bool.filter, [
    {
      range: {
        "@timestamp": {
          gte: "2024-03-09T11:45:00.000Z",
          lte: "2024-03-09T12:00:00.000Z",
          format: "strict_date_optional_time",
        },
      },
    },
    {
      bool: {
        should: [{ terms: { "event.dataset": ["app"] } }, { terms: { source: ["app"] } }],
        minimum_should_match: 1,
      },
    },
  ]);
  assertEquals(body.query.bool.must, [{
    query_string: {
      query: "error AND host.name:web-1",
      default_field: "message",
      default_operator: "AND",
      lenient: true,
    },
  }]);
  assertEquals(body.aggs.histogram.date_histogram, {
    field: "@timestamp",
    fixed_interval: "30s",
    min_doc_count: 0,
    extended_bounds: { min: from, max: NOW },
  });
  equal(body.aggs.sources.terms.field, "event.dataset");
  // Indices written before ECS names are read beside the new ones.
  equal(body.aggs.legacy_sources.terms.field, "source");
  assertEquals(body.sort[1], { "log.offset": { order: "desc", unmapped_type: "long" } });
});

Deno.test("no query text, no sources: only the time filter", () => {
  const body = searchBody({ q: "", from: 0, to: 1000, sources: [], size: 0 });
  equal(body.query.bool.filter.length, 1);
  assertEquals(body.query.bool.must, []);
});

Deno.test("tail body: at or after `since`, oldest first", () => {
  const body = tailBody({ q: "x", from: 0, to: NOW, sources: [], size: 200 }, NOW - 5000);
  assertEquals(body.sort[0], { "@timestamp": { order: "asc" } });
  const range = body.query.bool.filter[0].range as { "@timestamp": Record<string, string> };
  equal(range["@timestamp"].gte, "2024-03-09T11:59:55.000Z");
  equal(body.query.bool.must.length, 1);
});
