/**
 * Helpers of the console's integration tests: the system Chromium (installed with apt-get when
 * missing) driven by playwright-core, and log documents indexed straight into a throwaway index
 * prefix of the real search engine.
 * @module
 */
import { logDocument } from "../../transfer/document.ts";
import { type BrowserContext, chromium } from "playwright-core";
import { waitFor as poll } from "../../core/child.ts";
import { eventId } from "../../core/envelope.ts";
import { indexTemplate, templateName } from "../../transfer/index_template.ts";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { ok: out.success, output: text };
}

/**
 * Makes sure /usr/bin/chromium exists: `apt-get install -y chromium`, and after `apt-get update`
 * once more if that failed (a fresh machine has no package lists). Throws saying what to do when
 * it cannot be installed.
 *
 * @example
 * ```ts ignore
 * import { ensureChromium } from "./console_rig.ts";
 * await ensureChromium(); // "/usr/bin/chromium"
 * ```
 */
export async function ensureChromium(): Promise<string> {
  if (await exists(CHROMIUM)) return CHROMIUM;
  let last = "";
  for (const attempt of [["install"], ["update", "install"]]) {
    for (const step of attempt) {
      const r = step === "update"
        ? await run("apt-get", ["update"])
        : await run("apt-get", ["install", "-y", "chromium"]);
      last = r.output.slice(-2_000);
      if (!r.ok) break;
    }
    if (await exists(CHROMIUM)) return CHROMIUM;
  }
  throw new Error(
    `the browser tests need Debian's chromium at ${CHROMIUM} and 'apt-get install -y chromium' ` +
      `failed (run it as root, with the package lists reachable). Last output:\n${last}`,
  );
}

/**
 * Launches the system Chromium headless with a new empty profile (playwright takes the
 * `--user-data-dir` as a persistent context); `close()` also removes the profile.
 *
 * @example
 * ```ts ignore
 * import { launchChromium } from "./console_rig.ts";
 * const { context, close } = await launchChromium();
 * const page = await context.newPage();
 * await close();
 * ```
 */
export async function launchChromium(
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const executablePath = await ensureChromium();
  const profile = await Deno.makeTempDir({ prefix: "sluice-console-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/** A log line to index: the fields the logs page shows. */
export interface TestLine {
  message: string;
  source: string;
  host?: string;
  /** Default: now. */
  at?: Date;
}

/**
 * A throwaway index prefix in the real search engine: `index(lines)` writes envelopes into its
 * date shards (with the transfer's index template) and makes them searchable; `drop()` deletes
 * the shards and the template.
 */
export function testIndices(searchUrl: string) {
  const prefix = `console-test-${crypto.randomUUID().slice(0, 8)}`;
  const base = searchUrl.replace(/\/$/, "");
  let offset = 0;
  async function call(method: string, path: string, body?: string, type = "application/json") {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { "content-type": type },
      body,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
    return JSON.parse(text);
  }
  return {
    prefix,
    async index(lines: TestLine[]): Promise<void> {
      await call(
        "PUT",
        `/_index_template/${templateName(prefix)}`,
        JSON.stringify(indexTemplate({ prefix, replicas: 0 })),
      );
      const body = lines.flatMap((line) => {
        const at = line.at ?? new Date();
        const host = line.host ?? "test-host";
        const id = eventId(host, `file-${prefix}`, offset);
        const day = at.toISOString().slice(0, 10).replaceAll("-", ".");
        // The document the transfer would index for this line (ECS names).
        const doc = logDocument({
          "@timestamp": at.toISOString(),
          id,
          host,
          source: line.source,
          path: `/var/log/${line.source}.log`,
          file_id: `file-${prefix}`,
          offset: offset++,
          message: line.message,
        });
        return [
          JSON.stringify({ index: { _index: `${prefix}-${line.source}-${day}`, _id: id } }),
          JSON.stringify(doc),
        ];
      }).join("\n") + "\n";
      const result = await call("POST", "/_bulk?refresh=true", body, "application/x-ndjson");
      if (result.errors) throw new Error(`bulk failed: ${JSON.stringify(result.items[0])}`);
    },
    /** Best effort: a cleanup failure must not hide the test's own error. */
    async drop(): Promise<void> {
      for (
        const path of [
          `/${prefix}-*?expand_wildcards=all`,
          `/_index_template/${templateName(prefix)}`,
        ]
      ) {
        await fetch(`${base}${path}`, { method: "DELETE" }).then((r) => r.body?.cancel()).catch(
          () => {},
        );
      }
    },
  };
}

/** Waits until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  return poll(what, check, { timeoutMs, retryErrors: true });
}
