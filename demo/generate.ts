/**
 * Sample log lines for the demo and the benchmarks: web-server access log lines (combined log
 * format) and JSON application log lines. Deterministic for a seed, and each line carries a run
 * marker and a sequence number so that arrival in the search engine can be checked exactly.
 * @module
 */

/** A small, fast, seedable PRNG (mulberry32) so generated files are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = ["/", "/index.html", "/api/orders", "/api/users/42", "/static/app.js", "/login"];
const METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const STATUSES = [200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 500, 503];
const AGENTS = ["curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64)", "Go-http-client/1.1"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)];
}

function clfTime(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} +0000`;
}

/**
 * One access log line in the combined log format; the request path carries `run` and `seq`.
 *
 * @example
 * ```ts
 * import { accessLogLine, seededRandom } from "./generate.ts";
 * accessLogLine("r1", 7, new Date(0), seededRandom(1)).includes("run=r1&seq=7"); // true
 * ```
 */
export function accessLogLine(run: string, seq: number, at: Date, random: () => number): string {
  const ip = `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${
    1 + Math.floor(random() * 254)
  }`;
  const status = pick(STATUSES, random);
  const bytes = status === 204 || status === 304 ? 0 : 200 + Math.floor(random() * 5000);
  return `${ip} - - [${clfTime(at)}] "${pick(METHODS, random)} ${
    pick(PATHS, random)
  }?run=${run}&seq=${seq} HTTP/1.1" ${status} ${bytes} "-" "${pick(AGENTS, random)}"`;
}

const LEVELS = ["debug", "info", "info", "info", "warn", "error"];
const EVENTS = ["order created", "payment captured", "cache miss", "user logged in", "retrying"];

/**
 * One JSON application log line with `run` and `seq` fields.
 *
 * @example
 * ```ts
 * import { appLogLine, seededRandom } from "./generate.ts";
 * JSON.parse(appLogLine("r1", 3, new Date(0), seededRandom(1))).seq; // 3
 * ```
 */
export function appLogLine(run: string, seq: number, at: Date, random: () => number): string {
  return JSON.stringify({
    time: at.toISOString(),
    level: pick(LEVELS, random),
    msg: pick(EVENTS, random),
    service: "checkout",
    latency_ms: Math.round(random() * 250),
    run,
    seq,
  });
}
