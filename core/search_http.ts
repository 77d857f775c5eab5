/**
 * Plain `fetch` to the search engine with its TLS and credentials: the engine detection of the
 * transfer, the console's log search and the stack's probes use it, so an https:// engine with
 * a private CA and basic auth or an API key works the same for all of them.
 * @module
 */
import { credentialsInUrl, type SearchAuth, type SearchSecurity } from "./security.ts";
import { redactUrl, Secret } from "./secret.ts";

/** What a `fetch` to the engine needs; `close()` when done (it owns an HTTP client for a CA). */
export interface SearchHttp {
  /** The base URL without credentials and without a trailing slash (safe to print). */
  base: string;
  /** `authorization` when credentials are set. */
  headers: Record<string, string>;
  /** `fetch(url, { ...http.init, ... })`: the headers and, for a private CA, the client. */
  init: RequestInit & { client?: Deno.HttpClient };
  close(): void;
}

/**
 * The credentials to use: `security.auth`, or else a user and password written into `url`.
 *
 * @example
 * ```ts
 * import { searchAuth } from "./search_http.ts";
 * searchAuth("https://elastic:pw@es:9200", {})?.kind; // "basic"
 * ```
 */
export function searchAuth(url: string, security: SearchSecurity): SearchAuth | undefined {
  if (security.auth) return security.auth;
  const inUrl = credentialsInUrl(url);
  if (!inUrl) return undefined;
  return {
    kind: "basic",
    username: inUrl.username,
    password: new Secret(inUrl.password, "the search URL"),
  };
}

/**
 * The `authorization` header value of `auth`.
 *
 * @example
 * ```ts
 * import { authorizationHeader } from "./search_http.ts";
 * import { Secret } from "./secret.ts";
 * authorizationHeader({ kind: "apiKey", apiKey: new Secret("a2V5", "SLUICE_SEARCH_API_KEY") });
 * // "ApiKey a2V5"
 * ```
 */
export function authorizationHeader(auth: SearchAuth): string {
  if (auth.kind === "apiKey") return `ApiKey ${auth.apiKey.reveal()}`;
  const bytes = new TextEncoder().encode(`${auth.username}:${auth.password.reveal()}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * Fetch settings for the engine at `url`.
 *
 * @example
 * ```ts ignore
 * import { searchHttp } from "./search_http.ts";
 * const http = searchHttp("http://127.0.0.1:9200", {});
 * try {
 *   const response = await fetch(`${http.base}/`, http.init);
 *   console.log(response.status);
 * } finally {
 *   http.close();
 * }
 * ```
 */
export function searchHttp(url: string, security: SearchSecurity): SearchHttp {
  const auth = searchAuth(url, security);
  const headers: Record<string, string> = auth ? { authorization: authorizationHeader(auth) } : {};
  const client = security.tls?.ca || security.tls?.cert
    ? Deno.createHttpClient({
      caCerts: security.tls.ca ? [security.tls.ca] : undefined,
      ...(security.tls.cert && security.tls.key
        ? { cert: security.tls.cert, key: security.tls.key.reveal() }
        : {}),
    })
    : undefined;
  return {
    base: redactUrl(url).replace(/\/+$/, ""),
    headers,
    init: client ? { headers, client } : { headers },
    close: () => client?.close(),
  };
}
