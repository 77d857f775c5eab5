/**
 * The README's main command, end to end: `deno task demo --exit` applies its config, runs an
 * agent and a transfer as processes, and every line it writes becomes searchable, on either
 * engine.
 */
import { equal, match } from "node:assert/strict";

// Once per engine: Elasticsearch 8 is the demo's default, OpenSearch 2 is one flag away.
for (const engine of ["elasticsearch", "opensearch"]) {
  Deno.test({
    name:
      `demo --engine ${engine}: lines written on this host become searchable, then everything ` +
      "stops cleanly",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const env = { ...Deno.env.toObject() };
      // The demo's own choice, not the test run's engine.
      delete env.SLUICE_SEARCH_URL;
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          ...["task", "-q", "demo", "--exit", "--lines", "600", "--console-port", "0"],
          ...(engine === "elasticsearch" ? [] : ["--engine", engine]),
        ],
        env,
        clearEnv: true,
        cwd: new URL("../..", import.meta.url).pathname,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      equal(out.code, 0, text);
      match(text, /both running \d+\.\d s after their start/);
      match(text, /600 of 600 lines written on this host are searchable/);
      match(text, /time from write to searchable \(all lines\): \d+\.\d+ s/);
      match(text, /stopped agent \(exit 0\)/);
      match(text, /stopped transfer \(exit 0\)/);
      match(
        text,
        engine === "elasticsearch"
          ? /search engine: Elasticsearch 8/
          : /search engine: OpenSearch 2/,
      );
    },
  });
}
