/**
 * The secure OpenSearch: a second embedded node (stack/opensearch/OpenSearchNode.java) on
 * https://127.0.0.1:9201 (transport 9400) with the opensearch-security plugin loaded from the
 * class path. TLS on HTTP and transport with the stack's server certificate; HTTP basic auth
 * against internal users `admin` (all_access) and `sluice` (role sluice_writer: write, manage and
 * search `sluice*`, install templates). The security index is made from the YAML files in
 * stack/secure/opensearch/opensearch-security/ on the first start.
 * @module
 */
import { SluiceError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import { resolveJars } from "../maven.ts";
import { probeSearch } from "../opensearch.ts";
import { requireJava, requireMaven, run } from "../prerequisites.ts";
import { SERVER_DN } from "./certs.ts";
import { readPassword, SECURE_ADDRESSES, SECURE_PORTS, SLUICE_USER } from "./credentials.ts";
import { parseAddress, REPO_ROOT, type SecureContext, type ServiceDefinition } from "../service.ts";

const POM = `${REPO_ROOT}/stack/secure/opensearch/pom.xml`;
const SECURITY_CONFIG = `${REPO_ROOT}/stack/secure/opensearch/opensearch-security`;
const MAIN = `${REPO_ROOT}/stack/opensearch/OpenSearchNode.java`;
/** The security plugin: the newest 2.19 build on Maven Central (see the pom). */
export const SECURITY_PLUGIN = "org.opensearch.plugin:opensearch-security:2.19.3.0:zip";
/** Files of the plugin's own default configuration that sluice takes as they are. */
const PLUGIN_DEFAULT_FILES = [
  "action_groups.yml",
  "tenants.yml",
  "nodes_dn.yml",
  "allowlist.yml",
  "audit.yml",
];

function files(dir: string) {
  return {
    jars: `${dir}/jars`,
    plugin: `${dir}/plugin`,
    pluginJars: `${dir}/plugin-jars`,
    node: `${dir}/node`,
    config: `${dir}/node/node_1/config`,
    settings: `${dir}/node.properties`,
  };
}

/** The artifact name of a jar file (`netty-common-4.1.121.Final.jar` → `netty-common`). */
export function jarArtifact(fileName: string): string {
  return fileName.replace(/\.jar$/, "").replace(/-\d[^-]*(?:-[a-z]+)?$/i, "");
}

/** Node settings (Java properties) of the secure node (pure). */
export function secureNodeSettings(): string {
  const settings: Record<string, string> = {
    "sluice.plugin.types": "org.opensearch.security.OpenSearchSecurityPlugin",
    "cluster.name": "sluice-secure",
    "transport.port": String(SECURE_PORTS.openSearchTransport),
    "plugins.security.ssl.transport.pemcert_filepath": "server.pem",
    "plugins.security.ssl.transport.pemkey_filepath": "server.key",
    "plugins.security.ssl.transport.pemtrustedcas_filepath": "ca.pem",
    "plugins.security.ssl.transport.enforce_hostname_verification": "false",
    "plugins.security.ssl.http.enabled": "true",
    "plugins.security.ssl.http.pemcert_filepath": "server.pem",
    "plugins.security.ssl.http.pemkey_filepath": "server.key",
    "plugins.security.ssl.http.pemtrustedcas_filepath": "ca.pem",
    // Make the security index from config/opensearch-security/*.yml on the first start, so no
    // admin certificate and no securityadmin run are needed.
    "plugins.security.allow_default_init_securityindex": "true",
    "plugins.security.nodes_dn": `[${SERVER_DN}]`,
    "plugins.security.audit.type": "noop",
    "plugins.security.restapi.roles_enabled": "[all_access]",
    "plugins.security.system_indices.enabled": "true",
  };
  return Object.entries(settings).map(([k, v]) => `${k}=${v.replaceAll("\\", "\\\\")}`).join(
    "\n",
  ) + "\n";
}

/** Unpacks the plugin zip (Maven does the download and the unzip) unless it is there. */
async function ensurePlugin(dir: string, ctx: SecureContext): Promise<void> {
  const f = files(dir);
  const stamp = `${f.plugin}/.resolved-from`;
  if ((await Deno.readTextFile(stamp).catch(() => "")).trim() === SECURITY_PLUGIN) return;
  await requireMaven();
  ctx.progress(`opensearch (secure): fetching ${SECURITY_PLUGIN} from Maven Central`);
  await Deno.remove(f.plugin, { recursive: true }).catch(() => {});
  await Deno.remove(f.pluginJars, { recursive: true }).catch(() => {});
  // Maven keeps marker files of what it unpacked in target/ beside the pom, and skips an unpack
  // it has a marker for: run it on a copy under .stack/, so the markers go with the plugin.
  const pom = `${dir}/unpack/pom.xml`;
  await Deno.remove(`${dir}/unpack`, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${dir}/unpack`, { recursive: true });
  await Deno.copyFile(POM, pom);
  const result = await run("mvn", [
    "-q",
    "-B",
    "-f",
    pom,
    "dependency:unpack",
    `-Dartifact=${SECURITY_PLUGIN}`,
    `-DoutputDirectory=${f.plugin}`,
  ]);
  if (!result.ok) {
    throw new SluiceError(
      `Maven could not fetch ${SECURITY_PLUGIN}:\n${
        result.output.trim().split("\n").slice(-15).join("\n")
      }\nFix: check that Maven Central is reachable, then start the secure stack again.`,
    );
  }
  if (!await Deno.stat(`${f.plugin}/config/config.yml`).then(() => true, () => false)) {
    throw new SluiceError(
      `Maven reported ${SECURITY_PLUGIN} unpacked, but ${f.plugin}/config is missing. ` +
        `Fix: remove ${f.plugin} and start the secure stack again.`,
    );
  }
  // The plugin zip bundles libraries the node has already (netty, the transport module, …):
  // only the others go on the class path, so each class is there once.
  const present = new Set<string>();
  for await (const entry of Deno.readDir(f.jars)) present.add(jarArtifact(entry.name));
  await Deno.mkdir(f.pluginJars, { recursive: true });
  for await (const entry of Deno.readDir(f.plugin)) {
    if (!entry.name.endsWith(".jar") || present.has(jarArtifact(entry.name))) continue;
    await Deno.copyFile(`${f.plugin}/${entry.name}`, `${f.pluginJars}/${entry.name}`);
  }
  await Deno.writeTextFile(stamp, SECURITY_PLUGIN + "\n");
}

/** A bcrypt hash of the password in `passwordFile`, by the plugin's own tool (read from env). */
async function bcrypt(dir: string, passwordFile: string): Promise<string> {
  const f = files(dir);
  const result = await run("java", [
    "-cp",
    `${f.jars}/*:${f.pluginJars}/*`,
    "org.opensearch.security.tools.Hasher",
    "-env",
    "SLUICE_HASH_PASSWORD",
  ], { SLUICE_HASH_PASSWORD: await readPassword(passwordFile) });
  const hash = result.output.trim().split("\n").at(-1) ?? "";
  if (!result.ok || !hash.startsWith("$2")) {
    throw new SluiceError(`hashing a password with the security plugin's Hasher failed: ${hash}`);
  }
  return hash;
}

/** The node's config folder: certificates and, before the first start, the security YAML. */
async function writeNodeConfig(dir: string, ctx: SecureContext): Promise<void> {
  const f = files(dir);
  const security = `${f.config}/opensearch-security`;
  await Deno.mkdir(security, { recursive: true, mode: 0o700 });
  // The plugin reads PEM files relative to the config folder.
  await Deno.copyFile(ctx.certs.ca, `${f.config}/ca.pem`);
  await Deno.copyFile(ctx.certs.cert, `${f.config}/server.pem`);
  await Deno.copyFile(ctx.certs.key, `${f.config}/server.key`);
  await Deno.chmod(`${f.config}/server.key`, 0o600);
  await Deno.writeTextFile(f.settings, secureNodeSettings());
  if (await Deno.stat(`${security}/internal_users.yml`).then(() => true, () => false)) return;
  for (const name of PLUGIN_DEFAULT_FILES) {
    await Deno.copyFile(`${f.plugin}/config/${name}`, `${security}/${name}`);
  }
  for (const name of ["config.yml", "roles.yml", "roles_mapping.yml"]) {
    await Deno.copyFile(`${SECURITY_CONFIG}/${name}`, `${security}/${name}`);
  }
  const users = [
    "# Written by stack/secure/opensearch.ts from the passwords in .stack/secure/secrets/.",
    "_meta:",
    '  type: "internalusers"',
    "  config_version: 2",
    "admin:",
    `  hash: "${await bcrypt(dir, ctx.credentials.openSearchAdmin)}"`,
    "  reserved: true",
    `${SLUICE_USER}:`,
    `  hash: "${await bcrypt(dir, ctx.credentials.openSearchSluice)}"`,
    "",
  ];
  await Deno.writeTextFile(`${security}/internal_users.yml`, users.join("\n"), { mode: 0o600 });
}

async function probe(ctx: SecureContext): Promise<string> {
  // GET / answers 503 until the security index is made; 401 would be a password mismatch.
  const address = parseAddress(SECURE_ADDRESSES.opensearch, SECURE_PORTS.openSearchHttp);
  const { version } = await probeSearch(address, {
    tls: { ca: await Deno.readTextFile(ctx.certs.ca) },
    auth: {
      kind: "basic",
      username: SLUICE_USER,
      password: new Secret(await readPassword(ctx.credentials.openSearchSluice), "os-sluice"),
    },
  });
  return version;
}

export const secureOpenSearchService: ServiceDefinition<SecureContext> = {
  name: "opensearch",
  defaultPort: SECURE_PORTS.openSearchHttp,
  address: () => parseAddress(SECURE_ADDRESSES.opensearch, SECURE_PORTS.openSearchHttp),
  ports: [SECURE_PORTS.openSearchHttp, SECURE_PORTS.openSearchTransport],
  async prepare(ctx) {
    await requireJava();
    await resolveJars(POM, files(ctx.dir).jars, "opensearch (secure)", ctx.progress);
    await ensurePlugin(ctx.dir, ctx);
    await writeNodeConfig(ctx.dir, ctx);
  },
  command: (ctx) => {
    const f = files(ctx.dir);
    return Promise.resolve([
      "java",
      "-Xms256m",
      "-Xmx768m",
      "-XX:+UseG1GC",
      "-Djava.awt.headless=true",
      "-Dfile.encoding=UTF-8",
      "-Dlog4j2.disable.jmx=true",
      "-Dlog4j.shutdownHookEnabled=false",
      "-cp",
      `${f.jars}/*:${f.pluginJars}/*`,
      MAIN,
      f.node,
      String(SECURE_PORTS.openSearchHttp),
      f.settings,
    ]);
  },
  probe: async (ctx) => ({ version: await probe(ctx) }),
  startTimeoutMs: 180_000,
  stopGraceMs: 30_000,
};
