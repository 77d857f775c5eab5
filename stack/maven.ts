/**
 * Resolves the jars of a service from Maven Central with a small pom under stack/ into a folder
 * under `.stack/`. A stamp (the pom's hash) skips Maven entirely when nothing changed; Maven's
 * own cache (~/.m2) makes a changed pom cheap after the first download.
 * @module
 */
import { SluiceError } from "../core/errors.ts";
import { requireMaven, run } from "./prerequisites.ts";
import type { Progress } from "./service.ts";

const STAMP = ".resolved-from";

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Copies the runtime dependencies of `pomFile` into `outDir` unless they are already there for
 * this exact pom. Returns true when Maven ran.
 */
export async function resolveJars(
  pomFile: string,
  outDir: string,
  label: string,
  progress: Progress,
): Promise<boolean> {
  const hash = await sha256(await Deno.readTextFile(pomFile));
  const stamp = await Deno.readTextFile(`${outDir}/${STAMP}`).catch(() => "");
  if (stamp.trim() === hash) return false;
  await requireMaven();
  progress(`${label}: resolving jars from Maven Central (first run downloads them into ~/.m2)`);
  // A changed pom must not leave jars of the old version on the class path.
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(outDir, { recursive: true });
  const result = await run("mvn", [
    "-q",
    "-B",
    "-f",
    pomFile,
    "dependency:copy-dependencies",
    `-DoutputDirectory=${outDir}`,
    "-DincludeScope=runtime",
  ]);
  if (!result.ok) {
    const tail = result.output.trim().split("\n").slice(-15).join("\n");
    throw new SluiceError(
      `Maven could not resolve ${pomFile}:\n${tail}\n` +
        "Fix: check that Maven Central is reachable (a proxy goes in ~/.m2/settings.xml), then " +
        "run the command again.",
    );
  }
  await Deno.writeTextFile(`${outDir}/${STAMP}`, hash + "\n");
  return true;
}
