/**
 * The lines the benchmarks write. Throughput runs use access-log lines of about 140 bytes from
 * demo/generate.ts, written once into files that every program then reads. Latency and memory
 * runs use timed lines that carry their own write time (`w=<ms since the epoch>`), so the delay to
 * Kafka or to the search engine can be read off the record itself, and every `probeEvery`-th line
 * carries a probe word that a search can find. The line formats are pure and unit tested.
 * @module
 */
import { accessLogLine, seededRandom } from "../demo/generate.ts";

/**
 * Access-log lines `from` ≤ seq < `to` (deterministic for a seed), each ending in a newline.
 *
 * @example
 * ```ts
 * import { accessLogText, seededRandomFor } from "./lines.ts";
 * accessLogText(0, 2, seededRandomFor()).split("\n").length; // 3 (two lines and the end)
 * ```
 */
export function accessLogText(from: number, to: number, random: () => number): string {
  const at = new Date(Date.UTC(2024, 2, 9, 12, 0, 0));
  let text = "";
  for (let seq = from; seq < to; seq++) {
    text += accessLogLine("sluice-bench-run", seq, at, random) + "\n";
  }
  return text;
}

/** The random source of the throughput files (a fixed seed: every run reads the same lines). */
export function seededRandomFor(): () => number {
  return seededRandom(42);
}

/**
 * Writes `lines` access-log lines spread over `files` files (`f0000.log`, ... in `dir`, the lines
 * dealt out in order, file by file); returns the paths and the total bytes.
 */
export async function writeAccessLogFiles(
  dir: string,
  lines: number,
  files: number,
): Promise<{ paths: string[]; bytes: number }> {
  await Deno.mkdir(dir, { recursive: true });
  const random = seededRandomFor();
  const encoder = new TextEncoder();
  const perFile = Math.ceil(lines / files);
  const paths: string[] = [];
  let bytes = 0;
  for (let i = 0; i < files; i++) {
    const path = `${dir}/f${String(i).padStart(4, "0")}.log`;
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    try {
      const end = Math.min(lines, (i + 1) * perFile);
      for (let from = i * perFile; from < end; from += 10_000) {
        const data = encoder.encode(accessLogText(from, Math.min(end, from + 10_000), random));
        bytes += data.length;
        for (let off = 0; off < data.length;) off += await file.write(data.subarray(off));
      }
    } finally {
      file.close();
    }
    paths.push(path);
  }
  return { paths, bytes };
}

/** A run's probe word for probe number `k` (letters and digits only: one search token). */
export function probeWord(tag: string, k: number): string {
  return `${tag}p${k}`;
}

const FILLER = "GET /api/orders?page=2 HTTP/1.1 status=200 bytes=5120 agent=bench-writer ";

/**
 * One timed line of about 140 bytes (no newline): its write time, sequence number, the probe
 * word when `seq` is a multiple of `probeEvery`, and filler.
 *
 * @example
 * ```ts
 * import { timedLine } from "./lines.ts";
 * timedLine(1700000000000.5, 2000, "run1", 1000).startsWith("w=1700000000000.5 seq=2000 run1p2 ");
 * // true
 * ```
 */
export function timedLine(writtenAt: number, seq: number, tag: string, probeEvery: number): string {
  const probe = probeEvery > 0 && seq % probeEvery === 0
    ? probeWord(tag, seq / probeEvery)
    : "plain";
  const head = `w=${writtenAt} seq=${seq} ${probe} `;
  return head + FILLER.repeat(2).slice(0, Math.max(0, 140 - head.length));
}

const WRITTEN_AT = /w=(\d+(?:\.\d+)?) seq=(\d+) /;

/**
 * The write time and sequence number in a timed line (or a text that contains one, such as
 * a JSON envelope), or undefined.
 *
 * @example
 * ```ts
 * import { parseTimed } from "./lines.ts";
 * parseTimed('{"message":"w=1700000000000.5 seq=7 plain GET"}'); // { writtenAt: 1700000000000.5, seq: 7 }
 * ```
 */
export function parseTimed(text: string): { writtenAt: number; seq: number } | undefined {
  const m = WRITTEN_AT.exec(text);
  return m ? { writtenAt: Number(m[1]), seq: Number(m[2]) } : undefined;
}

/**
 * How many lines a steady writer at `rate` lines/s should have written `elapsedMs` after it
 * started: the pacing rule of the writer (it catches up after a slow tick, never runs ahead).
 *
 * @example
 * ```ts
 * import { linesDue } from "./lines.ts";
 * linesDue(10_000, 250); // 2500
 * ```
 */
export function linesDue(rate: number, elapsedMs: number): number {
  return Math.floor((rate * elapsedMs) / 1000);
}
