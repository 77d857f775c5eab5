import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { Envelope } from "../core/envelope.ts";
import { DOCUMENT_FIELDS, logDocument, readTime } from "./document.ts";

const envelope: Envelope = {
  "@timestamp": "2024-03-09T23:59:59.500Z",
  id: "evt-1",
  host: "web-1",
  source: "nginx",
  path: "/var/log/nginx/access.log",
  file_id: "2049-12-ab",
  offset: 120,
  message: "GET / 200",
};

/** The value at a dotted path of a document, as a search engine reads the field. */
function at(doc: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>(
    (value, key) => (value as Record<string, unknown> | undefined)?.[key],
    doc,
  );
}

Deno.test("document: every envelope field lands under its ECS name", () => {
  const doc = logDocument(envelope);
  assertEquals(doc, {
    "@timestamp": "2024-03-09T23:59:59.500Z",
    message: "GET / 200",
    event: { id: "evt-1", ingested: "2024-03-09T23:59:59.500Z", dataset: "nginx" },
    host: { name: "web-1" },
    log: { file: { path: "/var/log/nginx/access.log" }, offset: 120 },
    sluice: { file_id: "2049-12-ab" },
  });
  // The names searches use are the names the document has.
  assertEquals(at(doc, DOCUMENT_FIELDS.host), "web-1");
  assertEquals(at(doc, DOCUMENT_FIELDS.source), "nginx");
  assertEquals(at(doc, DOCUMENT_FIELDS.path), "/var/log/nginx/access.log");
  assertEquals(at(doc, DOCUMENT_FIELDS.offset), 120);
  assertEquals(at(doc, DOCUMENT_FIELDS.id), "evt-1");
  assertEquals(at(doc, DOCUMENT_FIELDS.fileId), "2049-12-ab");
});

Deno.test("document: extra fields are labels; a service label names the service", () => {
  const doc = logDocument({ ...envelope, fields: { env: "prod", service: "shop" } });
  assertEquals(doc.labels, { env: "prod", service: "shop" });
  assertEquals(doc.service, { name: "shop" });
  assertEquals(logDocument({ ...envelope, fields: { "service.name": "api" } }).service, {
    name: "api",
  });
  assertEquals("labels" in logDocument({ ...envelope, fields: {} }), false);
  assertEquals("service" in logDocument({ ...envelope, fields: { env: "prod" } }), false);
});

Deno.test("document: split and invalid lines and parsed fields are kept", () => {
  const doc = logDocument({ ...envelope, part: 2, invalid_utf8: true, parsed: { status: 200 } });
  assertEquals(doc.sluice, { file_id: "2049-12-ab", part: 2, invalid_utf8: true });
  assertEquals(doc.parsed, { status: 200 });
});

Deno.test("document: event.ingested is the record's read time when it has one", () => {
  const read = "2024-03-10T00:00:01.000Z";
  assertEquals(readTime({ ...envelope }), envelope["@timestamp"]);
  assertEquals(readTime({ ...envelope, "event.ingested": read }), read);
  assertEquals(readTime({ ...envelope, event: { ingested: read } }), read);
  assertEquals(readTime({ ...envelope, "event.ingested": "" }), envelope["@timestamp"]);
  const withRead = { ...envelope, "event.ingested": read } as unknown as Envelope;
  assertEquals(logDocument(withRead).event.ingested, read);
  assertEquals(logDocument(withRead)["@timestamp"], envelope["@timestamp"]);
});
