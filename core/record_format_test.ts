import { deepStrictEqual as assertEquals, equal, notEqual } from "node:assert/strict";
import { type Envelope, eventId } from "./envelope.ts";
import {
  type DecodedEnvelope,
  decodeEnvelope,
  envelopeProblem,
  FileRecordEncoder,
  isEnvelope,
  recordKey,
} from "./record_format.ts";

const file = {
  host: "web-1",
  source: "nginx",
  path: "/var/log/nginx/access.log",
  fileId: "2049-1234-9f2c",
};
const at = "2026-11-21T10:20:30.456Z";

function decode(value: string | Uint8Array | null): DecodedEnvelope {
  return decodeEnvelope({
    value: typeof value === "string" ? new TextEncoder().encode(value) : value,
  });
}

function envelopeOf(value: string): Envelope {
  const decoded = decode(value);
  if ("problem" in decoded) throw new Error(decoded.problem);
  return decoded.envelope;
}

Deno.test("record format 1: the bytes an agent sends are pinned, field order included", () => {
  // Written by the agent before the format had an owner (the inline encoder of agent/tail_task.ts
  // at 13e6573) and by this encoder alike: agents in the field send exactly these bytes, and the
  // transfer must keep reading them.
  const sent = {
    key: "web-1/2049-1234-9f2c",
    value: '{"host":"web-1","source":"nginx","path":"/var/log/nginx/access.log",' +
      '"file_id":"2049-1234-9f2c","fields":{"env":"prod"},"@timestamp":"2026-11-21T10:20:30.456Z",' +
      '"id":"F5QL-CIlgfyx0lMO4VzG7T35s.1","offset":4096,"part":1,"invalid_utf8":true,' +
      '"parsed":{"status":200},"message":"GET /a?q=\\"x\\" 200"}',
  };
  const encoder = new FileRecordEncoder({ ...file, fields: { env: "prod" } });
  const line = { offset: 4096, text: 'GET /a?q="x" 200', part: 1, invalidUtf8: true as const };
  assertEquals(encoder.encodeLine(line, at, { parsed: { status: 200 } }), sent);
  assertEquals(
    new FileRecordEncoder(file).encodeLine({ offset: 0, text: "x" }, at).value,
    '{"host":"web-1","source":"nginx","path":"/var/log/nginx/access.log",' +
      '"file_id":"2049-1234-9f2c","@timestamp":"2026-11-21T10:20:30.456Z",' +
      `"id":"${eventId("web-1", "2049-1234-9f2c", 0)}","offset":0,"message":"x"}`,
  );
  const envelope = envelopeOf(sent.value);
  equal(envelope.id, eventId("web-1", "2049-1234-9f2c", 4096, 1));
  assertEquals(envelope.parsed, { status: 200 });
});

Deno.test("record format: every line decodes to the envelope it was encoded from", () => {
  // Characters JSON must escape, multi-byte UTF-8, a surrogate pair and a JS line separator.
  const alphabet = ["a", '"', "\\", "\n", "\r", "\t", "\u0000", "\u001f", "\u2028", "é", "😀", "{"];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const text = (n: number) =>
    Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]);
  for (let i = 0; i < 500; i++) {
    const fields = i % 3 === 0 ? undefined : i % 3 === 1 ? {} : { [text(3).join("")]: "v" };
    const spec = {
      host: `h${text(2).join("")}`,
      source: "s",
      path: `/p/${text(4).join("")}`,
      fileId: `1-${i}-ab`,
      fields,
    };
    const line = {
      offset: i * 139,
      text: text(i % 50).join(""),
      ...(i % 5 === 0 ? { part: i % 3 } : {}),
      ...(i % 7 === 0 ? { invalidUtf8: true as const } : {}),
    };
    const parsed = i % 4 === 0 ? { status: i, tags: [text(2).join("")] } : undefined;
    const record = new FileRecordEncoder(spec).encodeLine(line, at, parsed && { parsed });
    const decoded = decode(record.value);
    if ("problem" in decoded) throw new Error(`line ${i}: ${decoded.problem}`);
    // One line of JSON: the transfer indexes it without serialising it again.
    equal(decoded.json, record.value);
    equal(/[\n\r]/.test(record.value), false);
    assertEquals(decoded.envelope, {
      host: spec.host,
      source: "s",
      path: spec.path,
      file_id: spec.fileId,
      ...(fields && Object.keys(fields).length > 0 ? { fields } : {}),
      "@timestamp": at,
      id: eventId(spec.host, spec.fileId, line.offset, line.part ?? 0),
      offset: line.offset,
      ...("part" in line ? { part: line.part } : {}),
      ...("invalidUtf8" in line ? { invalid_utf8: true } : {}),
      ...(parsed ? { parsed } : {}),
      message: line.text,
    });
    equal(isEnvelope(decoded.envelope), true);
  }
});

Deno.test("record format: one key per file, so its lines stay in order on one partition", () => {
  const encoder = new FileRecordEncoder(file);
  const keys = new Set(
    [0, 140, 280].map((offset) => encoder.encodeLine({ offset, text: "x" }, at).key),
  );
  assertEquals([...keys], [recordKey("web-1", "2049-1234-9f2c")]);
  // A rename keeps the key (the file is the same); another file or host gets another key.
  equal(new FileRecordEncoder({ ...file, path: "/var/log/nginx/access.log.1" }).key, encoder.key);
  notEqual(new FileRecordEncoder({ ...file, fileId: "2049-1235-9f2c" }).key, encoder.key);
  notEqual(new FileRecordEncoder({ ...file, host: "web-2" }).key, encoder.key);
});

Deno.test("record format: a record that is no envelope is refused with the reason", () => {
  const problem = (value: string | Uint8Array | null) => {
    const decoded = decode(value);
    return "problem" in decoded ? decoded.problem : "decoded";
  };
  const valid = new FileRecordEncoder(file).encodeLine({ offset: 0, text: "x" }, at).value;
  equal(problem(valid), "decoded");
  equal(problem(null), "empty record value");
  equal(problem(new Uint8Array([0x7b, 0xff])), "record value is not valid UTF-8");
  equal(problem(valid.slice(0, -1)).startsWith("not JSON: "), true);
  equal(problem('"text"'), "not an envelope: the JSON value is string");
  const { message: _, offset: __, ...partial } = JSON.parse(valid);
  equal(problem(JSON.stringify(partial)), "not an envelope: missing or mistyped offset, message");
  // The date is the reader's routing rule, not the format's: the record decodes.
  equal(problem(valid.replace(at, "soon")), "decoded");
});

Deno.test("isEnvelope accepts a full envelope and refuses incomplete ones", () => {
  const e: Envelope = {
    "@timestamp": "2026-11-21T00:00:00.000Z",
    id: "x",
    host: "h",
    source: "s",
    path: "/var/log/a.log",
    file_id: "1-2-3",
    offset: 0,
    message: "hello",
  };
  equal(isEnvelope(e), true);
  equal(isEnvelope({ ...e, "@timestamp": "not a date" }), false);
  equal(isEnvelope({ ...e, offset: "0" }), false);
  equal(isEnvelope({ ...e, id: "" }), false);
  equal(isEnvelope(null), false);
  equal(isEnvelope("{}"), false);
});

Deno.test("envelopeProblem names every missing or mistyped field, and an empty id", () => {
  equal(envelopeProblem([1]), "not an envelope: the JSON value is an array");
  equal(envelopeProblem(null), "not an envelope: the JSON value is null");
  equal(
    envelopeProblem({ message: 1 }),
    "not an envelope: missing or mistyped @timestamp, id, host, source, path, file_id, offset, message",
  );
  const e = envelopeOf(new FileRecordEncoder(file).encodeLine({ offset: 0, text: "x" }, at).value);
  equal(envelopeProblem(e), undefined);
  equal(envelopeProblem({ ...e, id: "" }), "not an envelope: empty id");
  equal(envelopeProblem({ ...e, fields: { env: "prod" } }), undefined);
});
