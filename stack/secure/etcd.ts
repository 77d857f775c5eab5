/**
 * The secure etcd: a second member on https://127.0.0.1:2479 (peer 2480, loopback only) with the
 * stack's server certificate (client certificates not required) and auth on. On its first start
 * it gets a `root` user (auth needs one) and a `sluice` user whose role may read and write the
 * keys under `/sluice` (every prefix that starts so: tests use `/sluice-test-…`).
 * @module
 */
import { Range } from "etcd3";
import { createEtcdClient } from "../../config_plane/etcd.ts";
import { Secret } from "../../core/secret.ts";
import { ensureEtcdBinary } from "../prerequisites.ts";
import { readPassword, SECURE_ADDRESSES, SECURE_PORTS, SLUICE_USER } from "./credentials.ts";
import { parseAddress, type SecureContext, type ServiceDefinition } from "../service.ts";

/** The key prefix the sluice role may use. */
export const SLUICE_ETCD_RANGE = "/sluice";

const AUTH_MARKER = "auth-enabled";

/** The etcd command line of the secure member (pure). */
export function secureEtcdArgs(dataDir: string, certFile: string, keyFile: string): string[] {
  // Loopback only, whatever `localhost` resolves to for the clients.
  const client = `https://127.0.0.1:${SECURE_PORTS.etcdClient}`;
  const peer = `http://127.0.0.1:${SECURE_PORTS.etcdPeer}`;
  return [
    "--logger=zap",
    "--log-outputs=stderr",
    "--name",
    "sluice-secure",
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    client,
    "--advertise-client-urls",
    SECURE_ADDRESSES.etcd,
    "--cert-file",
    certFile,
    "--key-file",
    keyFile,
    "--listen-peer-urls",
    peer,
    "--initial-advertise-peer-urls",
    peer,
    "--initial-cluster",
    `sluice-secure=${peer}`,
  ];
}

/** An HTTP client that trusts the stack's CA (the caller closes it). */
function caClient(ctx: SecureContext): Deno.HttpClient {
  return Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(ctx.certs.ca)] });
}

async function probe(ctx: SecureContext): Promise<string> {
  const client = caClient(ctx);
  try {
    // /version answers without a user, so the probe works before and after auth is on.
    const response = await fetch(`${SECURE_ADDRESSES.etcd}/version`, {
      client,
      signal: AbortSignal.timeout(2000),
    });
    const info = await response.json() as { etcdserver?: string };
    if (!await Deno.stat(`${ctx.dir}/${AUTH_MARKER}`).then(() => true, () => false)) {
      return info.etcdserver ?? "unknown";
    }
    // With auth on, answer only when the sluice user can read its prefix.
    const etcd = createEtcdClient({
      endpoints: [SECURE_ADDRESSES.etcd],
      callTimeoutMs: 3000,
      security: {
        tls: { ca: Deno.readTextFileSync(ctx.certs.ca) },
        auth: {
          username: SLUICE_USER,
          password: new Secret(await readPassword(ctx.credentials.etcdSluice), "etcd-sluice"),
        },
      },
    });
    try {
      await etcd.get(`${SLUICE_ETCD_RANGE}/probe`).string();
    } finally {
      etcd.close();
    }
    return info.etcdserver ?? "unknown";
  } finally {
    client.close();
  }
}

/** Users, role and `auth enable`, once (a marker file remembers it). */
async function enableAuth(ctx: SecureContext): Promise<void> {
  const marker = `${ctx.dir}/${AUTH_MARKER}`;
  if (await Deno.stat(marker).then(() => true, () => false)) return;
  const etcd = createEtcdClient({
    endpoints: [SECURE_ADDRESSES.etcd],
    security: { tls: { ca: await Deno.readTextFile(ctx.certs.ca) } },
  });
  try {
    const existing = new Set(await etcd.getUsers().then((users) => users.map((u) => u.name)));
    const roles = new Set(await etcd.getRoles().then((r) => r.map((role) => role.name)));
    if (!roles.has("root")) await etcd.role("root").create();
    if (!existing.has("root")) {
      await etcd.user("root").create(await readPassword(ctx.credentials.etcdRoot));
    }
    await etcd.user("root").addRole("root");
    if (!roles.has(SLUICE_USER)) await etcd.role(SLUICE_USER).create();
    await etcd.role(SLUICE_USER).grant({
      permission: "Readwrite",
      range: Range.prefix(SLUICE_ETCD_RANGE),
    });
    if (!existing.has(SLUICE_USER)) {
      await etcd.user(SLUICE_USER).create(await readPassword(ctx.credentials.etcdSluice));
    }
    await etcd.user(SLUICE_USER).addRole(SLUICE_USER);
    await etcd.auth.authEnable();
    ctx.progress("etcd (secure): users root and sluice made, auth on");
  } finally {
    etcd.close();
  }
  await Deno.writeTextFile(marker, new Date().toISOString() + "\n");
}

export const secureEtcdService: ServiceDefinition<SecureContext> = {
  name: "etcd",
  defaultPort: SECURE_PORTS.etcdClient,
  address: () => parseAddress(SECURE_ADDRESSES.etcd, SECURE_PORTS.etcdClient),
  ports: [SECURE_PORTS.etcdClient, SECURE_PORTS.etcdPeer],
  async prepare(ctx) {
    await ensureEtcdBinary(ctx.progress);
    await Deno.mkdir(`${ctx.dir}/data`, { recursive: true, mode: 0o700 });
    await Deno.chmod(`${ctx.dir}/data`, 0o700);
  },
  command: (ctx) =>
    Promise.resolve([
      "etcd",
      ...secureEtcdArgs(`${ctx.dir}/data`, ctx.certs.cert, ctx.certs.key),
    ]),
  probe: async (ctx) => ({ version: await probe(ctx) }),
  afterStart: enableAuth,
  startTimeoutMs: 30_000,
  stopGraceMs: 10_000,
};
