/**
 * Garbage and oversized records on the topic the transfer reads, between the agent's records.
 */
import { sleep } from "../../../core/backoff.ts";
import { committedOffsets } from "../../../kafka/consumer.ts";
import { type Envelope, eventId } from "../../../core/envelope.ts";
import { produce, type RawRecord } from "../../support/transfer_rig.ts";
import { endpoints, n, quote, scenario, SeqWriter, until, withPipeline } from "../rig.ts";

const RATE = 1_000;
const MiB = 1024 * 1024;

function envelope(extra: Partial<Envelope>): Envelope {
  const fileId = `2049-${crypto.randomUUID().slice(0, 8)}`;
  return {
    "@timestamp": new Date().toISOString(),
    id: eventId("intruder", fileId, 0),
    host: "intruder",
    source: "garbage",
    path: "/nowhere.log",
    file_id: fileId,
    offset: 0,
    message: "x",
    ...extra,
  };
}

/** What a foreign producer puts on the topic, each with the reason the transfer should give. */
function garbage(): { label: string; record: RawRecord; reason: RegExp }[] {
  return [
    { label: "plain text", record: { value: "GET / HTTP/1.1 200" }, reason: /^not JSON/ },
    {
      label: "bytes that are not UTF-8",
      record: { value: new Uint8Array([0xc3, 0x28, 0xff, 0xfe]) },
      reason: /not valid UTF-8/,
    },
    {
      label: "JSON, not an envelope",
      record: { value: '{"msg":"hi"}' },
      reason: /not an envelope/,
    },
    { label: "a JSON array", record: { value: "[1,2,3]" }, reason: /JSON value is an array/ },
    { label: "an empty value", record: { value: null }, reason: /empty record value/ },
    {
      label: "an envelope whose @timestamp is no date",
      record: { value: JSON.stringify(envelope({ "@timestamp": "yesterday" })) },
      reason: /is not a date/,
    },
    {
      label: "6 MiB of text (oversized, not JSON)",
      record: { value: "z".repeat(6 * MiB) },
      reason: /^not JSON/,
    },
    {
      label: "a 10 MiB envelope (oversized: larger than a whole bulk request, 8 MiB)",
      record: { value: JSON.stringify(envelope({ message: "y".repeat(10 * MiB) })) },
      reason: /more than a whole bulk request may hold/,
    },
  ];
}

await scenario({
  id: "kafka-garbage",
  order: 9,
  title: "non-envelope garbage and oversized records on the Kafka topic",
  done: `An agent writes numbered lines to the topic (${n(RATE)} lines/s) while a foreign ` +
    "producer puts garbage on each of its 3 partitions, in between the agent's records: " +
    "plain text, bytes that are not UTF-8, JSON that is not an envelope, a JSON array, an empty " +
    "value, an envelope whose `@timestamp` is no date, 6 MiB of text and a 10 MiB envelope (the " +
    "topic allows records up to 16 MiB).",
  expected: "Every foreign record is dead-lettered with its reason (the value cut to 512 KiB); " +
    "the 10 MiB envelope as `oversized`, since its document alone is larger than a bulk " +
    "request may be (`--bulk-max-bytes`, 8 MiB). " +
    "every agent line is indexed once, and every partition's committed offset reaches its end: " +
    "no partition is held up by a record it cannot index.",
}, (r) =>
  withPipeline({
    label: "kafkagarbage",
    topicConfig: { "max.message.bytes": String(16 * MiB) },
  }, async (p, { dir, transfer }) => {
    const writer = new SeqWriter(`${dir}/app.log`, "app", { rate: RATE });
    await sleep(2_000);
    const bad = garbage();
    const problems: string[] = [];
    for (const partition of [0, 1, 2]) {
      // One request per record: a record batch as a whole must fit the topic's limit.
      for (const g of bad) await produce(endpoints.kafka, p.topic, [{ ...g.record, partition }]);
      await sleep(500);
    }
    await sleep(2_000);
    const written = await writer.stop();
    await p.waitIndexed("app", written);
    r.count(await p.tally("app", written));
    const letters = await p.deadLetters(bad.length * 3, 30_000);
    const end = await p.topicRecords();
    let committed = 0;
    await until("every partition committed to its end", async () => {
      committed = (await committedOffsets({ brokers: endpoints.kafka }, p.name, p.topic))
        .reduce((s, c) => s + Number(c.offset), 0);
      return committed === end;
    }, 20_000).catch((error) => problems.push(`${error.message} (${committed} of ${end})`));
    for (const g of bad) {
      const got = letters.filter((l) =>
        l.reason.match(g.reason) &&
        (g.record.value === null
          ? l.value === null
          : l.value_bytes === (typeof g.record.value === "string"
            ? new TextEncoder().encode(g.record.value).length
            : g.record.value.length))
      );
      r.measured(
        `${g.label}: ${got.length}/3 dead-lettered — \`${
          got[0]?.reason.slice(0, 110) ?? "(none)"
        }\`${got[0]?.value_truncated ? ", value cut to 512 KiB" : ""}`,
      );
      if (got.length !== 3) problems.push(`${g.label}: ${got.length} of 3 dead-lettered`);
    }
    r.headline(
      `${letters.length} dead letters with reasons (${
        letters.filter((l) => l.cause === "oversized").length
      } oversized); offsets committed to the end`,
    );
    r.saw(
      `transfer: sluice_transfer_dead_lettered_total{cause="not_envelope"} ${
        n(await transfer.metric("sluice_transfer_dead_lettered_total", { cause: "not_envelope" }))
      }, {cause="oversized"} ${
        n(await transfer.metric("sluice_transfer_dead_lettered_total", { cause: "oversized" }))
      }, {cause="rejected"} ${
        n(await transfer.metric("sluice_transfer_dead_lettered_total", { cause: "rejected" }))
      }`,
      `${letters.length} records on the dead-letter topic \`${p.dlq}\`, committed offsets = end offsets (${
        n(end)
      } records)`,
      ...quote(transfer.problems(), 2, "transfer"),
    );
    if (letters.length !== bad.length * 3) problems.push(`${letters.length} dead letters`);
    if (problems.length > 0) throw new Error(`${problems.join("; ")}\n${transfer.tail()}`);
  }));
