/**
 * The console in a real browser (headless Debian Chromium through playwright-core) against the
 * real stack: apply two revisions from the config page, roll back to the first, see the fleet,
 * and find a freshly indexed line on the logs page (search, then live tail). Screenshots of each
 * page go to a temp dir, or to docs/images/ with SLUICE_CONSOLE_SCREENSHOTS=1.
 * @module
 */
import { deepStrictEqual as assertEquals, equal, ok as assert } from "node:assert/strict";
import type { Page } from "playwright-core";
import { type AgentStatus, openConfigPlane } from "../../config_plane/mod.ts";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { startConsole } from "../../console/server.ts";
import { launchChromium, testIndices } from "../../console/testing.ts";

const V1 = `defaults:
  topic: logs
  fields: { env: prod }
sources:
  - id: checkout
    paths: [/var/log/checkout/*.log]
    parser: { type: json }
  - id: nginx-access
    paths: [/var/log/nginx/access.log]
    topic: logs-nginx
`;
const V2 = V1.replace(
  "    parser: { type: json }\n",
  "    parser: { type: json }\n    rate: { lines_per_sec: 200 }\n",
) +
  `  - id: payments
    paths: ["/var/log/payments/*.log"]
    multiline: { start_pattern: '^\\d{4}-' }
`;

async function screenshotDir(): Promise<string> {
  if (Deno.env.get("SLUICE_CONSOLE_SCREENSHOTS") === "1") {
    const dir = new URL("../../docs/images/", import.meta.url).pathname;
    await Deno.mkdir(dir, { recursive: true });
    return dir;
  }
  return await Deno.makeTempDir({ prefix: "sluice-console-shots-" });
}

async function shoot(page: Page, dir: string, name: string): Promise<void> {
  const path = `${dir}/console-${name}.png`;
  await page.screenshot({ path, fullPage: true });
  assert((await Deno.stat(path)).size > 10_000, `${path} is a real picture`);
}

async function applyFromPage(page: Page, text: string, why: string, author: string) {
  await page.fill("#plan-form textarea[name=text]", text);
  await page.click("#plan-form button[type=submit]");
  await page.waitForSelector("#plan-result:not([hidden])");
  await page.fill("#apply-form input[name=message]", why);
  await page.fill("#apply-form input[name=author]", author);
  await page.click("#apply-form button[type=submit]");
}

Deno.test({
  name: "browser: apply, roll back, fleet, search and live-tail a line that was just indexed",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const prefix = `/sluice-console-test-${crypto.randomUUID().slice(0, 8)}`;
    const indices = testIndices(endpointsFromEnv().search);
    const plane = openConfigPlane({ prefix });
    const web = await startConsole({ port: 0, etcdPrefix: prefix, indexPrefix: indices.prefix });
    const chromium = await launchChromium();
    const registrations: { close(): Promise<void> }[] = [];
    const dir = await screenshotDir();
    try {
      const page = await chromium.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(String(error)));

      // Config: two applies from the page, then a rollback to the first.
      await page.goto(`${web.url}/config`);
      await page.waitForSelector("#timeline tbody tr");
      await applyFromPage(page, V1, "collect checkout and nginx", "ann");
      await page.waitForSelector("#config-message >> text=Applied as revision 1 by ann");
      await applyFromPage(page, V2, "payments logs, throttle checkout", "ann");
      await page.waitForSelector("#config-message >> text=Applied as revision 2 by ann");
      await page.click('#timeline button[data-rollback="1"]');
      await page.waitForSelector("#rollback-panel:not([hidden])");
      assert((await page.textContent("#rollback-plan"))!.includes("- source payments"));
      await page.fill("#rollback-form input[name=message]", "payments parser splits traces");
      await page.click("#rollback-form button[type=submit]");
      await page.waitForSelector("#config-message >> text=appended revision 3");
      equal(await plane.head(), 3);
      const event = (await plane.event(3))!;
      assertEquals([event.rollback_of, event.author, event.message], [
        1,
        "ann",
        "payments parser splits traces",
      ]);
      assertEquals(await plane.stateAt(3), await plane.stateAt(1));
      await page.waitForSelector('#timeline tr[data-seq="3"]');
      await page.fill("#diff-form input[name=from]", "1");
      await page.fill("#diff-form input[name=to]", "2");
      await page.click("#diff-form button[type=submit]");
      await page.waitForSelector("#revision-body >> text=+ source payments");
      await shoot(page, dir, "config");

      // Fleet: two live agents, one on the head, one behind.
      const now = new Date().toISOString();
      const agent = (id: string, seq: number, sources: AgentStatus["sources"]): AgentStatus => ({
        agent_id: id,
        host: id,
        labels: { role: id.startsWith("web") ? "web" : "app", zone: "eu-1" },
        seq,
        started_at: now,
        heartbeat_at: now,
        version: "0.1.0",
        sources,
      });
      registrations.push(
        await plane.registerAgent(
          agent("app-1", 3, {
            checkout: { state: "running", files: 3, lag_bytes: 2048 },
            "nginx-access": { state: "running", files: 1, lag_bytes: 0 },
          }),
          { ttlSeconds: 10 },
        ),
        await plane.registerAgent(
          agent("web-1", 2, {
            checkout: { state: "running", files: 3 },
            "nginx-access": {
              state: "error",
              files: 0,
              last_error: "EACCES: permission denied, open '/var/log/nginx/access.log'",
            },
            payments: { state: "waiting", files: 0 },
          }),
          { ttlSeconds: 10 },
        ),
      );
      await page.goto(`${web.url}/fleet`);
      await page.waitForSelector('#fleet tr[data-agent="web-1"]');
      assert((await page.textContent('#fleet tr[data-agent="web-1"]'))!.includes("behind 1"));
      assert((await page.textContent("#fleet-summary"))!.includes("not converged"));
      await shoot(page, dir, "fleet");

      // Logs: a line written just now is found by its marker, then one more arrives in live tail.
      const marker = `order${crypto.randomUUID().slice(0, 8)}`;
      const t = Date.now();
      const lines = Array.from({ length: 40 }, (_, i) => ({
        source: i % 3 === 0 ? "nginx-access" : "checkout",
        host: i % 2 ? "web-1" : "app-1",
        message: i % 3 === 0
          ? `10.0.0.${i} "GET /cart HTTP/1.1" 200 ${512 + i}`
          : `{"level":"info","msg":"order placed","n":${i}}`,
        at: new Date(t - (40 - i) * 80_000 + (i % 7) * 9_000),
      }));
      lines.push({
        source: "checkout",
        host: "app-1",
        message: `{"level":"error","msg":"payment declined","order":"${marker}"}`,
        at: new Date(t - 5_000),
      });
      await indices.index(lines);
      await page.goto(`${web.url}/logs`);
      await page.fill("#search-form input[name=q]", marker);
      await page.click("#search-form button[type=submit]");
      // The page's own first search (everything) may still be drawing: wait for this one's summary.
      await page.waitForSelector("#search-summary >> text=/^1 match,/");
      equal(await page.locator("#results tbody tr").count(), 1);
      assert((await page.textContent("#results tbody"))!.includes(marker));

      await page.fill("#search-form input[name=q]", "");
      await page.selectOption("#search-form select[name=range]", "1h");
      await page.click("#search-form button[type=submit]");
      await page.waitForSelector("#search-summary >> text=41 matches");
      equal(await page.locator("#histogram .bar").count() >= 60, true);

      await page.check("#search-form input[name=live]");
      await page.waitForSelector("body.tailing");
      const fresh = `fresh${crypto.randomUUID().slice(0, 8)}`;
      await indices.index([{ source: "checkout", host: "app-1", message: `tail ${fresh}` }]);
      await page.waitForSelector(`#results td >> text=${fresh}`, { timeout: 15_000 });
      await page.uncheck("#search-form input[name=live]");
      await page.click("#search-form button[type=submit]");
      await page.waitForSelector("#search-summary >> text=42 matches");
      await shoot(page, dir, "logs");
      assertEquals(pageErrors, []);
    } finally {
      for (const r of registrations) await r.close().catch(() => {});
      await chromium.close();
      await web.stop();
      await indices.drop();
      await plane.kv.delete().all();
      plane.close();
    }
  },
});
