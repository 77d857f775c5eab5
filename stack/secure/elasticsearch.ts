/**
 * The secure Elasticsearch: a second node of the same distribution (stack/elasticsearch.ts) on
 * https://127.0.0.1:9222 (transport 9322, loopback), with x-pack security on: TLS on HTTP with the
 * stack's server certificate, and users of the file realm: `admin` (superuser) and `sluice`
 * (role `sluice_writer`: monitor the cluster, put index templates, make its own API keys, and
 * create, write, read and manage `sluice*`). The users are written with the distribution's own
 * `elasticsearch-users` tool, each password fed on its standard input (never on a command line).
 * @module
 */
import { SluiceError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import {
  ELASTICSEARCH_USER,
  elasticsearchHome,
  nodeCommand,
  nodeFiles,
  prepareNode,
  renderElasticsearchYml,
} from "../elasticsearch.ts";
import { probeSearch } from "../opensearch.ts";
import { parseAddress, type SecureContext, type ServiceDefinition } from "../service.ts";
import { readPassword, SECURE_ADDRESSES, SECURE_PORTS, SLUICE_USER } from "./credentials.ts";

/** The role of the sluice user: what the transfer, replay, the console and the tests need. */
export const SLUICE_ROLE_YML = `# Written by stack/secure/elasticsearch.ts.
sluice_writer:
  cluster: ["monitor", "manage_index_templates", "manage_own_api_key"]
  indices:
    - names: ["sluice*"]
      privileges: ["create_index", "write", "read", "manage", "view_index_metadata"]
`;

/** Settings of the secure node beyond the plain one's (pure). */
export function secureElasticsearchSettings(): Record<string, string | boolean> {
  return {
    "xpack.security.enabled": true,
    "xpack.security.http.ssl.enabled": true,
    // Paths are relative to the config folder, where prepare copies the certificate files.
    "xpack.security.http.ssl.certificate": "server.pem",
    "xpack.security.http.ssl.key": "server.key",
    "xpack.security.http.ssl.certificate_authorities": "ca.pem",
    // One node: nothing connects to its transport but itself.
    "xpack.security.transport.ssl.enabled": false,
    "xpack.security.authc.api_key.enabled": true,
  };
}

/** Adds (or replaces) a file-realm user with the distribution's tool, password on stdin. */
async function fileRealmUser(
  ctx: SecureContext,
  name: string,
  passwordFile: string,
  role: string,
): Promise<void> {
  const tool = `${elasticsearchHome()}/bin/elasticsearch-users`;
  const env = { ES_PATH_CONF: nodeFiles(ctx.dir).config, ES_JAVA_HOME: await javaHomeOf() };
  const asUser = Deno.uid() === 0
    ? ["setpriv", `--reuid=${ELASTICSEARCH_USER}`, `--regid=${ELASTICSEARCH_USER}`, "--init-groups"]
    : [];
  const password = await readPassword(passwordFile);
  // userdel first: useradd refuses a user that exists (a password file made anew).
  for (const args of [["userdel", name], ["useradd", name, "-r", role]]) {
    const [program, ...rest] = [
      ...asUser,
      "env",
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      "bash",
      tool,
      ...args,
    ];
    // Only useradd reads the password (twice); userdel of a user that does not exist exits at
    // once, and a write to its stdin then fails with a broken pipe.
    const asks = args[0] === "useradd";
    const child = new Deno.Command(program, {
      args: rest,
      stdin: asks ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (asks) {
      const writer = child.stdin.getWriter();
      try {
        await writer.write(new TextEncoder().encode(`${password}\n${password}\n`));
        await writer.close();
      } catch (error) {
        // It exited before reading: its output (below) says why.
        if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
      }
    }
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    if (!out.success && args[0] === "useradd") {
      throw new SluiceError(
        `elasticsearch-users ${args.join(" ")} failed: ${text.replaceAll(password, "[redacted]")}`,
      );
    }
  }
}

async function uidOf(user: string): Promise<number> {
  const out = await new Deno.Command("id", { args: ["-u", user], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

async function javaHomeOf(): Promise<string> {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'readlink -f "$(command -v java)"'],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim().replace(/\/bin\/java$/, "");
}

const USERS_MARKER = "users-made-from";

async function probe(ctx: SecureContext): Promise<string> {
  const address = parseAddress(SECURE_ADDRESSES.elasticsearch, SECURE_PORTS.elasticsearchHttp);
  const { version } = await probeSearch(address, {
    tls: { ca: await Deno.readTextFile(ctx.certs.ca) },
    auth: {
      kind: "basic",
      username: SLUICE_USER,
      password: new Secret(await readPassword(ctx.credentials.elasticsearchSluice), "es-sluice"),
    },
  });
  return version;
}

export const secureElasticsearchService: ServiceDefinition<SecureContext> = {
  name: "elasticsearch",
  defaultPort: SECURE_PORTS.elasticsearchHttp,
  address: () => parseAddress(SECURE_ADDRESSES.elasticsearch, SECURE_PORTS.elasticsearchHttp),
  ports: [SECURE_PORTS.elasticsearchHttp, SECURE_PORTS.elasticsearchTransport],
  async prepare(ctx) {
    // The node's user must reach its folder inside the private .stack/secure (search only, no
    // listing; certs/ and secrets/ stay private to us).
    await Deno.chmod(ctx.root, 0o711);
    await prepareNode(
      ctx,
      renderElasticsearchYml(
        ctx.dir,
        {
          http: SECURE_PORTS.elasticsearchHttp,
          transport: SECURE_PORTS.elasticsearchTransport,
        },
        "sluice-es-secure",
        secureElasticsearchSettings(),
      ),
      {
        "roles.yml": SLUICE_ROLE_YML,
        "ca.pem": { copyFrom: ctx.certs.ca },
        "server.pem": { copyFrom: ctx.certs.cert },
        "server.key": { copyFrom: ctx.certs.key },
      },
    );
    const config = nodeFiles(ctx.dir).config;
    await Deno.chmod(ctx.dir, 0o700);
    // The file realm's files must exist before its tool adds users to them.
    for (const name of ["users", "users_roles", "role_mapping.yml"]) {
      const path = `${config}/${name}`;
      if (!await Deno.stat(path).then(() => true, () => false)) {
        await Deno.writeTextFile(path, "", { mode: 0o600 });
        if (Deno.uid() === 0) await Deno.chown(path, await uidOf(ELASTICSEARCH_USER), null);
      }
    }
    // Users once per set of passwords: the tool is a JVM start, seconds each.
    const marker = `${config}/${USERS_MARKER}`;
    const stamp = `${(await Deno.stat(ctx.credentials.elasticsearchSluice)).mtime?.getTime()}`;
    if ((await Deno.readTextFile(marker).catch(() => "")).trim() === stamp) return;
    ctx.progress("elasticsearch (secure): writing the file-realm users admin and sluice");
    await fileRealmUser(ctx, "admin", ctx.credentials.elasticsearchAdmin, "superuser");
    await fileRealmUser(ctx, SLUICE_USER, ctx.credentials.elasticsearchSluice, "sluice_writer");
    await Deno.writeTextFile(marker, stamp + "\n");
  },
  command: (ctx) => nodeCommand(ctx.dir),
  probe: async (ctx) => ({ version: await probe(ctx) }),
  startTimeoutMs: 180_000,
  stopGraceMs: 30_000,
};
