/**
 * `deno task bench`: throughput, latency and memory of sluice next to a peer measured in the
 * same run (kcat, rsyslog, a direct bulk loader). The scenarios arrive with the benchmarks
 * issue; until then the command says so and exits 2.
 * @module
 */
import { parseCommand, runMain } from "../core/cli.ts";
import { InvalidInputError } from "../core/errors.ts";

const spec = {
  name: "deno task bench",
  summary: "Benchmark sluice against peers measured in the same run.",
  usage: "[--quick]",
  options: {
    quick: { type: "boolean", description: "A short run for CI-sized checks." },
  },
  epilog: "Micro-benchmarks of pure code run with `deno bench` (e.g. bench/fold_bench.ts).",
} as const;

if (import.meta.main) {
  await runMain(async () => {
    parseCommand(spec, Deno.args);
    await Promise.resolve();
    throw new InvalidInputError(
      "the end-to-end benchmark scenarios are not built yet; run `deno bench` for the " +
        "micro-benchmarks of pure code.",
    );
  });
}
