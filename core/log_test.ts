import { match } from "node:assert/strict";

/** What a script that imports core/log.ts writes to stderr (and checks nothing went to stdout). */
async function stderrOf(body: string, env: Record<string, string>): Promise<string> {
  const script = `
    import { getLogger, setupLogging } from "${new URL("./log.ts", import.meta.url).href}";
    setupLogging();
    ${body}
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.stdout.length !== 0) throw new Error("log went to stdout");
  return new TextDecoder().decode(out.stderr);
}

Deno.test("setupLogging configures a logger that writes to stderr and respects the level", async () => {
  const stderr = await stderrOf(
    `getLogger("t").debug("hidden at info");
    getLogger("t").info("hello {who}", { who: "operator" });`,
    { SLUICE_LOG_LEVEL: "info", SLUICE_LOG_FORMAT: "json" },
  );
  match(stderr, /"message":"hello \\"operator\\""|"message":"hello operator"/);
  match(stderr, /"logger":"sluice.t"/);
  if (stderr.includes("hidden at info")) throw new Error("debug line shown at info level");
});

Deno.test("the text format writes string values as they are, without quotes", async () => {
  const stderr = await stderrOf(
    `getLogger("t").warn("source {source}: {error}", { source: "app", error: "cannot save 'x'" });`,
    { SLUICE_LOG_LEVEL: "info", SLUICE_LOG_FORMAT: "text" },
  );
  match(stderr, /\[WRN\] sluice·t: source app: cannot save 'x'\n$/);
});
