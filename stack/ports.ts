/**
 * TCP ports of the local stack: is something listening, and who (from `ss -ltnp`), so that a
 * port held by a stranger is reported with its pid and program instead of a vague bind error.
 * @module
 */

/** One listening socket as `ss -ltnp` shows it. */
export interface Listener {
  port: number;
  /** Local address without the port, e.g. "127.0.0.1", "::", "*". */
  address: string;
  /** Owning processes (empty when ss cannot see them, e.g. without root). */
  owners: { pid: number; program: string }[];
}

/** True when a TCP connection to host:port is accepted within `timeoutMs`. */
export async function isListening(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const connecting = Deno.connect({ hostname: host, port });
  try {
    const result = await Promise.race([connecting, timeout]);
    if (result === "timeout") {
      connecting.then((conn) => conn.close(), () => {});
      return false;
    }
    result.close();
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Parses the output of `ss -ltnpH` (one line per listening socket).
 *
 * @example
 * ```ts
 * import { parseSsListeners } from "./ports.ts";
 * parseSsListeners('LISTEN 0 4096 127.0.0.1:2379 0.0.0.0:* users:(("etcd",pid=3249,fd=8))');
 * // [{ port: 2379, address: "127.0.0.1", owners: [{ pid: 3249, program: "etcd" }] }]
 * ```
 */
export function parseSsListeners(output: string): Listener[] {
  const listeners: Listener[] = [];
  for (const line of output.split("\n")) {
    const fields = line.trim().split(/\s+/);
    // State, Recv-Q, Send-Q, Local Address:Port, Peer Address:Port, [Process]
    if (fields.length < 5 || fields[0] !== "LISTEN") continue;
    const local = fields[3];
    const colon = local.lastIndexOf(":");
    const port = Number(local.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(port)) continue;
    let address = local.slice(0, colon).replace(/^\[|\]$/g, "");
    address = address.replace(/%.*$/, ""); // interface suffix, e.g. "127.0.0.1%lo"
    const owners = [...line.matchAll(/\("([^"]*)",pid=(\d+)/g)].map((m) => ({
      pid: Number(m[2]),
      program: m[1],
    }));
    listeners.push({ port, address, owners });
  }
  return listeners;
}

/**
 * Who listens on `port`, e.g. "pid 3026 (java)", from `ss -ltnp`; undefined when nothing does
 * or ss is not installed.
 */
export async function portOwner(port: number): Promise<string | undefined> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("ss", { args: ["-ltnpH"], stdout: "piped", stderr: "null" })
      .output();
  } catch {
    return undefined;
  }
  const listeners = parseSsListeners(new TextDecoder().decode(output.stdout))
    .filter((l) => l.port === port);
  if (listeners.length === 0) return undefined;
  return describeOwners(listeners);
}

/** "pid 3026 (java)" for the owners of some listeners, or "an unknown process". */
export function describeOwners(listeners: Listener[]): string {
  const owners = new Map<number, string>();
  for (const l of listeners) for (const o of l.owners) owners.set(o.pid, o.program);
  if (owners.size === 0) return "an unknown process (run `ss -ltnp` as root to see it)";
  return [...owners].map(([pid, program]) => `pid ${pid} (${program})`).join(", ");
}
