/**
 * Who may use the console: the bind policy (loopback is open, any other address needs a token or
 * basic auth) and the check of each request against it. Pure, so both are unit-tested.
 * @module
 */

/** How the console is protected; neither set = open (allowed on loopback only). */
export interface AuthOptions {
  /** A shared secret: `Authorization: Bearer <token>`, the `sluice_console_token` cookie, or `?token=`. */
  token?: string;
  /** HTTP basic auth; the user name is recorded as the author of every change. */
  basic?: { user: string; password: string };
}

/** The outcome of checking a request. */
export type AuthResult =
  | { ok: true; user?: string; setCookie?: string }
  | { ok: false; status: 401; challenge?: string; message: string };

/** The cookie a browser keeps after opening the console once with `?token=`. */
export const TOKEN_COOKIE = "sluice_console_token";

/**
 * True for addresses that only this machine can reach.
 *
 * @example
 * ```ts
 * import { isLoopback } from "./auth.ts";
 * isLoopback("127.0.0.1"); // true
 * isLoopback("0.0.0.0"); // false
 * ```
 */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Why the console must not start on `hostname` with these options, or undefined when it may:
 * binding beyond loopback without a token or basic auth would hand config writes to the network.
 *
 * @example
 * ```ts
 * import { bindRefusal } from "./auth.ts";
 * bindRefusal("0.0.0.0", {}); // "refusing to listen on 0.0.0.0 without access control: ..."
 * bindRefusal("0.0.0.0", { token: "s3cret" }); // undefined
 * ```
 */
export function bindRefusal(hostname: string, options: AuthOptions): string | undefined {
  if (isLoopback(hostname) || options.token || options.basic) return undefined;
  return `refusing to listen on ${hostname} without access control: anyone who reaches it could ` +
    "change the config. Give --token TOKEN (or SLUICE_CONSOLE_TOKEN), or --basic-auth USER:PASSWORD " +
    "(or SLUICE_CONSOLE_BASIC_AUTH), or bind to 127.0.0.1.";
}

/**
 * Parses `USER:PASSWORD` (the password may contain `:`); undefined for an empty value.
 *
 * @example
 * ```ts
 * import { parseBasicAuth } from "./auth.ts";
 * parseBasicAuth("ann:pa:ss"); // { user: "ann", password: "pa:ss" }
 * ```
 */
export function parseBasicAuth(value: string | undefined): AuthOptions["basic"] {
  if (!value) return undefined;
  const at = value.indexOf(":");
  if (at <= 0 || at === value.length - 1) {
    throw new Error("basic auth must be USER:PASSWORD, both non-empty");
  }
  return { user: value.slice(0, at), password: value.slice(at + 1) };
}

/** Compares secrets in time independent of where they differ. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function cookie(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

/**
 * Checks one request. Open when no token and no basic auth are configured. A valid `?token=`
 * also returns a `Set-Cookie` so the browser need not carry the token in every URL.
 *
 * @example
 * ```ts
 * import { authorize } from "./auth.ts";
 * const headers = new Headers({ authorization: `Basic ${btoa("ann:pw")}` });
 * authorize(headers, new URL("http://h/"), { basic: { user: "ann", password: "pw" } });
 * // { ok: true, user: "ann" }
 * ```
 */
export function authorize(headers: Headers, url: URL, options: AuthOptions): AuthResult {
  if (!options.token && !options.basic) return { ok: true };
  const authorization = headers.get("authorization") ?? "";
  if (options.basic && authorization.startsWith("Basic ")) {
    let decoded = "";
    try {
      decoded = atob(authorization.slice(6).trim());
    } catch { /* not base64: refused below */ }
    const at = decoded.indexOf(":");
    if (
      at > 0 && sameSecret(decoded.slice(0, at), options.basic.user) &&
      sameSecret(decoded.slice(at + 1), options.basic.password)
    ) {
      return { ok: true, user: options.basic.user };
    }
  }
  if (options.token) {
    const token = options.token;
    if (authorization.startsWith("Bearer ") && sameSecret(authorization.slice(7).trim(), token)) {
      return { ok: true };
    }
    const fromCookie = cookie(headers.get("cookie"), TOKEN_COOKIE);
    if (fromCookie !== undefined && sameSecret(fromCookie, token)) return { ok: true };
    const fromQuery = url.searchParams.get("token");
    if (fromQuery !== null && sameSecret(fromQuery, token)) {
      return {
        ok: true,
        setCookie: `${TOKEN_COOKIE}=${
          encodeURIComponent(token)
        }; Path=/; HttpOnly; SameSite=Strict`,
      };
    }
  }
  return {
    ok: false,
    status: 401,
    challenge: options.basic ? 'Basic realm="sluice console", charset="UTF-8"' : undefined,
    message: options.token
      ? "this console needs its token: open it once with ?token=TOKEN, or send 'Authorization: Bearer TOKEN'"
      : "this console needs a user name and password (basic auth)",
  };
}
