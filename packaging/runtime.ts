/**
 * The Deno runtime a package carries: the project's pinned Deno, from its npm package (the
 * binary is in the platform package `@deno/linux-x64-glibc`), fetched once with `npm pack` into
 * the build cache and checked against the integrity pinned here.
 * @module
 */

/** The Deno the project runs on (.ci/run, Dockerfile, README); a unit test keeps them equal. */
export const DENO_VERSION = "2.9.6";

/** npm package holding the linux x86-64 (glibc) binary of `deno@DENO_VERSION`. */
export const RUNTIME_PACKAGE = "@deno/linux-x64-glibc";

/** Its tarball's integrity as the npm registry publishes it (`npm view … dist.integrity`). */
export const RUNTIME_INTEGRITY =
  "sha512-3md4TKLCuzsLDmfOoC5KN7NAZaxSVkMgm64vg6foD00JBADCpYS2/5QqXfzgnP5ZQz3iLP9vBQJtEgc116OAoQ==";

/** The npm `integrity` string (`sha512-<base64>`) of some bytes. */
export async function integrityOf(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", bytes as BufferSource));
  let binary = "";
  for (const b of digest) binary += String.fromCharCode(b);
  return `sha512-${btoa(binary)}`;
}

async function run(command: string, args: string[], cwd?: string): Promise<void> {
  let out;
  try {
    out = await new Deno.Command(command, { args, cwd, stdin: "null" }).output();
  } catch (error) {
    throw new Error(`cannot run ${command}: ${(error as Error).message}`);
  }
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`${command} ${args.join(" ")} failed (exit ${out.code}): ${stderr}`);
  }
}

/**
 * The path of the Deno binary in `cacheDir`, fetched with `npm pack` when the cache does not
 * hold a tarball with the pinned integrity.
 */
export async function fetchRuntime(cacheDir: string): Promise<string> {
  await Deno.mkdir(cacheDir, { recursive: true });
  const base = `deno-${RUNTIME_PACKAGE.split("/")[1]}-${DENO_VERSION}`;
  const tarball = `${cacheDir}/${base}.tgz`;
  const binary = `${cacheDir}/${base}/deno`;
  const cached = await Deno.readFile(tarball).catch(() => undefined);
  if (!cached || await integrityOf(cached) !== RUNTIME_INTEGRITY) {
    console.log(`fetching ${RUNTIME_PACKAGE}@${DENO_VERSION} with npm pack`);
    await run("npm", [
      "pack",
      `${RUNTIME_PACKAGE}@${DENO_VERSION}`,
      "--pack-destination",
      cacheDir,
      "--silent",
    ]);
    const fetched = await Deno.readFile(tarball);
    const integrity = await integrityOf(fetched);
    if (integrity !== RUNTIME_INTEGRITY) {
      await Deno.remove(tarball);
      throw new Error(
        `${RUNTIME_PACKAGE}@${DENO_VERSION} from npm has integrity ${integrity}, ` +
          `not the pinned ${RUNTIME_INTEGRITY}: refusing to package it`,
      );
    }
    await Deno.remove(`${cacheDir}/${base}`, { recursive: true }).catch(() => {});
  }
  if (!await Deno.stat(binary).then(() => true, () => false)) {
    await Deno.mkdir(`${cacheDir}/${base}`, { recursive: true });
    await run("tar", ["-xzf", tarball, "-C", `${cacheDir}/${base}`, "--strip-components=1"]);
  }
  return binary;
}
