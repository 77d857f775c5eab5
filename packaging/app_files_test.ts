import { deepStrictEqual as equal, throws } from "node:assert/strict";
import {
  droppedFromNodeModules,
  graphContent,
  lockDrift,
  packageDenoJson,
  runtimeReferences,
  uncoveredReferences,
} from "./app_files.ts";

const root = "file:///repo/";

Deno.test("graphContent lists local files and npm package names, once each, sorted", () => {
  const content = graphContent([
    {
      modules: [
        { kind: "esm", specifier: "file:///repo/b/main.ts" },
        { kind: "asserted", specifier: "file:///repo/schemas/a%20b.json" },
        { kind: "npm", specifier: "npm:/ajv@8.20.0/dist/2020.js", npmPackage: "ajv@8.20.0" },
        { kind: "npm", specifier: "npm:/@scope/x@1.0.0", npmPackage: "@scope/x@1.0.0" },
        { kind: "node", specifier: "node:buffer" },
      ],
    },
    {
      modules: [
        { kind: "esm", specifier: "file:///repo/a/main.ts" },
        { kind: "esm", specifier: "file:///repo/b/main.ts" },
        { kind: "npm", specifier: "npm:/ajv@8.20.0", npmPackage: "ajv@8.20.0" },
      ],
    },
  ], root);
  equal(content, {
    files: ["a/main.ts", "b/main.ts", "schemas/a b.json"],
    npmPackages: ["@scope/x", "ajv"],
  });
});

Deno.test("graphContent refuses modules a package could not carry or that do not load", () => {
  throws(
    () => graphContent([{ modules: [{ specifier: "jsr:@std/path@1.0.0" }] }], root),
    /remote/,
  );
  throws(
    () => graphContent([{ modules: [{ specifier: "https://deno.land/x/a.ts" }] }], root),
    /remote/,
  );
  throws(
    () => graphContent([{ modules: [{ specifier: "file:///elsewhere/a.ts" }] }], root),
    /outside the repository/,
  );
  throws(
    () =>
      graphContent(
        [{ modules: [{ specifier: "file:///repo/x.ts", error: "Module not found" }] }],
        root,
      ),
    /does not load: Module not found/,
  );
});

Deno.test("runtimeReferences finds worker scripts and asset directories relative to the module", () => {
  equal(
    runtimeReferences(
      "kafka/compressor.ts",
      'const w = new Worker(new URL("./gzip_worker.ts", import.meta.url), { type: "module" });',
    ),
    ["kafka/gzip_worker.ts"],
  );
  equal(
    runtimeReferences(
      "console/server.ts",
      "await Deno.readTextFile(new URL(`./static/${name}`, import.meta.url));",
    ),
    ["console/static/"],
  );
  equal(runtimeReferences("core/cli.ts", `new URL('../deno.json', import.meta.url)`), [
    "deno.json",
  ]);
  equal(runtimeReferences("core/cli.ts", `new URL("../", import.meta.url)`), [""]);
  equal(runtimeReferences("a.ts", "new URL(base, import.meta.url)"), []);
});

Deno.test("uncoveredReferences names what the file list misses", () => {
  const files = ["kafka/gzip_worker.ts", "console/static/app.js"];
  equal(uncoveredReferences(files, ["kafka/gzip_worker.ts", "console/static/", ""]), []);
  equal(uncoveredReferences(files, ["kafka/other.ts", "console/img/"]), [
    "kafka/other.ts",
    "console/img/",
  ]);
});

Deno.test("packageDenoJson keeps the import map entries of the used npm packages only", () => {
  const repo = {
    version: "0.1.0",
    imports: {
      "yaml": "npm:yaml@2.9.1",
      "@elastic/elasticsearch": "npm:@elastic/elasticsearch@8.19.2",
      "playwright-core": "npm:playwright-core@1.65.1",
      "local/": "./local/",
    },
  };
  equal(packageDenoJson(repo, ["@elastic/elasticsearch", "yaml"], "0.1.0+git1.abc"), {
    version: "0.1.0+git1.abc",
    nodeModulesDir: "auto",
    imports: {
      "yaml": "npm:yaml@2.9.1",
      "@elastic/elasticsearch": "npm:@elastic/elasticsearch@8.19.2",
    },
  });
  throws(() => packageDenoJson(repo, ["left-pad"], "1"), /without an import map entry.*left-pad/);
});

Deno.test("lockDrift names package lock entries that differ from or are missing in the repo's", () => {
  const repo = { npm: { "a@1.0.0": { integrity: "sha512-a" }, "b@2.0.0": { integrity: "x" } } };
  equal(lockDrift({ npm: { "a@1.0.0": { integrity: "sha512-a" } } }, repo), []);
  equal(
    lockDrift({ npm: { "a@1.0.0": { integrity: "sha512-other" }, "c@1.0.0": {} } }, repo),
    ["a@1.0.0", "c@1.0.0"],
  );
});

Deno.test("lockDrift: a dependency named without its version in one lockfile and with it in the other is the same", () => {
  // The repository holds two versions of protobufjs, so its lockfile names the one proto-loader
  // takes with its version; the package holds one, so its lockfile names it without.
  const entry = (dep: string) => ({ integrity: "sha512-p", dependencies: ["long", dep] });
  const repo = {
    npm: {
      "proto-loader@0.8.1": entry("protobufjs@7.6.6"),
      "protobufjs@7.6.6": { integrity: "sha512-7" },
      "protobufjs@8.8.1": { integrity: "sha512-8" },
      "long@5.3.2": { integrity: "sha512-l" },
    },
  };
  const same = {
    npm: {
      "proto-loader@0.8.1": entry("protobufjs"),
      "protobufjs@7.6.6": { integrity: "sha512-7" },
      "long@5.3.2": { integrity: "sha512-l" },
    },
  };
  equal(lockDrift(same, repo), []);
  // The package's only protobufjs being another version is drift, of both entries.
  const other = {
    npm: {
      "proto-loader@0.8.1": entry("protobufjs"),
      "protobufjs@8.8.1": { integrity: "sha512-8" },
      "long@5.3.2": { integrity: "sha512-l" },
    },
  };
  equal(lockDrift(other, repo), ["proto-loader@0.8.1"]);
});

Deno.test("droppedFromNodeModules leaves out type declarations and source maps only", () => {
  for (const path of ["a/index.d.ts", "a/index.d.mts", "a/index.d.cts", "a/index.js.map"]) {
    equal(droppedFromNodeModules(path), true, path);
  }
  for (const path of ["a/index.js", "a/index.mjs", "a/package.json", "a/d.ts.js", "a/map.js"]) {
    equal(droppedFromNodeModules(path), false, path);
  }
});
