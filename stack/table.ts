/**
 * The status table that `stack:up` and `stack:status` print: one row per service with its state,
 * version, address, pid and log file. Pure, so its layout is tested without services.
 * @module
 */
import type { ServiceStatus } from "./stack.ts";

const HEADERS = ["SERVICE", "STATE", "VERSION", "ADDRESS", "PID", "LOG"];

/**
 * Formats statuses as an aligned text table. Log paths under `relativeTo` are shown relative
 * to it, so the table fits a terminal.
 *
 * @example
 * ```ts
 * import { formatStatusTable } from "./table.ts";
 * console.log(formatStatusTable([{
 *   name: "etcd", state: "running", answering: true, managed: true, version: "3.4.23",
 *   address: "http://127.0.0.1:2379", pid: 4242, logFile: "/repo/.stack/etcd/etcd.log",
 * }], "/repo"));
 * // SERVICE  STATE    VERSION  ADDRESS                PID   LOG
 * // etcd     running  3.4.23   http://127.0.0.1:2379  4242  .stack/etcd/etcd.log
 * ```
 */
export function formatStatusTable(statuses: ServiceStatus[], relativeTo?: string): string {
  const rows = statuses.map((s) => [
    // A cluster's rows name the member (kafka-2); one member's row names the service.
    s.member ?? s.name,
    s.state,
    s.version ?? "-",
    s.address,
    s.pid !== undefined ? String(s.pid) : "-",
    s.logFile ? relativePath(s.logFile, relativeTo) : "-",
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i])).join("  ");
  return [line(HEADERS), ...rows.map(line)].join("\n");
}

/** Lines explaining the services that do not answer (empty when all do). */
export function formatProblems(statuses: ServiceStatus[]): string[] {
  return statuses.filter((s) => !s.answering).map((s) =>
    `${s.name}: ${s.error ?? "does not answer"}`
  );
}

function relativePath(path: string, base: string | undefined): string {
  if (!base) return path;
  const prefix = base.endsWith("/") ? base : `${base}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}
