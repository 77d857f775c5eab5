/**
 * The Kafka broker stopped for 30 s in the middle of the stream, then started again.
 */
import { sleep } from "../../../core/backoff.ts";
import {
  cannotStop,
  n,
  outage,
  sampler,
  scenario,
  SeqWriter,
  topMessages,
  withPipeline,
} from "../rig.ts";
import { growth, peak, samplesIn } from "../series.ts";

const RATE = 2_000;
const DOWN_MS = 30_000;
/** Per-source bound on bytes read but not acknowledged: reached ~9 s into the outage. */
const INFLIGHT = 1024 * 1024;
/** The agent reads 256 KiB at a time; one read may pass the bound. */
const READ_CHUNK = 256 * 1024;

await scenario({
  id: "kafka-outage",
  order: 3,
  title: "Kafka broker stopped 30 s mid-stream, then restarted",
  skip: await cannotStop("kafka"),
  done: `An agent (in-flight bound ${n(INFLIGHT)} B) and a transfer run; a writer appends ` +
    `numbered lines at ${n(RATE)} lines/s ` +
    'throughout. After 5 s the broker is stopped (`stopService("kafka")`), kept down 30 s ' +
    "while the writer goes on, and started again; the writer stops 5 s after the broker is back.",
  expected: "Nothing lost: while the broker is away the agent stops reading at its in-flight " +
    "bound (the log file is the buffer) and retries; it resumes by itself when the broker is " +
    "back. The transfer's consumer rejoins and continues from its committed offsets. Nothing " +
    "duplicated in the index: a batch re-sent after a failed request keeps its event ids.",
}, (r) =>
  withPipeline({
    label: "kafkaoutage",
    agent: { extraArgs: ["--max-inflight-bytes", String(INFLIGHT)] },
  }, async (p, { dir, transfer, agent }) => {
    const writer = new SeqWriter(`${dir}/app.log`, "app", { rate: RATE });
    const read = sampler(() => agent.metric("sluice_agent_bytes_read_total"));
    const lag = sampler(() => agent.metric("sluice_agent_lag_bytes"));
    await sleep(5_000);
    const before = { errors: await agent.metric("sluice_agent_kafka_errors_total") };
    const down = Date.now();
    let health = { status: 0, body: "" };
    const { restartMs } = await outage("kafka", DOWN_MS, async () => {
      await sleep(DOWN_MS - 3_000);
      health = await agent.health();
    });
    const up = Date.now();
    const readLate = growth(read.points, down + DOWN_MS - 15_000, down + DOWN_MS);
    const lateSamples = samplesIn(read.points, down + DOWN_MS - 15_000, down + DOWN_MS);
    const errors = await agent.metric("sluice_agent_kafka_errors_total") - before.errors;
    await sleep(5_000);
    const written = await writer.stop();
    const indexed = await p.waitIndexed("app", written, { stallMs: 30_000 });
    const caughtUpS = (Date.now() - up) / 1000;
    await read.stop();
    await lag.stop();
    r.count(await p.tally("app", written));
    const records = await p.topicRecords();
    r.measured(
      `Kafka down ${((up - down - restartMs) / 1000).toFixed(0)} s, its restart took ${
        (restartMs / 1000).toFixed(1)
      } s; ${n(written)} lines written, all indexed ${
        caughtUpS.toFixed(0)
      } s after the broker was back`,
      `agent read ${
        n(readLate)
      } bytes in the last 15 s of the outage (${lateSamples} samples; in-flight bound ${
        n(INFLIGHT)
      } B, reached after ~${(INFLIGHT / (RATE * 56) + 0.5).toFixed(0)} s)`,
      `Kafka holds ${n(records)} records for ${n(written)} lines (${
        n(records - written)
      } re-sent by retried requests, same ids)`,
    );
    r.headline(
      `agent: lag up to ${(peak(lag.points) / 1e6).toFixed(1)} MB, reading held at its bound, ` +
        `${agent.problems().length} Kafka warnings in its log; /healthz stays ${health.status}`,
    );
    r.saw(
      `agent: sluice_agent_kafka_errors_total +${n(errors)} during the outage`,
      `agent: sluice_agent_lag_bytes up to ${n(peak(lag.points))} B, back to ${
        n(await agent.metric("sluice_agent_lag_bytes"))
      } B`,
      `agent /healthz during the outage: ${health.status} (it runs its config; Kafka trouble shows in the metrics and log)`,
      ...topMessages(agent.problems(), 3, "agent"),
      ...topMessages(transfer.problems(), 3, "transfer"),
    );
    if (lateSamples < 20) throw new Error(`only ${lateSamples} samples of bytes read`);
    if (readLate > READ_CHUNK) throw new Error(`read ${readLate} bytes while Kafka was down`);
    if (indexed < written) r.measured(`only ${n(indexed)} documents after waiting`);
  }));
