/**
 * The rig of the integration tests that work on etcd (config plane, CLI, watcher, console API):
 * each test gets a config plane under a random prefix of its own, and every key under it is
 * deleted afterwards, also when the test fails.
 * @module
 */
import { type ConfigPlane, openConfigPlane } from "../../config_plane/mod.ts";

export interface PlaneTestOptions {
  /** Passed to openConfigPlane. */
  snapshotEvery?: number;
  /** The prefix is `/<label>-<8 random hex>` (default `sluice-test`). */
  label?: string;
  /** Runs the final delete of the prefix's keys, e.g. retrying while etcd restarts. */
  clear?: (deleteAll: () => Promise<unknown>) => Promise<unknown>;
}

/**
 * A Deno.test on a config plane under a fresh random etcd prefix (etcd of SLUICE_ETCD_ENDPOINTS);
 * the sanitizers are off because the etcd client keeps sockets and timers.
 *
 * @example
 * ```ts ignore
 * Deno.test(planeTest("head starts at 0", async (plane) => equal(await plane.head(), 0)));
 * ```
 */
export function planeTest(
  name: string,
  fn: (plane: ConfigPlane, prefix: string) => Promise<void>,
  options: PlaneTestOptions = {},
): Deno.TestDefinition {
  const { snapshotEvery, label = "sluice-test", clear = (deleteAll) => deleteAll() } = options;
  return {
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const prefix = `/${label}-${crypto.randomUUID().slice(0, 8)}`;
      const plane = openConfigPlane({ prefix, snapshotEvery });
      try {
        await fn(plane, prefix);
      } finally {
        await clear(() => plane.kv.delete().all().exec());
        plane.close();
      }
    },
  };
}
