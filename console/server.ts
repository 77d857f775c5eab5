/**
 * The console's HTTP server on `Deno.serve`: access control, the pages, the static scripts and
 * the JSON API (config, fleet, logs). `startConsole` is how `console/main.ts`, the demo and the
 * tests run it.
 * @module
 */
import { type ConfigPlane, openConfigPlane } from "../config_plane/mod.ts";
import { endpointsFromEnv } from "../core/endpoints.ts";
import { ConflictError, InvalidInputError, SluiceError, UnreachableError } from "../core/errors.ts";
import { getLogger } from "../core/log.ts";
import { type AuthOptions, authorize, bindRefusal } from "./auth.ts";
import {
  applyImport,
  applyText,
  FieldErrors,
  planImport,
  planText,
  readDiff,
  readHistory,
  readRevision,
  rollbackTo,
  validateText,
} from "./config_api.ts";
import { readFleet } from "./fleet_view.ts";
import { LogSearch } from "./log_search.ts";
import { type PageName, PAGES, renderPage } from "./pages.ts";
import {
  authorOf,
  checkApplyRequest,
  type Checked,
  checkImportApplyRequest,
  checkImportRequest,
  checkPlanRequest,
  checkRevisionParam,
  checkRollbackRequest,
} from "./requests.ts";
import { checkLogQuery } from "./search_query.ts";

const log = getLogger("console");

/** How to run the console. Everything is optional. */
export interface ConsoleOptions {
  /** Address to bind (default 127.0.0.1); anything but loopback needs `auth`. */
  hostname?: string;
  /** Port (default 8080; 0 = any free port). */
  port?: number;
  /** A token and/or basic auth; required beyond loopback. */
  auth?: AuthOptions;
  /** etcd endpoints and key prefix (default: core/endpoints.ts). */
  etcdEndpoints?: string[];
  etcdPrefix?: string;
  /** Search engine URL (default: SLUICE_SEARCH_URL or http://127.0.0.1:9200). */
  searchUrl?: string;
  /** Index prefix: `<prefix>-*` is searched (default "sluice"). */
  indexPrefix?: string;
}

/** A running console. */
export interface RunningConsole {
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  hostname: string;
  port: number;
  /** Stops listening and closes the etcd client. */
  stop(): Promise<void>;
}

const STATIC_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};
const STATIC_FILES = [
  "console.css",
  "common.js",
  "config.js",
  "config_import.js",
  "fleet.js",
  "logs.js",
];
const MAX_BODY_BYTES = 2 * 1_048_576;

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

/** The API's error answer: 400 with field errors, 409 naming the head, 503 unreachable. */
async function errorResponse(error: unknown, plane: ConfigPlane): Promise<Response> {
  if (error instanceof FieldErrors) {
    return json(400, { error: error.message, errors: error.errors });
  }
  if (error instanceof InvalidInputError) return json(400, { error: error.message, errors: [] });
  if (error instanceof ConflictError) {
    const head = await plane.head().catch(() => undefined);
    return json(409, { error: error.message, head });
  }
  if (error instanceof UnreachableError) return json(503, { error: error.message });
  if (error instanceof SluiceError) return json(502, { error: error.message });
  log.error("console request failed: {error}", { error: String((error as Error)?.stack ?? error) });
  return json(500, { error: `internal error: ${(error as Error)?.message ?? error}` });
}

function badRequest(checked: Checked<unknown> & { ok: false }): Response {
  return json(400, {
    error: checked.errors.map((e) => `${e.path} ${e.message}`).join("; "),
    errors: checked.errors,
  });
}

async function readJson(request: Request): Promise<unknown | Response> {
  const type = request.headers.get("content-type") ?? "";
  // JSON only: a cross-site HTML form cannot send it without a CORS preflight, which we never allow.
  if (!type.toLowerCase().startsWith("application/json")) {
    return json(415, { error: "send the request body as application/json" });
  }
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) return json(413, { error: "the request body is too large" });
  try {
    return JSON.parse(text);
  } catch {
    return json(400, {
      error: "the request body is not valid JSON",
      errors: [{ path: "(top level)", message: "is not valid JSON" }],
    });
  }
}

/** The body read as JSON and checked; the error Response (415, 413, 400) when it is not right. */
async function readChecked<T>(
  request: Request,
  check: (body: unknown) => Checked<T>,
): Promise<T | Response> {
  const body = await readJson(request);
  if (body instanceof Response) return body;
  const checked = check(body);
  return checked.ok ? checked.value : badRequest(checked);
}

/** The answer to an append: 201 when a new event was written, 200 otherwise. */
function appendResponse(result: { appended: unknown; created: boolean }): Response {
  return json(result.appended && result.created ? 201 : 200, result);
}

async function loadStatic(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of STATIC_FILES) {
    files.set(name, await Deno.readTextFile(new URL(`./static/${name}`, import.meta.url)));
  }
  return files;
}

/**
 * Starts the console. Refuses (InvalidInputError) to bind beyond loopback without a token or
 * basic auth.
 *
 * @example
 * ```ts ignore
 * import { startConsole } from "./server.ts";
 * const web = await startConsole({ port: 0 });
 * console.log(`console at ${web.url}`);
 * await web.stop();
 * ```
 */
export async function startConsole(options: ConsoleOptions = {}): Promise<RunningConsole> {
  const hostname = options.hostname ?? "127.0.0.1";
  const auth = options.auth ?? {};
  const refusal = bindRefusal(hostname, auth);
  if (refusal) throw new InvalidInputError(refusal);

  const env = endpointsFromEnv();
  const plane = openConfigPlane({
    endpoints: options.etcdEndpoints,
    prefix: options.etcdPrefix,
    callTimeoutMs: 5_000,
  });
  const search = new LogSearch({
    url: options.searchUrl ?? env.searchNodes.join(","),
    indexPrefix: options.indexPrefix,
  });
  const statics = await loadStatic();
  const info = { prefix: plane.prefix, index: search.pattern };

  async function api(request: Request, url: URL, user: string | undefined): Promise<Response> {
    const path = url.pathname;
    const method = request.method;
    const params = url.searchParams;
    if (method === "GET" && path === "/api/config/history") {
      const limit = params.get("limit")
        ? checkRevisionParam(params.get("limit"), "limit")
        : undefined;
      if (limit && !limit.ok) return badRequest(limit);
      const before = params.get("before")
        ? checkRevisionParam(params.get("before"), "before")
        : undefined;
      if (before && !before.ok) return badRequest(before);
      return json(
        200,
        await readHistory(plane, {
          limit: Math.min(limit?.value ?? 50, 1000),
          before: before?.value,
        }),
      );
    }
    const revision = /^\/api\/config\/revisions\/([^/]+)$/.exec(path);
    if (method === "GET" && revision) {
      const seq = checkRevisionParam(decodeURIComponent(revision[1]), "revision");
      if (!seq.ok) return badRequest(seq);
      return json(200, await readRevision(plane, seq.value));
    }
    if (method === "GET" && path === "/api/config/diff") {
      const from = checkRevisionParam(params.get("from"), "from");
      if (!from.ok) return badRequest(from);
      const to = checkRevisionParam(params.get("to"), "to");
      if (!to.ok) return badRequest(to);
      return json(200, await readDiff(plane, from.value, to.value));
    }
    if (method === "POST" && path === "/api/config/plan") {
      const input = await readChecked(request, checkPlanRequest);
      if (input instanceof Response) return input;
      return json(200, await planText(plane, input));
    }
    if (method === "POST" && path === "/api/config/validate") {
      const input = await readChecked(request, checkPlanRequest);
      if (input instanceof Response) return input;
      return json(200, validateText(input));
    }
    if (method === "POST" && path === "/api/config/import/plan") {
      const input = await readChecked(request, checkImportRequest);
      if (input instanceof Response) return input;
      return json(200, await planImport(plane, input));
    }
    if (method === "POST" && path === "/api/config/import") {
      const input = await readChecked(request, checkImportApplyRequest);
      if (input instanceof Response) return input;
      return appendResponse(await applyImport(plane, input, authorOf(user, input.author)));
    }
    if (method === "POST" && path === "/api/config/apply") {
      const input = await readChecked(request, checkApplyRequest);
      if (input instanceof Response) return input;
      return appendResponse(await applyText(plane, input, authorOf(user, input.author)));
    }
    if (method === "POST" && path === "/api/config/rollback") {
      const input = await readChecked(request, checkRollbackRequest);
      if (input instanceof Response) return input;
      return appendResponse(await rollbackTo(plane, input, authorOf(user, input.author)));
    }
    if (method === "GET" && path === "/api/fleet") return json(200, await readFleet(plane));
    if (method === "GET" && path === "/api/logs/search") {
      const query = checkLogQuery(params, Date.now());
      if (!query.ok) return badRequest(query);
      return json(200, await search.search(query.value));
    }
    if (method === "GET" && path === "/api/logs/tail") {
      const now = Date.now();
      const since = Date.parse(params.get("since") ?? "");
      if (Number.isNaN(since)) {
        return json(400, {
          error: "since must be an ISO 8601 time",
          errors: [{ path: "since", message: "must be an ISO 8601 time" }],
        });
      }
      const query = checkLogQuery(params, now);
      if (!query.ok) return badRequest(query);
      // No upper bound that matters: a line stamped by a host whose clock runs ahead still shows.
      const rows = await search.tail({ ...query.value, to: now + 86_400_000 }, since);
      return json(200, { rows });
    }
    if (path.startsWith("/api/")) {
      return json(404, { error: `no API ${method} ${path}; see docs/console.md` });
    }
    return json(404, { error: "not found" });
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok\n");
    const access = authorize(request.headers, url, auth);
    if (!access.ok) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (access.challenge) headers["www-authenticate"] = access.challenge;
      return new Response(JSON.stringify({ error: access.message }), { status: 401, headers });
    }
    let response: Response;
    if (url.pathname === "/") {
      response = new Response(null, { status: 303, headers: { location: "/config" } });
    } else if (request.method === "GET" && url.pathname.slice(1) in PAGES) {
      response = new Response(renderPage(url.pathname.slice(1) as PageName, info), {
        headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
      });
    } else if (request.method === "GET" && url.pathname.startsWith("/static/")) {
      const name = url.pathname.slice("/static/".length);
      const body = statics.get(name);
      response = body === undefined ? json(404, { error: "not found" }) : new Response(body, {
        headers: {
          "content-type": STATIC_TYPES[name.split(".").pop()!],
          "cache-control": "no-cache",
        },
      });
    } else {
      try {
        response = await api(request, url, access.user);
      } catch (error) {
        response = await errorResponse(error, plane);
      }
    }
    if (access.setCookie) response.headers.append("set-cookie", access.setCookie);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) response.headers.set(k, v);
    return response;
  }

  const server = Deno.serve({
    hostname,
    port: options.port ?? 8080,
    onListen: () => {},
  }, handle);
  const address = server.addr as Deno.NetAddr;
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  const url = `http://${host}:${address.port}`;
  log.info("console listening on {url} (etcd prefix {prefix}, indices {pattern})", {
    url,
    prefix: plane.prefix,
    pattern: search.pattern,
  });
  let stopped = false;
  return {
    url,
    hostname: address.hostname,
    port: address.port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.shutdown();
      plane.close();
      search.close();
    },
  };
}
