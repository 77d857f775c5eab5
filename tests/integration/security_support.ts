/**
 * Shared pieces of the security integration tests: the secure stack (started when it is not
 * running, stopped afterwards only if this test started it), the environment that points a
 * sluice process at it, its passwords (to look for them where they must not be), and running
 * sluice commands as child processes with their output kept.
 * @module
 */
import { searchHttp } from "../../core/search_http.ts";
import type { SearchSecurity } from "../../core/security.ts";
import { readPassword } from "../../stack/secure/credentials.ts";
import { templateName } from "../../transfer/index_template.ts";
import {
  ensureSecureStack,
  SECURE_STACK_DIR,
  type SecureStackHandle,
  stopSecureStack,
} from "../../stack/secure/stack.ts";

export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** Runs `fn` with the secure stack up; stops what this call started, also when `fn` throws. */
export async function withSecureStack(
  fn: (stack: SecureStackHandle) => Promise<void>,
): Promise<void> {
  const stack = await ensureSecureStack({ progress: (line) => console.error(line) });
  try {
    await fn(stack);
  } finally {
    if (stack.started.length > 0) {
      await stopSecureStack(stack, { progress: (line) => console.error(line) });
    }
  }
}

/** Every password of the secure stack: none of them may show up in output, metrics or etcd. */
export async function allPasswords(): Promise<Record<string, string>> {
  const dir = `${SECURE_STACK_DIR}/secrets`;
  const out: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".password")) {
      out[entry.name] = await readPassword(`${dir}/${entry.name}`);
    }
  }
  if (Object.keys(out).length < 6) throw new Error(`expected 6 password files in ${dir}`);
  return out;
}

/** The names of the passwords that occur in `text`. */
export function leakedPasswords(text: string, passwords: Record<string, string>): string[] {
  return Object.entries(passwords).filter(([, value]) => text.includes(value)).map(([name]) =>
    name
  );
}

/** The environment of a child: this process's, without any SLUICE_* of its own, plus `env`. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("SLUICE_")),
  );
  return { ...base, ...env };
}

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts `deno run -A SCRIPT ARGS` with only `env`; `output` resolves with all it printed. */
function spawnSluice(
  script: string,
  args: string[],
  env: Record<string, string>,
): { child: Deno.ChildProcess; output: Promise<Finished> } {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/${script}`, ...args],
    env: childEnv(env),
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output().then((out) => {
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  });
  return { child, output };
}

/** Runs `deno run -A SCRIPT ARGS` to the end (killed after `timeoutMs`). */
export async function runSluice(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<Finished> {
  const { child, output } = spawnSluice(script, args, env);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    return await output;
  } finally {
    clearTimeout(timer);
  }
}

/** A long-running sluice process whose output is collected until it is stopped. */
export class SluiceProcess {
  readonly #child: Deno.ChildProcess;
  readonly #output: Promise<Finished>;

  constructor(script: string, args: string[], env: Record<string, string>) {
    ({ child: this.#child, output: this.#output } = spawnSluice(script, args, env));
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with everything it printed. */
  async stop(graceMs = 15_000): Promise<Finished> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already exited
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    }, graceMs);
    try {
      return await this.#output;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A unique lowercase name for topics, prefixes and indices (`sluice*`: the role's pattern). */
export function uniqueName(label: string): string {
  return `sluice-sec-${label}-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 6)}`;
}

/** Deletes the index template the transfer installed for index prefix `prefix`. */
export async function deleteIndexTemplate(
  searchUrl: string,
  security: SearchSecurity,
  prefix: string,
): Promise<void> {
  const http = searchHttp(searchUrl, security);
  try {
    const url = `${http.base}/_index_template/${templateName(prefix)}`;
    await (await fetch(url, { ...http.init, method: "DELETE" })).body?.cancel();
  } finally {
    http.close();
  }
}
