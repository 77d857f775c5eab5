/**
 * Where a Go logagent value comes from before `importLogagent` turns it into ops: JSON text (a
 * file, a paste), one etcd key, or every `/<ip>/logconfig` key below a prefix. Shared by
 * `config:import` and the web console so both read and name values the same way.
 * @module
 */
import { InvalidInputError } from "../core/errors.ts";
import { hostFromLogagentKey, importLogagent, type LogagentFormat } from "./import_logagent.ts";
import type { EventStore } from "./event_store.ts";
import type { Op } from "./types.ts";

/**
 * The ops of a logagent value given as JSON text; `origin` names it in error messages and, when it
 * is a `/logagent/<ip>/logconfig` key or path, gives the host unless `host` is given.
 *
 * @example
 * ```ts
 * import { logagentOpsFromText } from "./logagent_values.ts";
 * const ops = logagentOpsFromText(
 *   "logagent-list",
 *   '[{"path": "/var/log/app.log", "topic": "app_log"}]',
 *   { origin: "pasted" },
 * );
 * // [{ op: "put_source", source: { id: "app_log-app", paths: ["/var/log/app.log"], topic: "app_log", start_at: "end" } }]
 * ```
 */
export function logagentOpsFromText(
  format: LogagentFormat,
  text: string,
  options: { origin: string; host?: string },
): Op[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(
      `${options.origin}: is not valid JSON: ${(error as Error).message}`,
    );
  }
  return importLogagent(format, value, {
    host: options.host ?? hostFromLogagentKey(options.origin),
    origin: options.origin,
  });
}

/**
 * The ops of the logagent value at etcd key `key` (a raw key, outside the sluice prefix). For
 * `logagent-host-key`, a key without a value is taken as a prefix and every
 * `<key>/<ip>/logconfig` below it is imported, each for its own host. Undefined when nothing is
 * there.
 *
 * @example
 * ```ts ignore
 * import { openConfigPlane } from "./plane.ts";
 * import { readLogagentOps } from "./logagent_values.ts";
 * const plane = openConfigPlane();
 * const ops = await readLogagentOps(plane, "logagent-host-key", "/logagent");
 * plane.close();
 * ```
 */
export async function readLogagentOps(
  store: EventStore,
  format: LogagentFormat,
  key: string,
  host?: string,
): Promise<Op[] | undefined> {
  const value = await store.call(`read ${key}`, () => store.client.get(key).string());
  if (value !== null) return logagentOpsFromText(format, value, { origin: key, host });
  if (format !== "logagent-host-key") return undefined;
  const below = await store.call(
    `read keys below ${key}`,
    () => store.client.getAll().prefix(`${key.replace(/\/+$/, "")}/`).strings(),
  );
  const keys = Object.keys(below).filter((k) => hostFromLogagentKey(k)).sort();
  if (keys.length === 0) return undefined;
  return keys.flatMap((k) => logagentOpsFromText(format, below[k], { origin: k }));
}
