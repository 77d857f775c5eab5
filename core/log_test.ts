import { match } from "node:assert/strict";

Deno.test("setupLogging configures a logger that writes to stderr and respects the level", async () => {
  const script = `
    import { getLogger, setupLogging } from "${new URL("./log.ts", import.meta.url).href}";
    setupLogging();
    getLogger("t").debug("hidden at info");
    getLogger("t").info("hello {who}", { who: "operator" });
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { SLUICE_LOG_LEVEL: "info", SLUICE_LOG_FORMAT: "json" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  match(stderr, /"message":"hello \\"operator\\""|"message":"hello operator"/);
  match(stderr, /"logger":"sluice.t"/);
  if (stderr.includes("hidden at info")) throw new Error("debug line shown at info level");
  if (out.stdout.length !== 0) throw new Error("log went to stdout");
});

Deno.test("the text format writes string values as they are, without quotes", async () => {
  const script = `
    import { getLogger, setupLogging } from "${new URL("./log.ts", import.meta.url).href}";
    setupLogging();
    getLogger("t").warn("source {source}: {error}", { source: "app", error: "cannot save 'x'" });
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { SLUICE_LOG_LEVEL: "info", SLUICE_LOG_FORMAT: "text" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  match(stderr, /\[WRN\] sluice·t: source app: cannot save 'x'\n$/);
});
