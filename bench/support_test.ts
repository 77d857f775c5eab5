/** Unit tests of the benchmark's pure helpers: /proc parsing, line formats, peer configs, plot. */
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import {
  accessLogText,
  linesDue,
  parseTimed,
  probeWord,
  seededRandomFor,
  timedLine,
} from "./lines.ts";
import { kcatArgs, librdkafkaProperties, rsyslogConfig } from "./peers.ts";
import { lineChart, niceStep, ratesOf, thin } from "./plot.ts";
import { parseStatChildTicks, parseStatTicks, parseStatusBytes } from "./procstat.ts";
import { metricValue, taskRunFlags } from "./programs.ts";
import { summarizeProfile } from "./profile_summary.ts";

Deno.test("parseStatTicks: utime + stime, command names with spaces and parentheses", () => {
  // Fields 14 and 15 (utime, stime) are 250 and 50.
  const stat = "4242 (rs:main Q:Reg) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 4 0";
  assertEquals(parseStatTicks(stat), 300);
  assertEquals(parseStatTicks("7 (a) b)) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0"), 7);
  throws(() => parseStatTicks("garbage"));
});

Deno.test("parseStatChildTicks: cutime + cstime (fields 16 and 17)", () => {
  const stat = "4242 (deno) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 30 12 20 0 4 0";
  assertEquals(parseStatChildTicks(stat), 42);
});

Deno.test("parseStatusBytes reads kB fields", () => {
  const status = "Name:\tdeno\nVmPeak:\t 9000 kB\nVmHWM:\t  2048 kB\nVmRSS:\t   1024 kB\n";
  assertEquals(parseStatusBytes(status, "VmHWM"), 2048 * 1024);
  assertEquals(parseStatusBytes(status, "VmRSS"), 1024 * 1024);
  assertEquals(parseStatusBytes(status, "VmSwap"), undefined);
});

Deno.test("timed lines: about 140 bytes, parseable, probes on every k-th", () => {
  const line = timedLine(1_700_000_000_123.4, 3000, "abc", 1000);
  assertEquals(line.length, 140);
  assert(line.includes(` ${probeWord("abc", 3)} `), line);
  assert(!timedLine(1, 3001, "abc", 1000).includes("abcp"));
  assertEquals(parseTimed(line), { writtenAt: 1_700_000_000_123.4, seq: 3000 });
  // Inside a JSON envelope as the agent sends it.
  assertEquals(parseTimed(JSON.stringify({ message: line })), {
    writtenAt: 1_700_000_000_123.4,
    seq: 3000,
  });
  assertEquals(parseTimed("no time here"), undefined);
});

Deno.test("linesDue paces the writer", () => {
  assertEquals(linesDue(10_000, 0), 0);
  assertEquals(linesDue(10_000, 10), 100);
  assertEquals(linesDue(10_000, 60_000), 600_000);
});

Deno.test("access-log lines are deterministic and about 140 bytes", () => {
  const a = accessLogText(0, 1000, seededRandomFor());
  assertEquals(a, accessLogText(0, 1000, seededRandomFor()));
  const lines = a.trimEnd().split("\n");
  assertEquals(lines.length, 1000);
  const mean = a.length / 1000;
  assert(mean > 135 && mean < 145, `mean line ${mean} bytes`);
});

Deno.test("librdkafka settings: acks=all, idempotent, chosen batching", () => {
  const props = librdkafkaProperties({ compression: "gzip", lingerMs: 10, batchBytes: 1_000_000 });
  assertEquals(props, [
    "acks=all",
    "enable.idempotence=true",
    "compression.codec=gzip",
    "linger.ms=10",
    "batch.size=1000000",
  ]);
  const args = kcatArgs(["a:9092", "b:9092"], "t", "/tmp/fifo", {
    compression: "none",
    lingerMs: 5,
    batchBytes: 1,
  });
  assertEquals(args.slice(0, 6), ["-P", "-b", "a:9092,b:9092", "-t", "t", "-l"]);
  assertEquals(args[args.length - 1], "/tmp/fifo");
  assert(args.includes("compression.codec=none"));
});

Deno.test("rsyslog config: imfile from the start, omkafka with acks -1 and the settings", () => {
  const conf = rsyslogConfig({
    workDir: "/tmp/w",
    files: "/tmp/logs/*.log",
    brokers: ["127.0.0.1:9092"],
    topic: "bench-t",
    settings: { compression: "gzip", lingerMs: 10, batchBytes: 1_000_000 },
  });
  assert(conf.includes('global(workDirectory="/tmp/w"'));
  assert(conf.includes('file="/tmp/logs/*.log"'));
  assert(conf.includes('freshStartTail="off"'));
  assert(conf.includes('topic="bench-t"'));
  assert(conf.includes('broker=["127.0.0.1:9092"]'));
  assert(conf.includes('topicConfParam=["request.required.acks=-1"]'));
  assert(conf.includes('"compression.codec=gzip"') && conf.includes('"linger.ms=10"'));
  // acks is a topic property for omkafka, not repeated in the global ones.
  assert(!conf.includes('"acks=all"'));
  assert(conf.includes('string="%msg%"'));
  // Never drop a line when librdkafka's queue is full.
  assert(conf.includes('action.resumeRetryCount="-1"'));
});

Deno.test("metricValue sums a counter over label sets and ignores longer names", () => {
  const page = [
    "# HELP sluice_transfer_docs_indexed_total docs",
    "sluice_transfer_docs_indexed_total 1200",
    'sluice_transfer_records_consumed_total{topic="a"} 5',
    'sluice_transfer_records_consumed_total{topic="b"} 7',
    "sluice_transfer_records_consumed_total_extra 100",
  ].join("\n");
  assertEquals(metricValue(page, "sluice_transfer_docs_indexed_total"), 1200);
  assertEquals(metricValue(page, "sluice_transfer_records_consumed_total"), 12);
  assertEquals(metricValue("", "x"), 0);
});

Deno.test("plot helpers: nice steps, rates, thinning, SVG", () => {
  assertEquals(niceStep(1000, 5), 200);
  assertEquals(niceStep(7, 6), 2);
  assertEquals(niceStep(0, 6), 1);
  assertEquals(ratesOf([[0, 0], [0.5, 50], [1.5, 250]]), [[0.25, 100], [1, 200]]);
  assertEquals(thin([[0, 0], [0.1, 1], [0.6, 2], [0.7, 3]], 0.5), [[0, 0], [0.6, 2], [0.7, 3]]);
  const svg = lineChart({
    title: "a < b",
    xLabel: "s",
    yLabel: "lines/s",
    series: [{ name: "ours", points: [[0, 10], [1, 20]] }, { name: "peer", points: [] }],
  });
  assert(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"));
  assert(svg.includes("a &lt; b"));
  assertEquals(svg.match(/<path /g)?.length, 1);
  assert(svg.includes(">ours<") && svg.includes(">peer<"));
});

Deno.test("profile summary: self time by function and by file, largest first", () => {
  const s = summarizeProfile({
    startTime: 0,
    endTime: 2_000_000,
    nodes: [
      { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 }, hitCount: 0 },
      {
        id: 2,
        callFrame: {
          functionName: "encode",
          url: "file:///work/main/node_modules/.deno/kafkajs@2.2.4/node_modules/kafkajs/src/x.js",
          lineNumber: 9,
        },
        hitCount: 3,
      },
      {
        id: 3,
        callFrame: { functionName: "", url: "file:///work/main/agent/tail_task.ts", lineNumber: 0 },
        hitCount: 1,
      },
      {
        id: 4,
        callFrame: { functionName: "(garbage collector)", url: "", lineNumber: -1 },
        hitCount: 4,
      },
    ],
  });
  assertEquals(s.totalMs, 2000);
  assertEquals(s.functions.map((f) => f.name), [
    "(garbage collector)",
    "encode (npm:kafkajs/src/x.js:10)",
    "(anonymous) (agent/tail_task.ts:1)",
  ]);
  assertEquals(s.functions[0].share, 0.5);
  assertEquals(s.functions[1].ms, 750);
  assertEquals(s.files.map((f) => f.name), [
    "(garbage collector)",
    "npm:kafkajs/src/x.js",
    "agent/tail_task.ts",
  ]);
});

Deno.test("taskRunFlags: the deno run flags of a task, as the bench starts the program", () => {
  assertEquals(
    taskRunFlags("deno run -A --v8-flags=--max-semi-space-size=1 agent/main.ts", "agent/main.ts"),
    ["-A", "--v8-flags=--max-semi-space-size=1"],
  );
  assertEquals(taskRunFlags("deno run -A transfer/main.ts", "transfer/main.ts"), ["-A"]);
  throws(() => taskRunFlags("node agent/main.ts", "agent/main.ts"));
});
