/**
 * Elasticsearch 8 for the local stack: Elastic's integration-test distribution from Maven Central
 * (`org.elasticsearch.distribution.integ-test-zip:elasticsearch`, a zip unpacked once under
 * `.stack/elasticsearch/dist/`), one node on 127.0.0.1:9220 (transport 9320), run by its own
 * `bin/elasticsearch` as the system user `sluice-es` (Elasticsearch refuses to run as root; the
 * user is made when missing). That distribution has only the transport-netty4, x-pack-core,
 * x-pack-security and apm modules: no `GET /` (rest-root), no ingest pipelines, no data streams,
 * no ILM. It answers when its cluster health is yellow or green.
 * @module
 */
import { dirname } from "node:path";
import { SluiceError } from "../core/errors.ts";
import { requireJava, requireMaven, run } from "./prerequisites.ts";
import { probeSearch } from "./opensearch.ts";
import {
  ENGINE_PORTS,
  engineAddress,
  REPO_ROOT,
  type ServiceContext,
  type ServiceDefinition,
  STACK_DIR,
} from "./service.ts";

/** The Elasticsearch version the stack runs (the newest 8.x of the integ-test zip). */
export const ELASTICSEARCH_VERSION = "8.19.21";
/** The Maven coordinates of the distribution. */
export const ELASTICSEARCH_ARTIFACT =
  `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ELASTICSEARCH_VERSION}:zip`;
/** The system user the node runs as when the stack runs as root. */
export const ELASTICSEARCH_USER = "sluice-es";
export const ELASTICSEARCH_HTTP_PORT = ENGINE_PORTS.elasticsearch;
export const ELASTICSEARCH_TRANSPORT_PORT = 9320;
/** Heap: the brief's 512 MiB–1 GiB; tests and the demo index little. */
const HEAP = ["-Xms512m", "-Xmx1g"];

/** The unpacked distribution, shared by the plain and the secure node (read-only to both). */
const DIST = `${STACK_DIR}/elasticsearch/dist`;
/** A pom only so that Maven can run `dependency:unpack`; the artifact is named on its line. */
const POM = `${REPO_ROOT}/stack/elasticsearch/pom.xml`;

/** `ES_HOME` of the unpacked distribution. */
export function elasticsearchHome(dist: string = DIST): string {
  return `${dist}/elasticsearch-${ELASTICSEARCH_VERSION}`;
}

/** Files of one node under its member folder. */
export function nodeFiles(dir: string) {
  return {
    config: `${dir}/config`,
    data: `${dir}/data`,
    logs: `${dir}/logs`,
    tmp: `${dir}/tmp`,
  };
}

/**
 * elasticsearch.yml of a single node (pure). `extra` adds settings (the secure node: security
 * and TLS). The disk threshold is off: a test machine's disk filling up must not turn the test
 * indices read-only.
 */
export function renderElasticsearchYml(
  dir: string,
  ports: { http: number; transport: number },
  clusterName: string,
  extra: Record<string, string | boolean> = {},
): string {
  const f = nodeFiles(dir);
  const settings: Record<string, string | number | boolean> = {
    "cluster.name": clusterName,
    "node.name": clusterName,
    "path.data": f.data,
    "path.logs": f.logs,
    "network.host": "127.0.0.1",
    "http.port": ports.http,
    "transport.port": ports.transport,
    "discovery.type": "single-node",
    "cluster.routing.allocation.disk.threshold_enabled": false,
    "xpack.security.enabled": false,
    ...extra,
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key}: ${JSON.stringify(value)}`);
  return `# Written by stack/elasticsearch.ts on every start.\n${lines.join("\n")}\n`;
}

/** True when this process runs as root, so the node must run as ELASTICSEARCH_USER. */
function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** Makes the system user the node runs as, when running as root and it is missing. */
export async function ensureElasticsearchUser(progress: (line: string) => void): Promise<void> {
  if (!isRoot()) return;
  if ((await run("id", ["-u", ELASTICSEARCH_USER])).ok) return;
  progress(`elasticsearch: creating the system user ${ELASTICSEARCH_USER} (it refuses root)`);
  const made = await run("useradd", [
    "--system",
    "--no-create-home",
    "--home-dir",
    "/nonexistent",
    "--shell",
    "/usr/sbin/nologin",
    "--user-group",
    ELASTICSEARCH_USER,
  ]);
  // A parallel start may have made it meanwhile.
  if (!made.ok && !(await run("id", ["-u", ELASTICSEARCH_USER])).ok) {
    throw new SluiceError(
      `creating the system user ${ELASTICSEARCH_USER} failed: ${made.output.trim()}\n` +
        `Fix: useradd --system ${ELASTICSEARCH_USER}, or run the stack as a user other than root.`,
    );
  }
}

/** Unpacks the distribution (Maven downloads it into ~/.m2 and unzips it) unless it is there. */
export async function ensureDistribution(progress: (line: string) => void): Promise<string> {
  const home = elasticsearchHome();
  const stamp = `${DIST}/.resolved-from`;
  if ((await Deno.readTextFile(stamp).catch(() => "")).trim() === ELASTICSEARCH_ARTIFACT) {
    return home;
  }
  await requireMaven();
  progress(`elasticsearch: fetching ${ELASTICSEARCH_ARTIFACT} from Maven Central (~100 MB)`);
  await Deno.remove(DIST, { recursive: true }).catch(() => {});
  // Maven keeps markers of what it unpacked beside the pom and skips an unpack it has a marker
  // for: it runs on a copy under .stack/, so the markers go with the distribution.
  const work = `${STACK_DIR}/elasticsearch/unpack`;
  await Deno.remove(work, { recursive: true }).catch(() => {});
  await Deno.mkdir(work, { recursive: true });
  await Deno.copyFile(POM, `${work}/pom.xml`);
  const result = await run("mvn", [
    "-q",
    "-B",
    "-f",
    `${work}/pom.xml`,
    "dependency:unpack",
    `-Dartifact=${ELASTICSEARCH_ARTIFACT}`,
    `-DoutputDirectory=${DIST}`,
  ]);
  if (!result.ok || !await exists(`${home}/bin/elasticsearch`)) {
    throw new SluiceError(
      `Maven could not fetch ${ELASTICSEARCH_ARTIFACT}:\n${
        result.output.trim().split("\n").slice(-15).join("\n")
      }\nFix: check that Maven Central is reachable, then run the command again.`,
    );
  }
  // The zip's file modes do not survive Maven's unpacking: the scripts must be executable, and
  // the node's user must read everything.
  await run("chmod", ["-R", "a+rX", DIST]);
  await run("chmod", ["a+x", ...await listFiles(`${home}/bin`)]);
  await Deno.writeTextFile(stamp, ELASTICSEARCH_ARTIFACT + "\n");
  return home;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) if (entry.isFile) out.push(`${dir}/${entry.name}`);
  return out;
}

function exists(path: string): Promise<boolean> {
  return Deno.stat(path).then(() => true, () => false);
}

/** The Java home the node runs on: the `java` on PATH (the distribution bundles none). */
async function javaHome(): Promise<string> {
  const result = await run("sh", ["-c", 'readlink -f "$(command -v java)"']);
  const java = result.output.trim();
  if (!result.ok || !java.endsWith("/bin/java")) {
    throw new SluiceError(`could not find the Java home of 'java' (${java})`);
  }
  return java.slice(0, -"/bin/java".length);
}

/**
 * Prepares a node's folder: the distribution, the user, the config folder (the distribution's
 * jvm.options and log4j2.properties, our elasticsearch.yml and `files`), data, logs and tmp, all
 * owned by the node's user. Shared by the plain and the secure node.
 */
export async function prepareNode(
  ctx: ServiceContext,
  yml: string,
  files: Record<string, string | { copyFrom: string }> = {},
): Promise<void> {
  await requireJava();
  const home = await ensureDistribution(ctx.progress);
  await ensureElasticsearchUser(ctx.progress);
  const f = nodeFiles(ctx.dir);
  for (const d of [f.config, f.data, f.logs, f.tmp]) await Deno.mkdir(d, { recursive: true });
  await Deno.mkdir(`${f.config}/jvm.options.d`, { recursive: true });
  for (const name of ["jvm.options", "log4j2.properties"]) {
    await Deno.copyFile(`${home}/config/${name}`, `${f.config}/${name}`);
  }
  await Deno.writeTextFile(`${f.config}/elasticsearch.yml`, yml);
  for (const [name, content] of Object.entries(files)) {
    if (typeof content === "string") {
      await Deno.writeTextFile(`${f.config}/${name}`, content, { mode: 0o600 });
    } else await Deno.copyFile(content.copyFrom, `${f.config}/${name}`);
  }
  if (isRoot()) {
    await ensureReachable(ctx.dir, home);
    // The node writes its keystore into config/ on the first start, and its data, logs and tmp.
    // The distribution (under the plain node's folder) stays root's: the node only reads it.
    const owner = `${ELASTICSEARCH_USER}:${ELASTICSEARCH_USER}`;
    const top = await run("chown", [owner, ctx.dir]);
    const owned = await run("chown", ["-R", owner, f.config, f.data, f.logs, f.tmp]);
    if (!top.ok || !owned.ok) {
      throw new SluiceError(`chown of ${ctx.dir} failed: ${top.output}${owned.output}`.trim());
    }
  }
}

/**
 * The node runs as ELASTICSEARCH_USER: every directory above its folder and its distribution must
 * let others through (search permission). `.stack/` is ours: it is opened up (its private parts,
 * secure/certs and secure/secrets, keep their own modes; a first `stack:up --secure` creates it
 * private). A directory above the repository that is closed (a clone under /root) is not ours to
 * open: the error says which and what to do.
 */
async function ensureReachable(...dirs: string[]): Promise<void> {
  const stackRoot = STACK_DIR;
  const info = await Deno.stat(stackRoot);
  if (((info.mode ?? 0) & 0o001) === 0) await Deno.chmod(stackRoot, (info.mode ?? 0o700) | 0o711);
  for (const dir of dirs) {
    for (let d = dirname(dir); d !== dirname(d); d = dirname(d)) {
      const mode = (await Deno.stat(d)).mode ?? 0o755;
      if ((mode & 0o001) === 0 && !d.startsWith(stackRoot)) {
        throw new SluiceError(
          `Elasticsearch runs as the user ${ELASTICSEARCH_USER} (it refuses root) and cannot ` +
            `reach ${dir}: ${d} lets only its owner through (mode ${
              (mode & 0o777).toString(8)
            }). ` +
            `Fix: chmod o+x ${d}, or clone the repository where others may pass (e.g. /srv, /opt, /tmp).`,
        );
      }
    }
  }
}

/**
 * The command that runs a node in the foreground: its `bin/elasticsearch` with its config folder,
 * heap and Java, as ELASTICSEARCH_USER when we are root. The script ends in `exec java`, so the
 * pid file holds the launcher JVM (whose command line names the config folder), which stops the
 * server JVM it started when it gets SIGTERM.
 */
export async function nodeCommand(dir: string): Promise<string[]> {
  const f = nodeFiles(dir);
  const env = [
    `ES_PATH_CONF=${f.config}`,
    `ES_JAVA_HOME=${await javaHome()}`,
    `ES_JAVA_OPTS=${HEAP.join(" ")} -Djava.awt.headless=true`,
    `ES_TMPDIR=${f.tmp}`,
    // The user has no home; the JVM and the CLI must not look for one.
    `HOME=${dir}`,
  ];
  const script = `${elasticsearchHome()}/bin/elasticsearch`;
  const asUser = isRoot()
    ? ["setpriv", `--reuid=${ELASTICSEARCH_USER}`, `--regid=${ELASTICSEARCH_USER}`, "--init-groups"]
    : [];
  // `-Epath.data` repeats elasticsearch.yml's setting on purpose: every program the pid runs on
  // the way (setpriv, env, bash, java) then names the node's folder on its command line, which
  // is how stack/ knows the pid as its own (process.ts ownedPid), also while bash reads its
  // scripts.
  return [...asUser, "env", ...env, "bash", script, `-Epath.data=${f.data}`];
}

export const elasticsearchService: ServiceDefinition = {
  name: "elasticsearch",
  defaultPort: ELASTICSEARCH_HTTP_PORT,
  ports: [ELASTICSEARCH_HTTP_PORT, ELASTICSEARCH_TRANSPORT_PORT],
  address: (ctx) => engineAddress(ctx.endpoints.search, "elasticsearch"),
  prepare: (ctx) =>
    prepareNode(
      ctx,
      renderElasticsearchYml(ctx.dir, {
        http: ELASTICSEARCH_HTTP_PORT,
        transport: ELASTICSEARCH_TRANSPORT_PORT,
      }, "sluice-es"),
    ),
  command: (ctx) => nodeCommand(ctx.dir),
  probe: (_ctx, address) => probeSearch(address),
  startTimeoutMs: 180_000,
  stopGraceMs: 30_000,
};
