import { deepStrictEqual as equal, match, throws } from "node:assert/strict";
import { COMMANDS, launcherScript, parseDenoRunTask } from "./commands.ts";

Deno.test("parseDenoRunTask takes flags, script and arguments apart", () => {
  equal(
    parseDenoRunTask("deno run -A --v8-flags=--max-semi-space-size=1 agent/main.ts"),
    { flags: ["-A", "--v8-flags=--max-semi-space-size=1"], script: "agent/main.ts", args: [] },
  );
  equal(parseDenoRunTask("deno run -A transfer/main.ts replay"), {
    flags: ["-A"],
    script: "transfer/main.ts",
    args: ["replay"],
  });
});

Deno.test("parseDenoRunTask refuses what a launcher could not reproduce", () => {
  throws(() => parseDenoRunTask("deno task agent"), /does not start with 'deno run'/);
  throws(() => parseDenoRunTask("deno run -A a.ts && deno run -A b.ts"), /plain/);
  throws(() => parseDenoRunTask("deno run --allow-read /etc agent/main.ts"), /no script/);
});

Deno.test("every packaged command's task exists in deno.json and is a plain deno run", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  for (const command of COMMANDS) {
    const task = tasks[command.task];
    equal(typeof task, "string", `task ${command.task} of ${command.name}`);
    const run = parseDenoRunTask(task);
    await Deno.stat(new URL(`../${run.script}`, import.meta.url));
  }
});

Deno.test("a launcher runs the task's script offline with the task's flags and the user's arguments", () => {
  const agent = launcherScript(
    COMMANDS[0],
    parseDenoRunTask("deno run -A --v8-flags=--max-old-space-size=1024 agent/main.ts"),
    "1.2.3",
  );
  match(agent, /^#!\/bin\/sh\n# sluice-agent \(sluice 1\.2\.3\)/);
  // --help and error hints name the command the user ran (core/cli.ts invokedAs).
  match(agent, /\nSLUICE_COMMAND=sluice-agent\nexport [^\n]* SLUICE_COMMAND\n/);
  match(
    agent,
    /\nexec "\$root\/runtime\/deno" run --cached-only --frozen --config "\$root\/app\/deno\.json" -A --v8-flags=--max-old-space-size=1024 "\$root\/app\/agent\/main\.ts" "\$@"\n$/,
  );
  // sluice-config takes the subcommand from the user, not from the config:apply task.
  const config = launcherScript(
    COMMANDS[2],
    parseDenoRunTask("deno run -A config_plane/main.ts apply"),
    "1.2.3",
  );
  match(config, /"\$root\/app\/config_plane\/main\.ts" "\$@"\n$/);
});
