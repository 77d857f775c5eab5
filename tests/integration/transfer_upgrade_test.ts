/**
 * An upgrade of the agent changes the record format (core/record_format.ts, 1 → 2) while lines
 * are in flight: a line the old agent sent but did not checkpoint is sent again by the new one.
 * Through the real Kafka, the real transfer and the real search engine, the two records of such a
 * line must be one document, the same document either would have made alone. The old agent's
 * side is its exact bytes (format 1: the splitter's text, the JSON envelope); the new agent's side
 * is its byte path (the splitter's bytes, format 2 through the agent's own producer).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { LineSplitter } from "../../agent/line_splitter.ts";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import type { Envelope } from "../../core/envelope.ts";
import { decodeEnvelope, FileRecordEncoder, JsonRecordEncoder } from "../../core/record_format.ts";
import { createLogProducer } from "../../kafka/producer.ts";
import { logDocument } from "../../transfer/document.ts";
import { createEngine } from "../../transfer/engine.ts";
import { startTransfer } from "../../transfer/transfer.ts";
import {
  cleanUpTest,
  committedSum,
  eventually,
  produce,
  testConfig,
  uniqueName,
  waitForCount,
} from "../support/transfer_rig.ts";

const { kafka: brokers } = endpointsFromEnv();

Deno.test({
  name: "upgrade: a line sent by the old agent (format 1) and again by the new (format 2) is one " +
    "document, the same either way",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const name = uniqueName("upgrade");
    const config = testConfig(name);
    const engine = await createEngine({ url: config.searchUrl });
    const file = {
      host: "web-1",
      source: "app",
      path: "/var/log/app.log",
      fileId: `2049-${crypto.randomUUID().slice(0, 8)}-ab`,
      fields: { env: "prod" },
    };
    // 40 lines: plain ones, one with bytes that are not UTF-8, one with CR LF, and a line longer
    // than max_line_bytes, cut into parts (their ids carry the part number).
    const enc = new TextEncoder();
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      if (i === 7) chunks.push(new Uint8Array([...enc.encode("bad "), 0xff, 0xfe, 0x0a]));
      else if (i === 11) chunks.push(enc.encode(`line ${i} crlf\r\n`));
      else if (i === 23) chunks.push(enc.encode(`long ${"é".repeat(150)}\n`));
      else chunks.push(enc.encode(`line ${i} GET /item/${i} 200 "q=\\x"\n`));
    }
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((at, c) => (bytes.set(c, at), at + c.length), 0);
    const maxLineBytes = 128;
    const readAt = "2026-11-21T10:00:00.000Z";

    // The old agent read the whole file (one line at a time as text) and sent it in format 1.
    const old = new JsonRecordEncoder(file);
    const oldLines = new LineSplitter({ maxLineBytes }).push(bytes);
    const oldRecords = oldLines.map((l) => old.encodeLine(l, readAt));
    // It was stopped before its checkpoint passed the 25th piece: the new agent reads from there.
    const resume = oldLines[24].resume;
    const splitter = new LineSplitter({ maxLineBytes, startOffset: resume });
    const encoder = new FileRecordEncoder(file);
    encoder.begin(readAt);
    let resent = 0;
    splitter.pushTo(bytes.subarray(resume), (b, start, stop, offset, _end, _resume, part) => {
      encoder.addBytes(b, start, stop, offset, part);
      resent++;
    });
    const newRecords = encoder.finish();
    const expected = new Map<string, Envelope>();
    for (const r of oldRecords) {
      const d = decodeEnvelope({ value: enc.encode(r.value) });
      if ("problem" in d) throw new Error(d.problem);
      expected.set(d.envelope.id, d.envelope);
    }
    // The pieces from the resume point on are read again: at least the long line's and ten more.
    assertEquals(resent >= 10, true, `${resent} lines sent again`);
    assertEquals(resume > 0, true);
    try {
      await produce(brokers, name, oldRecords);
      const producer = createLogProducer({ brokers, clientId: name });
      try {
        await producer.sendEncoded(name, newRecords);
      } finally {
        await producer.close();
      }
      const transfer = await startTransfer(config);
      try {
        const N = expected.size;
        assertEquals(await waitForCount(engine, `${name}-*`, (n) => n >= N), N);
        // Every record of the topic (the old agent's and the new one's) is indexed and committed:
        // a duplicate would show now.
        const records = oldRecords.length + resent;
        await eventually("every record committed", async () => {
          const sum = await committedSum(brokers, name, name);
          return sum === records ? sum : undefined;
        }, 30_000);
        assertEquals(await waitForCount(engine, `${name}-*`, () => true), N);
        const { hits } = await engine.search(`${name}-*`, {
          size: 100,
          query: { match_all: {} },
        });
        assertEquals(hits.length, N);
        for (const hit of hits) {
          const envelope = expected.get(hit._id);
          if (!envelope) throw new Error(`document ${hit._id} has no line of the old agent`);
          // The same document whichever agent's record made it (ECS names: transfer/document.ts).
          assertEquals(hit._source, JSON.parse(JSON.stringify(logDocument(envelope))), hit._id);
        }
        const bad = hits.find((h) => (h._source.message as string).startsWith("bad "))!;
        assertEquals(
          (bad._source as { sluice: { invalid_utf8?: boolean } }).sluice.invalid_utf8,
          true,
        );
        const parts = hits.filter((h) => (h._source.message as string).startsWith("long "));
        assertEquals(parts.length > 0, true);
      } finally {
        await transfer.stop();
      }
    } finally {
      await cleanUpTest(config, engine);
    }
  },
});
