/**
 * What can be checked of the Docker files without a Docker engine (none runs here):
 * - compose.yaml against the Compose specification's JSON schema, with dclint (a maintained
 *   validator on npm that bundles the schema), pinned; a broken copy must fail, so the check is
 *   known to bite;
 * - the Dockerfile's `RUN deno …` commands (`deno install --frozen`, `deno check`) run, in the
 *   order and with the files the image build gives them, in a copy of the tree: a lock file that
 *   does not match deno.json, or an entry point that does not type-check, breaks the image, and
 *   this test, before anyone builds it.
 */
import { equal, ok } from "node:assert/strict";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
/** The validator, pinned: a new release must not change what passes. */
const DCLINT = "dclint@3.1.0";

async function run(
  program: string,
  args: string[],
  cwd: string,
  timeoutMs = 240_000,
): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(program, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, output: text };
}

interface DclintMessage {
  rule: string;
  type: string;
  message: string;
  line: number;
}

/** dclint's schema check of one compose file: the errors it found (style rules are off). */
async function schemaErrors(dir: string, file: string): Promise<DclintMessage[]> {
  // Only the specification: key order and service order are taste, not validity.
  await Deno.writeTextFile(
    `${dir}/.dclintrc.json`,
    JSON.stringify({
      rules: {
        "service-keys-order": 0,
        "services-alphabetical-order": 0,
        "top-level-properties-order": 0,
        "service-image-require-explicit-tag": 0,
        "require-quotes-in-ports": 0,
        "service-ports-alphabetical-order": 0,
        "no-quotes-in-volumes": 0,
        "service-dependencies-alphabetical-order": 0,
        "require-project-name-field": 0,
      },
    }),
  );
  const { output } = await run("npx", [
    "-y",
    DCLINT,
    file,
    "-c",
    `${dir}/.dclintrc.json`,
    "--formatter",
    "json",
  ], dir);
  const start = output.indexOf("[");
  ok(start >= 0, `dclint printed no JSON report:\n${output}`);
  const report = JSON.parse(output.slice(start, output.lastIndexOf("]") + 1)) as {
    messages: DclintMessage[];
  }[];
  return report.flatMap((r) => r.messages).filter((m) => m.type === "error");
}

Deno.test({
  name: "compose.yaml follows the Compose specification (dclint, schema only); a broken one fails",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice-compose-" });
    try {
      const text = await Deno.readTextFile(`${ROOT}/compose.yaml`);
      await Deno.writeTextFile(`${dir}/compose.yaml`, text);
      const errors = await schemaErrors(dir, `${dir}/compose.yaml`);
      equal(errors.length, 0, JSON.stringify(errors, null, 2));
      // The same file with one key the specification does not have must be refused.
      const broken = text.replace(/^services:\n/m, "services:\n  kibana_typo: { imgae: x }\n");
      ok(broken !== text, "compose.yaml has no top-level services key");
      await Deno.writeTextFile(`${dir}/broken.yaml`, broken);
      const caught = await schemaErrors(dir, `${dir}/broken.yaml`);
      ok(caught.length > 0, "dclint accepted a service with an unknown key");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The Dockerfile's steps that matter here: which files are copied, which commands run. */
export function dockerfileSteps(text: string): (
  | { kind: "copy"; files: string[] }
  | { kind: "run"; args: string[] }
)[] {
  const steps: ({ kind: "copy"; files: string[] } | { kind: "run"; args: string[] })[] = [];
  for (const raw of text.replace(/\\\n/g, " ").split("\n")) {
    const line = raw.trim();
    const copy = /^COPY\s+(?:--\S+\s+)*(.+)\s+\S+$/.exec(line);
    if (copy) steps.push({ kind: "copy", files: copy[1].split(/\s+/) });
    // Only deno's commands: the others (mkdir, chown) set up the image's file system.
    const run = /^RUN\s+(deno\s.+)$/.exec(line);
    if (run) steps.push({ kind: "run", args: run[1].split(/\s+/).slice(1) });
  }
  return steps;
}

Deno.test({
  name: "Dockerfile: its deno install --frozen and deno check pass in a copy of the tree",
  sanitizeResources: false,
  async fn() {
    const text = await Deno.readTextFile(`${ROOT}/Dockerfile`);
    const steps = dockerfileSteps(text);
    const runs = steps.filter((s) => s.kind === "run");
    ok(runs.some((s) => s.args.join(" ").startsWith("install --frozen")), text);
    ok(runs.some((s) => s.args[0] === "check"), text);
    // The image's Deno is the one the project pins and tests with.
    const version = /^ARG DENO_VERSION=(\S+)$/m.exec(text)?.[1];
    equal(version, Deno.version.deno, "the Dockerfile's DENO_VERSION is not this Deno");

    // The tree as the build context has it: the tracked files, as they are in the work tree.
    const listed = await run("git", ["ls-files", "-z"], ROOT);
    equal(listed.code, 0, listed.output);
    // A file deleted in the work tree but still tracked is not in the build context either.
    const files = listed.output.split("\0").filter((f) => {
      if (!f || f.startsWith(".")) return false;
      try {
        return Deno.statSync(`${ROOT}/${f}`).isFile;
      } catch {
        return false;
      }
    });
    const dir = await Deno.makeTempDir({ prefix: "sluice-dockerfile-" });
    try {
      for (const step of steps) {
        if (step.kind === "copy") {
          const all = step.files.includes(".");
          for (const f of all ? files : step.files) {
            await Deno.mkdir(`${dir}/${f}`.replace(/\/[^/]*$/, ""), { recursive: true });
            await Deno.copyFile(`${ROOT}/${f}`, `${dir}/${f}`);
          }
        } else {
          const result = await run(Deno.execPath(), step.args, dir);
          equal(result.code, 0, `RUN deno ${step.args.join(" ")} failed:\n${result.output}`);
        }
      }
      ok(await Deno.stat(`${dir}/node_modules`).then(() => true, () => false), "no node_modules");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
