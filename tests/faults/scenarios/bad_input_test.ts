/**
 * Bad input through the whole pipeline: lines that are not UTF-8, a 10 MiB line, a binary file.
 * What reaches the index for each is the defined behaviour (docs/agent.md, "Lines").
 */
import { scroll } from "../rig.ts";
import { n, type Pipeline, quote, type Recorder, scenario, until, withPipeline } from "../rig.ts";
import { tallySeqs } from "../tally.ts";

const encoder = new TextEncoder();
const MiB = 1024 * 1024;

/** Every document of a source: message, part, offset, invalid_utf8 (ECS and `sluice.*` names). */
async function docs(p: Pipeline, source: string) {
  const out: { message: string; part?: number; offset: number; invalid_utf8?: boolean }[] = [];
  for await (
    const d of scroll(p.indices(source), { term: { "event.dataset": source } }, [
      "message",
      "sluice.part",
      "log.offset",
      "sluice.invalid_utf8",
    ])
  ) {
    const doc = d as {
      message: string;
      log: { offset: number };
      sluice?: { part?: number; invalid_utf8?: boolean };
    };
    out.push({
      message: doc.message,
      offset: doc.log.offset,
      part: doc.sluice?.part,
      invalid_utf8: doc.sluice?.invalid_utf8,
    });
  }
  return out;
}

function seqOf(message: string): number {
  const m = / seq=(\d+) /.exec(message);
  return m ? Number(m[1]) : -1;
}

const LINES = 100;

await scenario({
  id: "bad-input-utf8",
  order: 11,
  title: "bad input: lines that are not UTF-8",
  done: `${LINES} numbered lines, every tenth with the bytes \`ff fe\` and a cut-off UTF-8 ` +
    "sequence (`e2 82`) in the middle.",
  expected: "Every line is indexed, none dropped: the invalid bytes become U+FFFD and the " +
    "document has `sluice.invalid_utf8: true`; the valid lines are untouched.",
}, (r: Recorder) =>
  withPipeline({ label: "badutf8", source: "utf8" }, async (p, { dir }) => {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < LINES; i++) {
      const head = encoder.encode(`utf8 seq=${String(i).padStart(6, "0")} `);
      const bad = i % 10 === 0
        ? new Uint8Array([0xff, 0xfe, 0x20, 0xe2, 0x82, 0x20])
        : new Uint8Array();
      parts.push(head, bad, encoder.encode("caf\u00e9 ok\n"));
    }
    await Deno.writeFile(`${dir}/app.log`, concat(parts));
    await p.waitIndexed("utf8", LINES);
    const found = await docs(p, "utf8");
    r.count(tallySeqs(LINES, found.map((d) => seqOf(d.message))));
    const flagged = found.filter((d) => d.invalid_utf8);
    const replaced = flagged.filter((d) => d.message.includes("\uFFFD\uFFFD \uFFFD "));
    const clean = found.filter((d) => !d.invalid_utf8 && d.message.endsWith("café ok"));
    r.measured(
      `${flagged.length} documents with sluice.invalid_utf8: true, ${replaced.length} of them with the ` +
        `bad bytes as U+FFFD; ${clean.length} clean documents with "café" intact`,
    );
    r.headline(`${flagged.length} documents flagged invalid_utf8 (data, not an error)`);
    r.saw(`nothing: an invalid byte is data, not an error (the flag is on the document)`);
    if (flagged.length !== LINES / 10 || replaced.length !== LINES / 10) {
      throw new Error(`${flagged.length} flagged, ${replaced.length} replaced`);
    }
    if (clean.length !== LINES - LINES / 10) throw new Error(`${clean.length} clean documents`);
  }));

await scenario({
  id: "bad-input-long-line",
  order: 12,
  title: "bad input: a 10 MiB line",
  ownCounts: true,
  done: "10 numbered lines in one file; line 5 is 10 MiB long (its number, then 10 MiB of " +
    "`L`, then a newline).",
  expected: "Nothing lost: the agent cuts the long line into parts of at most 1,000,000 bytes " +
    "(the cap that keeps a record under Kafka's default message size) as soon as it is too " +
    "long, without waiting for its newline; each part is a document with the offset of the " +
    "line and `sluice.part` 0, 1, 2, …, so 11 documents, which joined in part order give the line " +
    "back byte for byte. The other 9 lines are one document each; none is duplicated.",
}, (r: Recorder) =>
  withPipeline({ label: "longline", source: "long" }, async (p, { dir }) => {
    const long = `long seq=000005 ${"L".repeat(10 * MiB)}`;
    let text = "";
    for (let i = 0; i < 10; i++) {
      text += i === 5 ? `${long}\n` : `long seq=${String(i).padStart(6, "0")} short\n`;
    }
    await Deno.writeTextFile(`${dir}/app.log`, text);
    const expectedParts = Math.ceil(encoder.encode(long).length / 1_000_000);
    await p.waitIndexed("long", 9 + expectedParts, { stallMs: 30_000 });
    const found = await docs(p, "long");
    const pieces = found.filter((d) => d.part !== undefined).sort((a, b) => a.part! - b.part!);
    const whole = found.filter((d) => d.part === undefined);
    const joined = pieces.map((d) => d.message).join("");
    const sameOffset = new Set(pieces.map((d) => d.offset)).size === 1;
    // A line counts once: whole lines by their number, the long one by its part 0.
    const t = tallySeqs(
      10,
      [...whole, ...pieces.filter((d) => d.part === 0)].map((d) => seqOf(d.message)),
    );
    const partNumbersOk = pieces.every((d, i) => d.part === i);
    r.count({ ...t, indexed: found.length });
    r.measured(
      `line 5 (${n(encoder.encode(long).length)} bytes) became ${pieces.length} documents, parts ` +
        `0–${pieces.length - 1}, all at offset ${pieces[0]?.offset}; joined they equal the line: ${
          joined === long
        }`,
      `the 9 other lines: ${whole.length} documents`,
    );
    r.headline(`the long line as ${pieces.length} documents, part 0–${pieces.length - 1}`);
    r.saw(
      "nothing: a long line is data, not an error (the `sluice.part` field is on the documents)",
    );
    if (pieces.length !== expectedParts || !partNumbersOk || !sameOffset || joined !== long) {
      throw new Error(
        `long line: ${pieces.length} parts, numbers ok ${partNumbersOk}, ` +
          `one offset ${sameOffset}, joined equal ${joined === long}`,
      );
    }
    if (t.lost || t.duplicated || t.unexpected || whole.length !== 9) {
      throw new Error(`counts: ${JSON.stringify(t)}, ${whole.length} whole lines`);
    }
  }));

await scenario({
  id: "bad-input-binary",
  order: 13,
  title: "bad input: a binary file among the log files",
  done: `A source's glob matches \`app.log\` (${LINES} numbered lines) and \`blob.log\`, 64 KiB ` +
    "that start like a PNG image (NUL bytes in its first 256 bytes).",
  expected: "The binary file is skipped, so nothing of it reaches the index, and the agent " +
    'says so (a warning in its log, `sluice_agent_skipped_files_total{reason="binary"}`, ' +
    "`last_error` of the source in its etcd status); the text file next to it is indexed whole.",
}, (r: Recorder) =>
  withPipeline({ label: "binary", source: "bin" }, async (p, { dir, agent }) => {
    const blob = new Uint8Array(64 * 1024);
    blob.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44]);
    for (let i = 16; i < blob.length; i++) blob[i] = (i * 7919) & 0xff;
    await Deno.writeFile(`${dir}/blob.log`, blob);
    let text = "";
    for (let i = 0; i < LINES; i++) text += `bin seq=${String(i).padStart(6, "0")} text\n`;
    await Deno.writeTextFile(`${dir}/app.log`, text);
    await p.waitIndexed("bin", LINES);
    await until("the binary file is reported", async () =>
      (await agent.metric("sluice_agent_skipped_files_total", { reason: "binary" })) > 0, 10_000);
    // The status key is rewritten with every heartbeat (a third of its 10 s lease).
    await until("the status key reports it", async () =>
      (await p.agents())[0]?.sources.bin?.last_error?.includes("looks binary") === true, 10_000);
    const found = await docs(p, "bin");
    r.count(tallySeqs(
      LINES,
      found.map((d) =>
        seqOf(d.message)
      ),
    ));
    const [status] = await p.agents();
    r.measured(`${found.length} documents, all from app.log; none from blob.log`);
    r.headline('WRN "blob.log looks binary; skipped", skipped_files_total 1, last_error in status');
    r.saw(
      `agent: sluice_agent_skipped_files_total{reason="binary"} ${await agent.metric(
        "sluice_agent_skipped_files_total",
        { reason: "binary" },
      )}`,
      `status key: source bin \`${status?.sources.bin?.state}\`, last_error \`${status?.sources.bin?.last_error}\``,
      ...quote(agent.grep(/looks binary/), 1, "agent"),
    );
    if (!status?.sources.bin?.last_error?.includes("looks binary")) {
      throw new Error(`status key: ${JSON.stringify(status?.sources.bin)}`);
    }
  }));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
