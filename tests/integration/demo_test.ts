/**
 * The README's main command, end to end: `deno task demo --exit` applies its config, runs an
 * agent and a transfer as processes, and every line it writes becomes searchable.
 */
import { equal, match } from "node:assert/strict";

Deno.test({
  name: "demo: lines written on this host become searchable, then everything stops cleanly",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "demo", "--exit", "--lines", "600", "--console-port", "0"],
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
  },
});
