import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { metricSum, parseMetrics } from "./metrics_text.ts";

// As prom-client writes it (agent/metrics.ts, transfer/metrics.ts).
const TEXT = `# HELP sluice_agent_lines_read_total Lines read, per source.
# TYPE sluice_agent_lines_read_total counter
sluice_agent_lines_read_total{source="a"} 1200
sluice_agent_lines_read_total{source="b"} 30

# HELP sluice_agent_kafka_errors_total Failed Kafka send attempts.
sluice_agent_kafka_errors_total 4
sluice_agent_lag_bytes{source="a",path="/tmp/x \\"y\\".log"} 0
sluice_transfer_bulk_seconds_bucket{le="+Inf"} 7
sluice_agent_applied_seq 1e3
`;

Deno.test("parseMetrics: names, labels with escapes, values; comments skipped", () => {
  const samples = parseMetrics(TEXT);
  assertEquals(samples.length, 6);
  assertEquals(samples[0], {
    name: "sluice_agent_lines_read_total",
    labels: { source: "a" },
    value: 1200,
  });
  assertEquals(samples[3].labels.path, '/tmp/x "y".log');
  assertEquals(samples[4].labels.le, "+Inf");
  assertEquals(samples[5].value, 1000);
});

Deno.test("metricSum: all samples or those with matching labels; 0 when absent", () => {
  const samples = parseMetrics(TEXT);
  assertEquals(metricSum(samples, "sluice_agent_lines_read_total"), 1230);
  assertEquals(metricSum(samples, "sluice_agent_lines_read_total", { source: "b" }), 30);
  assertEquals(metricSum(samples, "sluice_agent_kafka_errors_total"), 4);
  assertEquals(metricSum(samples, "nothing_here"), 0);
});
