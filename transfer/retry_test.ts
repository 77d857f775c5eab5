/**
 * The retry decision fed with bulk responses captured from OpenSearch 2.19 and Elasticsearch 8.19
 * (testdata/).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { type BulkOutcome, decideBulk, describeEngineError } from "./retry.ts";

function fixture(name: string, engine = "opensearch_2.19"): BulkOutcome {
  const url = new URL(`./testdata/${engine}_${name}.json`, import.meta.url);
  const { status, body } = JSON.parse(Deno.readTextFileSync(url));
  return { kind: "response", status, body };
}

const noJitter = { initialMs: 100, maxMs: 5_000, jitter: 0 };
const decide = (o: BulkOutcome, docs: number, attempt = 0) =>
  decideBulk(o, docs, attempt, noJitter);

Deno.test("retry: a clean bulk response is a success (filtered and unfiltered)", () => {
  assertEquals(decide(fixture("bulk_success"), 2), { action: "success" });
  assertEquals(decide(fixture("bulk_success_unfiltered"), 2), { action: "success" });
});

Deno.test("retry: a mapping conflict dead-letters that document alone, with the reason", () => {
  for (const name of ["bulk_mapping_conflict", "bulk_mapping_conflict_unfiltered"]) {
    const d = decide(fixture(name), 3);
    if (d.action !== "items") throw new Error(`expected items, got ${d.action}`);
    assertEquals(d.retry, []);
    assertEquals(d.deadLetter.length, 1);
    assertEquals(d.deadLetter[0].item, 1);
    assertEquals(d.deadLetter[0].status, 400);
    assertEquals(d.deadLetter[0].type, "mapper_parsing_exception");
    assertEquals(
      d.deadLetter[0].reason.startsWith(
        "mapper_parsing_exception: failed to parse field [parsed.status] of type [long]",
      ),
      true,
    );
    assertEquals(d.deadLetter[0].reason.includes("(caused by json_parse_exception:"), true);
  }
});

Deno.test("retry: a too-large term is a content rejection, dead-lettered", () => {
  const d = decide(fixture("bulk_immense_term"), 2);
  if (d.action !== "items") throw new Error(d.action);
  assertEquals(d.deadLetter.map((r) => [r.item, r.status, r.type]), [
    [1, 400, "illegal_argument_exception"],
  ]);
  assertEquals(d.deadLetter[0].reason.includes("immense term"), true);
  assertEquals(d.deadLetter[0].reason.includes("max_bytes_length_exceeded_exception"), true);
});

Deno.test("retry: unparseable dates and broken documents are dead-lettered", () => {
  for (const name of ["bulk_bad_date", "bulk_duplicate_field", "bulk_malformed_body"]) {
    const d = decide(fixture(name), 1);
    if (d.action !== "items") throw new Error(`${name}: ${d.action}`);
    assertEquals([d.deadLetter.length, d.retry.length], [1, 0], name);
    assertEquals(d.deadLetter[0].type, "mapper_parsing_exception", name);
  }
});

Deno.test("retry: an item refused with 429 (read-only block) is retried, the rest is stored", () => {
  const d = decide(fixture("bulk_item_429_read_only"), 2);
  assertEquals(d, { action: "items", deadLetter: [], retry: [1], delayMs: 100 });
});

Deno.test("retry: an item refused with 503 (shards unavailable) is retried", () => {
  const d = decide(fixture("bulk_item_503_unavailable_shards"), 1, 3);
  assertEquals(d, { action: "items", deadLetter: [], retry: [0], delayMs: 800 });
});

Deno.test("retry: 413 on the whole request splits it; a lone document is dead-lettered", () => {
  const outcome = fixture("bulk_413_too_large");
  assertEquals(decide(outcome, 106), { action: "split", reason: "HTTP 413" });
  const single = decide(outcome, 1);
  if (single.action !== "items") throw new Error(single.action);
  assertEquals(single.deadLetter, [{
    item: 0,
    status: 413,
    type: "request_too_large",
    reason: "HTTP 413",
  }]);
});

Deno.test("retry: a body the engine cannot parse as a whole is split", () => {
  assertEquals(decide(fixture("bulk_no_final_newline"), 4), {
    action: "split",
    reason:
      "HTTP 400 illegal_argument_exception: The bulk request must be terminated by a newline [\\n]",
  });
});

Deno.test("retry: no connection, 429 and 5xx on the whole request are retried with backoff", () => {
  const refused: BulkOutcome = {
    kind: "error",
    name: "ConnectionError",
    message: "connect ECONNREFUSED 127.0.0.1:9200",
  };
  assertEquals(decide(refused, 10, 0), {
    action: "retry",
    delayMs: 100,
    reason: "ConnectionError: connect ECONNREFUSED 127.0.0.1:9200",
  });
  assertEquals(decide(refused, 10, 2).action === "retry" && decide(refused, 10, 2), {
    action: "retry",
    delayMs: 400,
    reason: "ConnectionError: connect ECONNREFUSED 127.0.0.1:9200",
  });
  // the delay is capped
  const late = decide(refused, 10, 30);
  assertEquals(late.action === "retry" ? late.delayMs : -1, 5_000);
  const busy = decide({
    kind: "response",
    status: 429,
    body: { error: { type: "circuit_breaking_exception", reason: "[parent] Data too large" } },
  }, 10);
  assertEquals(busy, {
    action: "retry",
    delayMs: 100,
    reason: "HTTP 429 circuit_breaking_exception: [parent] Data too large",
  });
  assertEquals(decide({ kind: "response", status: 503, body: "" }, 10).action, "retry");
  assertEquals(decide({ kind: "response", status: 502, body: "<html>bad gateway</html>" }, 1), {
    action: "retry",
    delayMs: 100,
    reason: "HTTP 502 <html>bad gateway</html>",
  });
});

Deno.test("retry: auth and missing-endpoint errors are retried, never dropped", () => {
  assertEquals(decide({ kind: "response", status: 401, body: "" }, 5).action, "retry");
  assertEquals(decide({ kind: "response", status: 403, body: "" }, 5).action, "retry");
});

Deno.test("retry: a 2xx answer that does not account for every document is retried", () => {
  assertEquals(decide({ kind: "response", status: 200, body: "oops" }, 1).action, "retry");
  assertEquals(
    decide({ kind: "response", status: 200, body: { errors: true, items: [] } }, 2).action,
    "retry",
  );
});

Deno.test("retry: 409 (document with this id already there) counts as stored", () => {
  const body = { errors: true, items: [{ create: { status: 409, error: { type: "x" } } }] };
  assertEquals(decide({ kind: "response", status: 200, body }, 1), { action: "success" });
});

Deno.test("retry: jitter draws the delay from the configured share of the ceiling", () => {
  const d = decideBulk(
    { kind: "response", status: 503, body: "" },
    1,
    1,
    { initialMs: 100, maxMs: 10_000, jitter: 0.5 },
    () => 1,
  );
  assertEquals(d.action === "retry" ? d.delayMs : -1, 100);
});

Deno.test("retry: engine errors are described with their cause", () => {
  assertEquals(
    describeEngineError({ type: "a", reason: "b", caused_by: { type: "c", reason: "d" } }),
    {
      type: "a",
      reason: "a: b (caused by c: d)",
    },
  );
  assertEquals(describeEngineError(undefined).type, "unknown");
});

/** The recordings that exist for both engines, so each case is decided the same for both. */
const ENGINES = ["opensearch_2.19", "elasticsearch_8.19"];

Deno.test("retry, both engines: a clean bulk response is a success", () => {
  for (const engine of ENGINES) {
    assertEquals(decide(fixture("bulk_success", engine), 2), { action: "success" }, engine);
  }
});

Deno.test("retry, both engines: an item refused with 429 (read-only block) is retried alone", () => {
  for (const engine of ENGINES) {
    assertEquals(
      decide(fixture("bulk_item_429_read_only", engine), 2),
      { action: "items", deadLetter: [], retry: [1], delayMs: 100 },
      engine,
    );
  }
});

Deno.test("retry: an Elasticsearch 8 mapping conflict dead-letters that document alone", () => {
  for (const engine of ["elasticsearch_8.19"]) {
    const d = decide(fixture("bulk_mapping_conflict", engine), 3);
    if (d.action !== "items") throw new Error(`${engine}: ${d.action}`);
    assertEquals(d.retry, [], engine);
    assertEquals(d.deadLetter.map((r) => [r.item, r.status, r.type]), [
      [1, 400, "document_parsing_exception"],
    ], engine);
    assertEquals(d.deadLetter[0].reason.includes("parsed.status"), true, engine);
  }
});

Deno.test("retry, both engines: a version conflict (the document is there) is a success", () => {
  for (const engine of ENGINES) {
    const outcome = fixture("bulk_version_conflict", engine);
    const body = (outcome as { body: { items: { create: { status: number } }[] } }).body;
    assertEquals(body.items[0].create.status, 409, engine);
    assertEquals(decide(outcome, 2), { action: "success" }, engine);
  }
});

Deno.test("retry, both engines: a closed index dead-letters its documents with the reason", () => {
  for (const engine of ENGINES) {
    const d = decide(fixture("bulk_closed_index", engine), 2);
    if (d.action !== "items") throw new Error(`${engine}: ${d.action}`);
    assertEquals(d.retry, [], engine);
    assertEquals(d.deadLetter.map((r) => [r.item, r.status, r.type]), [
      [1, 400, "index_closed_exception"],
    ], engine);
    assertEquals(d.deadLetter[0].reason.startsWith("index_closed_exception: closed"), true, engine);
  }
});
