/**
 * Shared pieces of the security integration tests: the secure stack (started when it is not
 * running, stopped afterwards only if this test started it), the environment that points a
 * sluice process at it, its passwords (to look for them where they must not be), and running a
 * sluice command to its end with its output kept (long-running ones: tests/support/).
 * @module
 */
import { searchHttp } from "../../core/search_http.ts";
import { TestProcess } from "../support/process.ts";
import type { SearchSecurity } from "../../core/security.ts";
import { readPassword } from "../../stack/secure/credentials.ts";
import { templateName } from "../../transfer/index_template.ts";
import {
  ensureSecureStack,
  SECURE_STACK_DIR,
  type SecureStackHandle,
  stopSecureStack,
} from "../../stack/secure/stack.ts";

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

export interface Finished {
  code: number;
  /** Everything it printed, stdout and stderr in arrival order. */
  output: string;
}

/**
 * Runs `deno run -A SCRIPT ARGS` to the end (killed after `timeoutMs`) with this process's
 * environment without its SLUICE_* variables, plus `env`.
 */
export async function runSluice(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<Finished> {
  const process = new TestProcess({ name: script, script, args, env });
  const timer = setTimeout(() => process.signal("SIGKILL"), timeoutMs);
  try {
    const { code } = await process.exited;
    return { code, output: process.output };
  } finally {
    clearTimeout(timer);
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
