/**
 * The one logger of sluice (@logtape/logtape). Logs go to stderr so that a command's stdout stays
 * data (tables, JSON); SLUICE_LOG_LEVEL (debug|info|warning|error) and SLUICE_LOG_FORMAT
 * (text|json) choose how much and in which form.
 * @module
 */
import {
  configureSync,
  getJsonLinesFormatter,
  getLogger as getLogtapeLogger,
  getTextFormatter,
  type Logger,
  type LogLevel,
  type LogRecord,
  parseLogLevel,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import { scrubSecrets } from "./secret.ts";

export type { Logger };

let configured = false;

export interface LoggingOptions {
  level?: LogLevel;
  format?: "text" | "json";
}

/** Configures logging once per process; later calls are ignored. */
export function setupLogging(options: LoggingOptions = {}): void {
  if (configured) return;
  configured = true;
  const env = Deno.env.toObject();
  const level = options.level ?? parseLevel(env.SLUICE_LOG_LEVEL) ?? "info";
  const format = options.format ?? (env.SLUICE_LOG_FORMAT === "json" ? "json" : "text");
  configureSync({
    reset: true,
    sinks: {
      stderr: stderrSink(
        format === "json" ? getJsonLinesFormatter() : getTextFormatter({ value: "bare" }),
      ),
    },
    loggers: [
      { category: ["sluice"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/**
 * A synchronous stderr sink: a line is written before the call returns, so nothing is lost when
 * a command exits right after logging (logtape's stream sink buffers and needs async disposal).
 * Any password or key that a client library quotes back is replaced by `[redacted]` here.
 */
function stderrSink(formatter: TextFormatter): Sink {
  const encoder = new TextEncoder();
  return (record: LogRecord) => {
    const bytes = encoder.encode(scrubSecrets(formatter(record)));
    let written = 0;
    while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
  };
}

function parseLevel(value: string | undefined): LogLevel | undefined {
  if (!value) return undefined;
  try {
    return parseLogLevel(value);
  } catch {
    return undefined;
  }
}

/**
 * A logger under the `sluice` category, e.g. `getLogger("agent", "tail")`.
 *
 * @example
 * ```ts
 * import { getLogger, setupLogging } from "./log.ts";
 * setupLogging();
 * getLogger("example").info("ready on {address}", { address: "127.0.0.1:9464" });
 * ```
 */
export function getLogger(...category: string[]): Logger {
  return getLogtapeLogger(["sluice", ...category]);
}
