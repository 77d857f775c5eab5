/**
 * Reads the Prometheus text format that the agent and the transfer serve on /metrics, so that a
 * scenario can report what an operator's dashboard would have shown. Pure.
 * @module
 */

/** One sample: metric name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses the exposition text (comments skipped).
 *
 * @example
 * ```ts
 * import { parseMetrics } from "./metrics_text.ts";
 * parseMetrics('# HELP x y\nx_total{source="a"} 3\n');
 * // [{ name: "x_total", labels: { source: "a" }, value: 3 }]
 * ```
 */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/**
 * The sum of a metric's samples whose labels include `where` (0 when there are none).
 *
 * @example
 * ```ts
 * import { metricSum, parseMetrics } from "./metrics_text.ts";
 * const s = parseMetrics('a{k="1"} 2\na{k="2"} 5\n');
 * metricSum(s, "a"); // 7
 * metricSum(s, "a", { k: "2" }); // 5
 * ```
 */
export function metricSum(
  samples: readonly Sample[],
  name: string,
  where: Record<string, string> = {},
): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}
