/**
 * What the cluster scenarios do to the cluster variant of the stack (`deno task stack:up
 * --cluster`): find a member (the leader of a partition, the etcd leader), kill it with a signal,
 * stop it, start it again, and read the cluster's state (partition leaders and in-sync sets, the
 * etcd leader). The members are the stack's own processes (stack/cluster/topology.ts), found by
 * their pid files; nothing here touches the plain stack.
 * @module
 */
import { sleep } from "../../core/backoff.ts";
import { waitFor } from "../../core/child.ts";
import { createKafka } from "../../kafka/connection.ts";
import { partitionBounds } from "../../kafka/consumer.ts";
import { type ServiceName, stackStatus, startService, stopService } from "../../stack/mod.ts";
import {
  clusterEndpoints,
  ETCD_MEMBERS,
  KAFKA_MEMBERS,
  SEARCH_MEMBERS,
} from "../../stack/cluster/topology.ts";
export { etcdLeader } from "../../stack/cluster/etcd.ts";
import { endpoints, onCluster } from "./rig.ts";

const CLUSTER = { variant: "cluster" as const, progress: () => {} };

/**
 * Why a cluster scenario cannot run here (the suite is not pointed at the cluster, or the
 * cluster's members are not all running as the stack's own), or undefined when it can.
 */
export async function clusterSkip(): Promise<string | undefined> {
  const want = clusterEndpoints();
  if (!onCluster) {
    return "a cluster scenario: run it with `deno task test:faults --cluster` (it points the " +
      "suite at `deno task stack:up --cluster`)";
  }
  if (
    endpoints.kafka.join(",") !== want.kafka.join(",") ||
    endpoints.etcd.join(",") !== want.etcd.join(",") ||
    endpoints.searchNodes.join(",") !== want.searchNodes.join(",")
  ) {
    return "SLUICE_* point at a cluster other than the stack's own, whose members the suite " +
      "cannot kill";
  }
  const statuses = await stackStatus(CLUSTER);
  const down = statuses.filter((s) => s.state !== "running");
  if (down.length > 0) {
    return `members of the cluster are not running: ${
      down.map((s) => `${s.member ?? s.name} ${s.state}`).join(", ")
    } (deno task stack:up --cluster)`;
  }
  return undefined;
}

/** The service a member id belongs to (`kafka-2` → kafka). */
export function serviceOf(member: string): ServiceName {
  if (ETCD_MEMBERS.some((m) => m.id === member)) return "etcd";
  if (KAFKA_MEMBERS.some((m) => m.id === member)) return "kafka";
  if (SEARCH_MEMBERS.some((m) => m.id === member)) return "opensearch";
  throw new Error(`no member ${member} in the cluster`);
}

/** The pid of a running member. */
export async function memberPid(member: string): Promise<number> {
  const [status] = await stackStatus({
    ...CLUSTER,
    services: [serviceOf(member)],
    members: [member],
  });
  if (status?.pid === undefined) throw new Error(`${member} is not running (${status?.state})`);
  return status.pid;
}

/** Sends `signal` to a member; for SIGKILL, waits until the process is gone. */
export async function signalMember(member: string, signal: Deno.Signal): Promise<number> {
  const pid = await memberPid(member);
  Deno.kill(pid, signal);
  if (signal === "SIGKILL") {
    while (await Deno.stat(`/proc/${pid}`).then(() => true, () => false)) {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
      if (stat === "" || / [ZX] /.test(stat.slice(stat.lastIndexOf(")")))) break;
      await sleep(50);
    }
  }
  return pid;
}

/** Starts a member that is not running and waits until it answers; returns how long it took. */
export async function startMember(member: string): Promise<number> {
  const t = Date.now();
  await startService(serviceOf(member), { ...CLUSTER, members: [member] });
  return Date.now() - t;
}

/** Stops a member as `stack:down` does (SIGTERM: a broker's controlled shutdown). */
export async function stopMember(member: string): Promise<number> {
  const t = Date.now();
  if (!await stopService(serviceOf(member), { ...CLUSTER, members: [member] })) {
    throw new Error(`stopping ${member} stopped nothing`);
  }
  return Date.now() - t;
}

/** The bootstrap addresses of every broker but the member `except`. */
export function brokersExcept(except: string): string[] {
  return KAFKA_MEMBERS.filter((m) => m.role === "broker" && m.id !== except)
    .map((m) => `127.0.0.1:${m.port}`);
}

/** The member that runs Kafka broker `nodeId`. */
export function brokerMember(nodeId: number): string {
  const member = KAFKA_MEMBERS.find((m) => m.role === "broker" && m.nodeId === nodeId);
  if (!member) throw new Error(`no broker ${nodeId} in the cluster`);
  return member.id;
}

/** One partition as the cluster's metadata describes it now. */
export interface PartitionState {
  topic: string;
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/**
 * Leaders, replicas and in-sync sets of the partitions of `topics`, from the metadata, asked of
 * `via` (default: every broker; name the live ones when one is frozen, whose answer never comes).
 */
export async function partitionStates(
  topics: string[],
  via: readonly string[] = endpoints.kafka,
): Promise<PartitionState[]> {
  const admin = createKafka({
    brokers: [...via],
    clientId: "sluice-faults-cluster",
    connectionTimeoutMs: 2_000,
    requestTimeoutMs: 5_000,
  }).admin({ retry: { retries: 2 } });
  await admin.connect();
  try {
    const { topics: found } = await admin.fetchTopicMetadata({ topics });
    return found.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionId,
        leader: p.leader,
        replicas: [...p.replicas].sort(),
        isr: [...p.isr].sort(),
      }))
    ).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** The consumer groups' offsets topic: its in-sync set matters to every commit. */
export const OFFSETS_TOPIC = "__consumer_offsets";

/** True when every partition of `topics` has its whole replica set in sync. */
export async function allInSync(topics: string[]): Promise<boolean> {
  const states = await partitionStates(topics);
  return states.length > 0 &&
    states.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length);
}

/** The partition of `topic` holding the most records, and the broker that leads it. */
export async function busiestPartition(
  topic: string,
): Promise<PartitionState & { records: number }> {
  const bounds = await partitionBounds({ brokers: endpoints.kafka }, topic);
  const sizes = new Map(bounds.map((b) => [b.partition, Number(b.high) - Number(b.low)]));
  const states = await partitionStates([topic]);
  const busiest = states.reduce((a, b) =>
    (sizes.get(b.partition) ?? 0) > (sizes.get(a.partition) ?? 0) ? b : a
  );
  return { ...busiest, records: sizes.get(busiest.partition) ?? 0 };
}

/**
 * Waits until `condition` holds, polling every `everyMs` (a condition that throws, a member not
 * answering yet, is asked again); throws naming `what` after `timeoutMs`. Returns how long it took.
 */
export async function waitUntil(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 500,
): Promise<number> {
  const t = Date.now();
  await waitFor(what, condition, { timeoutMs, intervalMs: everyMs, retryErrors: true });
  return Date.now() - t;
}

/** `_cluster/health` of the search cluster through its first node (the manager). */
export async function searchHealth(): Promise<
  { status: string; nodes: number; unassigned: number }
> {
  const response = await fetch(`${endpoints.search}/_cluster/health`, {
    signal: AbortSignal.timeout(5_000),
  });
  const body = await response.json() as {
    status: string;
    number_of_nodes: number;
    unassigned_shards: number;
  };
  return { status: body.status, nodes: body.number_of_nodes, unassigned: body.unassigned_shards };
}
