import { deepStrictEqual as assertEquals, equal, notEqual } from "node:assert/strict";
import { type Envelope, eventId } from "./envelope.ts";
import {
  type DecodedEnvelope,
  decodeEnvelope,
  envelopeProblem,
  FileRecordEncoder,
  isEnvelope,
  JsonRecordEncoder,
  type LineExtras,
  readHeaders,
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
  const encoder = new JsonRecordEncoder({ ...file, fields: { env: "prod" } });
  const line = { offset: 4096, text: 'GET /a?q="x" 200', part: 1, invalidUtf8: true as const };
  assertEquals(encoder.encodeLine(line, at, { parsed: { status: 200 } }), sent);
  assertEquals(
    new JsonRecordEncoder(file).encodeLine({ offset: 0, text: "x" }, at).value,
    '{"host":"web-1","source":"nginx","path":"/var/log/nginx/access.log",' +
      '"file_id":"2049-1234-9f2c","@timestamp":"2026-11-21T10:20:30.456Z",' +
      `"id":"${eventId("web-1", "2049-1234-9f2c", 0)}","offset":0,"message":"x"}`,
  );
  const envelope = envelopeOf(sent.value);
  equal(envelope.id, eventId("web-1", "2049-1234-9f2c", 4096, 1));
  assertEquals(envelope.parsed, { status: 200 });
});

Deno.test("record format 1: every line decodes to the envelope it was encoded from", () => {
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
    const record = new JsonRecordEncoder(spec).encodeLine(line, at, parsed && { parsed });
    const decoded = decode(record.value);
    if ("problem" in decoded) throw new Error(`line ${i}: ${decoded.problem}`);
    equal(decoded.format, 1);
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
  const encoder = new JsonRecordEncoder(file);
  const keys = new Set(
    [0, 140, 280].map((offset) => encoder.encodeLine({ offset, text: "x" }, at).key),
  );
  assertEquals([...keys], [recordKey("web-1", "2049-1234-9f2c")]);
  // A rename keeps the key (the file is the same); another file or host gets another key.
  equal(new JsonRecordEncoder({ ...file, path: "/var/log/nginx/access.log.1" }).key, encoder.key);
  notEqual(new JsonRecordEncoder({ ...file, fileId: "2049-1235-9f2c" }).key, encoder.key);
  notEqual(new JsonRecordEncoder({ ...file, host: "web-2" }).key, encoder.key);
});

Deno.test("record format: a record that is no envelope is refused with the reason", () => {
  const problem = (value: string | Uint8Array | null) => {
    const decoded = decode(value);
    return "problem" in decoded ? decoded.problem : "decoded";
  };
  const valid = new JsonRecordEncoder(file).encodeLine({ offset: 0, text: "x" }, at).value;
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
  const e = envelopeOf(new JsonRecordEncoder(file).encodeLine({ offset: 0, text: "x" }, at).value);
  equal(envelopeProblem(e), undefined);
  equal(envelopeProblem({ ...e, id: "" }), "not an envelope: empty id");
  equal(envelopeProblem({ ...e, fields: { env: "prod" } }), undefined);
});

/** Format 2's record of `line` as a consumer hands it over, through the agent's send path. */
function format2(
  spec: typeof file & { fields?: Record<string, string> },
  line: { offset: number; text: string; part?: number; invalidUtf8?: true },
  timestamp: string,
  extras?: LineExtras,
) {
  return new FileRecordEncoder(spec).encodeLine(line, timestamp, extras);
}

Deno.test("record format 2: the bytes an agent sends are pinned, headers included", () => {
  const encoder = new FileRecordEncoder({ ...file, fields: { env: "prod" } });
  encoder.begin(at);
  const read = new TextEncoder().encode('xxGET /a?q="x" 200\r\n');
  encoder.addBytes(read, 2, 18, 4096, 1);
  const sent = encoder.finish();
  assertEquals(sent.keys, ["web-1/2049-1234-9f2c"]);
  assertEquals(sent.keyEnds, [1]);
  const value = sent.data.subarray(0, sent.valueEnds[0]);
  equal(new TextDecoder().decode(value), 'GET /a?q="x" 200');
  const headers = sent.data.subarray(sent.valueEnds[0], sent.ends[0]);
  const fileJson = '{"source":"nginx","path":"/var/log/nginx/access.log","fields":{"env":"prod"}}';
  const lineText = `4096.1 ${at}`;
  // Kafka's wire form: zig-zag varint count, then length-prefixed name and value of each.
  const expected = [
    4,
    16,
    ...new TextEncoder().encode("sluice.f"),
    ((fileJson.length * 2) & 0x7f) | 0x80, // 154: two varint bytes
    (fileJson.length * 2) >> 7,
    ...new TextEncoder().encode(fileJson),
    16,
    ...new TextEncoder().encode("sluice.l"),
    lineText.length * 2,
    ...new TextEncoder().encode(lineText),
  ];
  assertEquals([...headers], expected);
  const decoded = decodeEnvelope({ key: sent.keys[0], value, headers: readHeaders(headers) });
  if ("problem" in decoded) throw new Error(decoded.problem);
  equal(decoded.format, 2);
  assertEquals(decoded.envelope, {
    host: "web-1",
    source: "nginx",
    path: "/var/log/nginx/access.log",
    file_id: "2049-1234-9f2c",
    fields: { env: "prod" },
    "@timestamp": at,
    id: eventId("web-1", "2049-1234-9f2c", 4096, 1),
    offset: 4096,
    part: 1,
    message: 'GET /a?q="x" 200',
  });
});

Deno.test("record format 2: a line reads back as the same envelope as format 1 (upgrade)", () => {
  // The same alphabet as format 1's round trip: what JSON escapes means nothing to format 2.
  const alphabet = ["a", '"', "\\", "\n", "\r", "\t", "\u0000", "\u001f", "\u2028", "é", "😀", "{"];
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const text = (n: number) =>
    Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
  for (let i = 0; i < 500; i++) {
    const fields = i % 3 === 0 ? undefined : i % 3 === 1 ? {} : { [text(3)]: "v" };
    const spec = { host: `h/${text(2)}`, source: "s", path: `/p/${text(4)}`, fileId: `1-${i}-ab` };
    const line = {
      offset: i * 139,
      text: text(i % 50),
      ...(i % 5 === 0 ? { part: i % 3 } : {}),
      ...(i % 7 === 0 ? { invalidUtf8: true as const } : {}),
    };
    const extras: LineExtras | undefined = i % 4 === 0
      ? { parsed: { status: i, tags: [text(2)] } }
      : i % 4 === 1
      ? { ingested: "2026-11-22T00:00:00.000Z", flags: ["timestamp_invalid"] }
      : undefined;
    const old = new JsonRecordEncoder({ ...spec, fields }).encodeLine(line, at, extras);
    const record = format2({ ...spec, fields }, line, at, extras);
    const decoded = decodeEnvelope(record);
    if ("problem" in decoded) throw new Error(`line ${i}: ${decoded.problem}`);
    equal(decoded.format, 2);
    assertEquals(decoded.envelope, envelopeOf(old.value), `line ${i}`);
    equal(isEnvelope(decoded.envelope), true);
  }
});

Deno.test("record format 2: a line sent as read is flagged as not UTF-8 where it is decoded", () => {
  const encoder = new FileRecordEncoder(file);
  encoder.begin(at);
  const bytes = new Uint8Array([0x61, 0xff, 0x62, 0x0a, 0xc3, 0xa9, 0x0a]);
  encoder.addBytes(bytes, 0, 3, 0, -1);
  encoder.addBytes(bytes, 4, 6, 4, -1);
  const sent = encoder.finish();
  const record = (i: number) => {
    const start = i === 0 ? 0 : sent.ends[i - 1];
    return decodeEnvelope({
      key: sent.keys[0],
      value: sent.data.slice(start, sent.valueEnds[i]),
      headers: readHeaders(sent.data.subarray(sent.valueEnds[i], sent.ends[i])),
    });
  };
  const bad = record(0);
  const good = record(1);
  if ("problem" in bad || "problem" in good) throw new Error("not decoded");
  // The agent of format 1 decoded the same bytes the same way (agent/line_splitter.ts).
  assertEquals([bad.envelope.message, bad.envelope.invalid_utf8], ["a\uFFFDb", true]);
  assertEquals([good.envelope.message, good.envelope.invalid_utf8], ["é", undefined]);
  assertEquals(good.envelope.offset, 4);
});

Deno.test("record format 2: a send of many lines spills over slabs without losing bytes", () => {
  const encoder = new FileRecordEncoder(file);
  const line = new TextEncoder().encode("x".repeat(1000));
  encoder.begin(at);
  for (let i = 0; i < 1000; i++) encoder.addBytes(line, 0, 1000 - (i % 7), i * 1001, -1);
  const sent = encoder.finish();
  equal(sent.ends.length, 1000);
  for (const i of [0, 499, 999]) {
    const start = i === 0 ? 0 : sent.ends[i - 1];
    const decoded = decodeEnvelope({
      key: sent.keys[0],
      value: sent.data.slice(start, sent.valueEnds[i]),
      headers: readHeaders(sent.data.subarray(sent.valueEnds[i], sent.ends[i])),
    });
    if ("problem" in decoded) throw new Error(decoded.problem);
    assertEquals([decoded.envelope.offset, decoded.envelope.message.length], [
      i * 1001,
      1000 - (i % 7),
    ]);
  }
  // A send under way is one at a time: a second begin before finish is a mistake.
  encoder.begin(at);
  let threw = false;
  try {
    new FileRecordEncoder(file).begin(at);
  } catch {
    threw = true;
  }
  encoder.finish();
  equal(threw, true);
});

Deno.test("record format 2: a record whose key or headers are not as the format says is refused", () => {
  const good = format2(file, { offset: 3, text: "x" }, at);
  const problem = (r: Parameters<typeof decodeEnvelope>[0]) => {
    const d = decodeEnvelope(r);
    return "problem" in d ? d.problem : "decoded";
  };
  equal(problem(good), "decoded");
  // An empty line is a line: an empty value decodes.
  equal(problem({ ...good, value: new Uint8Array(0) }), "decoded");
  equal(
    problem({ ...good, key: "nohost" }),
    "format 2 record key 'nohost' is not <host>/<file_id>",
  );
  equal(
    problem({ ...good, headers: { ...good.headers, "sluice.l": new TextEncoder().encode("x y") } }),
    "header sluice.l 'x y' is not '<offset> <time>'",
  );
  equal(
    problem({ ...good, headers: { ...good.headers, "sluice.f": "{" } }).startsWith(
      "header sluice.f is not JSON",
    ),
    true,
  );
  equal(
    problem({ ...good, headers: { ...good.headers, "sluice.f": '{"source":"s"}' } }),
    'header sluice.f lacks a source and a path: {"source":"s"}',
  );
  // Headers a consumer hands over as strings or lists (kafkajs) read the same.
  equal(problem({ ...good, headers: { ...good.headers, "sluice.l": [`3 ${at}`] } }), "decoded");
});
