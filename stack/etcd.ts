/**
 * etcd for the local stack: Debian's etcd-server binary (installed with apt-get when missing),
 * one member on 127.0.0.1:2379 (peer 2380), data in `.stack/etcd/data`. It answers when its
 * `/health` endpoint says so.
 * @module
 */
import { etcdSecurityFromEnv } from "../core/security.ts";
import { isListening } from "./ports.ts";
import { ensureEtcdBinary } from "./prerequisites.ts";
import {
  parseAddress,
  type ProbeResult,
  type ServiceAddress,
  type ServiceDefinition,
} from "./service.ts";

export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

/** The etcd command line of the local member (pure, for tests). */
export function etcdArgs(dataDir: string): string[] {
  const client = `http://127.0.0.1:${ETCD_CLIENT_PORT}`;
  const peer = `http://127.0.0.1:${ETCD_PEER_PORT}`;
  return [
    // capnslog, 3.4's default, prints a deprecation warning on every start.
    "--logger=zap",
    "--log-outputs=stderr",
    "--name",
    "sluice",
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    client,
    "--advertise-client-urls",
    client,
    "--listen-peer-urls",
    peer,
    "--initial-advertise-peer-urls",
    peer,
    "--initial-cluster",
    `sluice=${peer}`,
  ];
}

/** Asks etcd's HTTP gateway for its health and version. */
export async function probeEtcd(address: ServiceAddress): Promise<ProbeResult> {
  // parseAddress keeps the brackets of an IPv6 host, so this is a valid URL either way.
  const tls = /^https:/i.test(address.display);
  const base = `${tls ? "https" : "http"}://${address.host}:${address.port}`;
  // fetch's own error for a closed port is a bare "fetch failed".
  if (!await isListening(address.host.replace(/^\[|\]$/g, ""), address.port)) {
    throw new Error(`nothing listens on ${address.display}`);
  }
  // An etcd elsewhere may use TLS with a private CA (SLUICE_ETCD_TLS_CA). /version needs no user
  // even with auth on, so it is the check; /health is asked only without TLS (as before).
  const ca = tls ? etcdSecurityFromEnv().tls?.ca : undefined;
  const client = ca ? Deno.createHttpClient({ caCerts: [ca] }) : undefined;
  try {
    const init = client ? { client } : {};
    if (!tls) {
      const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) });
      const body = await health.json() as { health?: string; reason?: string };
      if (body.health !== "true") {
        throw new Error(`etcd at ${base} is not healthy${body.reason ? `: ${body.reason}` : ""}`);
      }
    }
    const version = await fetch(`${base}/version`, { ...init, signal: AbortSignal.timeout(2000) });
    const info = await version.json() as { etcdserver?: string };
    return { version: info.etcdserver ?? "unknown" };
  } finally {
    client?.close();
  }
}

export const etcdService: ServiceDefinition = {
  name: "etcd",
  defaultPort: ETCD_CLIENT_PORT,
  ports: [ETCD_CLIENT_PORT, ETCD_PEER_PORT],
  address: (ctx) => parseAddress(ctx.endpoints.etcd[0], ETCD_CLIENT_PORT),
  async prepare(ctx) {
    await ensureEtcdBinary(ctx.progress);
    // etcd warns on every start unless its data dir is private to its user.
    await Deno.mkdir(`${ctx.dir}/data`, { recursive: true, mode: 0o700 });
    await Deno.chmod(`${ctx.dir}/data`, 0o700);
  },
  command: (ctx) => Promise.resolve(["etcd", ...etcdArgs(`${ctx.dir}/data`)]),
  probe: (_ctx, address) => probeEtcd(address),
  startTimeoutMs: 30_000,
  stopGraceMs: 10_000,
};
