/**
 * The cluster's etcd: three members of one etcd cluster on loopback (clients 12379, 12381, 12383;
 * peers one above each), the same binary as the plain stack's. They are started side by side: a
 * member answers healthy only once a quorum of them has formed.
 * @module
 */
import { ensureEtcdBinary } from "../prerequisites.ts";
import { probeEtcd } from "../etcd.ts";
import { parseAddress, type ServiceDefinition } from "../service.ts";
import { ETCD_MEMBERS, type EtcdMemberSpec, etcdUrl } from "./topology.ts";

/** The token that keeps this cluster's members from joining another one by mistake. */
const CLUSTER_TOKEN = "sluice-local-cluster";

/** The etcd command line of member `self` of `members` (pure, for tests). */
export function clusterEtcdArgs(
  self: EtcdMemberSpec,
  dataDir: string,
  members: readonly EtcdMemberSpec[] = ETCD_MEMBERS,
): string[] {
  const peer = (m: EtcdMemberSpec) => `http://127.0.0.1:${m.peer}`;
  return [
    "--logger=zap",
    "--log-outputs=stderr",
    "--name",
    self.id,
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    etcdUrl(self),
    "--advertise-client-urls",
    etcdUrl(self),
    "--listen-peer-urls",
    peer(self),
    "--initial-advertise-peer-urls",
    peer(self),
    "--initial-cluster",
    members.map((m) => `${m.id}=${peer(m)}`).join(","),
    // Read on the first start only (an existing data dir knows its cluster).
    "--initial-cluster-state",
    "new",
    "--initial-cluster-token",
    CLUSTER_TOKEN,
  ];
}

/** The service definition of one etcd member of the cluster. */
export function clusterEtcdMember(self: EtcdMemberSpec): ServiceDefinition {
  return {
    name: "etcd",
    defaultPort: self.client,
    ports: [self.client, self.peer],
    address: () => parseAddress(etcdUrl(self), self.client),
    async prepare(ctx) {
      await ensureEtcdBinary(ctx.progress);
      await Deno.mkdir(`${ctx.dir}/data`, { recursive: true, mode: 0o700 });
      await Deno.chmod(`${ctx.dir}/data`, 0o700);
    },
    command: (ctx) => Promise.resolve(["etcd", ...clusterEtcdArgs(self, `${ctx.dir}/data`)]),
    // /health is true only while this member sees a leader (a quorum).
    probe: (_ctx, address) => probeEtcd(address),
    startTimeoutMs: 60_000,
    stopGraceMs: 10_000,
  };
}

/**
 * The etcd member that leads the cluster now, asked through the members' HTTP gateway
 * (`/v3/maintenance/status`: each names itself and the leader it follows); undefined while
 * none is agreed.
 */
export async function etcdLeader(): Promise<string | undefined> {
  const ids = new Map<string, string>();
  const leaders = new Set<string>();
  await Promise.all(ETCD_MEMBERS.map(async (m) => {
    try {
      const response = await fetch(`${etcdUrl(m)}/v3/maintenance/status`, {
        method: "POST",
        body: "{}",
        signal: AbortSignal.timeout(2_000),
      });
      const body = await response.json() as { header?: { member_id?: string }; leader?: string };
      if (body.header?.member_id) ids.set(body.header.member_id, m.id);
      if (body.leader && body.leader !== "0") leaders.add(body.leader);
    } catch {
      // not answering: not the leader anyone agrees on
    }
  }));
  if (leaders.size !== 1) return undefined;
  return ids.get([...leaders][0]);
}
