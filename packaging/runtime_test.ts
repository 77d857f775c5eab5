import { equal, match } from "node:assert/strict";
import { DENO_VERSION, integrityOf } from "./runtime.ts";

const read = (path: string) => Deno.readTextFile(new URL(`../${path}`, import.meta.url));

Deno.test("the packaged Deno is the one the project pins in .ci/run, the Dockerfile and the README", async () => {
  match(await read(".ci/run"), new RegExp(`\\nDENO_VERSION=${DENO_VERSION}\\n`));
  match(await read("Dockerfile"), new RegExp(`\\nARG DENO_VERSION=${DENO_VERSION}\\n`));
  match(await read("README.md"), new RegExp(`npx -y deno@${DENO_VERSION} task test`));
});

Deno.test("integrityOf gives npm's sha512 integrity string", async () => {
  // printf abc | openssl dgst -sha512 -binary | base64
  equal(
    await integrityOf(new TextEncoder().encode("abc")),
    "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==",
  );
});
