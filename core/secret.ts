/**
 * A password, API key or private key that must never be printed. `Secret` hides its value from
 * `String()`, `JSON.stringify`, `console.log`/`Deno.inspect` and Node's `util.inspect`, so logging
 * a settings object cannot leak it; only `reveal()`, called where a client is built, gives it out.
 * Every revealed value is also scrubbed from log lines by core/log.ts as a second line of defence.
 * @module
 */

/** What a secret looks like wherever it is printed. */
export const REDACTED = "[redacted]";

/** Values of every Secret made in this process, for `scrubSecrets`. */
const known = new Set<string>();

/** Shorter values are not scrubbed from text: "a" would blank half of every log line. */
const MIN_SCRUB_LENGTH = 4;

/**
 * A secret value and where it came from (e.g. "SLUICE_KAFKA_PASSWORD_FILE=/run/secrets/kafka").
 *
 * @example
 * ```ts
 * import { Secret } from "./secret.ts";
 * const password = new Secret("s3cret-pw", "SLUICE_ETCD_PASSWORD");
 * String(password); // "[redacted]"
 * JSON.stringify({ password }); // '{"password":"[redacted]"}'
 * password.reveal(); // "s3cret-pw"
 * ```
 */
export class Secret {
  readonly #value: string;
  /** Where the value was read from: an environment variable, or a variable and its file. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
    if (value.length >= MIN_SCRUB_LENGTH) known.add(value);
  }

  /** The value itself: only for handing to a client library. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for("Deno.customInspect")](): string {
    return `Secret(${REDACTED} from ${this.source})`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Secret(${REDACTED} from ${this.source})`;
  }
}

/**
 * `text` with every known secret value replaced by `[redacted]` (for log lines and error
 * messages that may quote what a library was given).
 *
 * @example
 * ```ts
 * import { scrubSecrets, Secret } from "./secret.ts";
 * new Secret("hunter2-pw", "SLUICE_SEARCH_PASSWORD");
 * scrubSecrets("login with hunter2-pw failed"); // "login with [redacted] failed"
 * ```
 */
export function scrubSecrets(text: string): string {
  if (known.size === 0) return text;
  let out = text;
  for (const value of known) {
    if (out.includes(value)) out = out.replaceAll(value, REDACTED);
  }
  return out;
}

/**
 * A URL without the user name and password it may carry (`https://u:p@host/` →
 * `https://host/`), for log lines and error messages. Text that is not a URL is returned as is.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./secret.ts";
 * redactUrl("https://elastic:changeme@es:9200"); // "https://es:9200"
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = "";
    parsed.password = "";
    const text = parsed.toString();
    return url.endsWith("/") ? text : text.replace(/\/$/, "");
  } catch {
    return url;
  }
}
