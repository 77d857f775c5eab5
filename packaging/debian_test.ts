import { equal, match } from "node:assert/strict";
import {
  conffilesFile,
  controlFile,
  debianVersionProblem,
  installedSizeKiB,
  md5sumsFile,
} from "./debian.ts";

Deno.test("debianVersionProblem accepts native versions and names what is wrong otherwise", () => {
  equal(debianVersionProblem("0.1.0"), undefined);
  equal(debianVersionProblem("0.1.0+git203.1dfc569f0015"), undefined);
  equal(debianVersionProblem("1.0~rc1"), undefined);
  match(debianVersionProblem("v1.0")!, /must start with a digit/);
  match(debianVersionProblem("1.0-1")!, /not '-'/);
  match(debianVersionProblem("1:1.0")!, /not ':'/);
  match(debianVersionProblem("1.0 beta")!, /not ' '/);
});

Deno.test("controlFile has the fields dpkg requires, the description folded by one space", () => {
  const text = controlFile({
    version: "0.1.0+git1.abc",
    installedSizeKiB: 180_000,
    maintainer: "Ann <ann@example.org>",
  });
  for (
    const field of [
      /^Package: sluice$/m,
      /^Version: 0\.1\.0\+git1\.abc$/m,
      /^Architecture: amd64$/m,
      /^Maintainer: Ann <ann@example\.org>$/m,
      /^Installed-Size: 180000$/m,
      /^Depends: adduser, /m,
      /^Description: \S/m,
    ]
  ) match(text, field);
  // Continuation lines start with a space; "." stands for an empty line; the file ends in \n.
  for (const line of text.split("\n").slice(9, -1)) match(line, /^ \S/);
  match(text, /\n$/);
});

Deno.test("installedSizeKiB rounds every file up to a KiB", () => {
  equal(installedSizeKiB([]), 0);
  equal(installedSizeKiB([1, 1024, 1025]), 1 + 1 + 2 + 3);
});

Deno.test("md5sums leaves out the conffiles (dpkg tracks those itself)", () => {
  equal(
    md5sumsFile([
      { path: "usr/lib/sluice/VERSION", md5: "0123" },
      { path: "etc/sluice/agent.yaml", md5: "4567" },
    ]),
    "0123  usr/lib/sluice/VERSION\n",
  );
  match(conffilesFile(), /^\/etc\/sluice\/agent\.yaml\n/);
});
