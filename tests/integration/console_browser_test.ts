/**
 * The console in a real browser (headless Debian Chromium through playwright-core) against the
 * real stack. First with registered statuses and directly indexed lines: apply two revisions from
 * the config page, roll back to the first, see a failing agent, search and live-tail. Then next
 * to a live pipeline (a real agent process and a transfer): apply from the page and watch the
 * agent go from behind to converged on the fleet page, import a logagent value from the page, and
 * find the lines the agent just shipped. Screenshots go to a temp dir; with
 * SLUICE_CONSOLE_SCREENSHOTS=1 the live run's screenshots refresh docs/images/.
 * @module
 */
import { deepStrictEqual as assertEquals, equal, ok as assert } from "node:assert/strict";
import type { Page } from "playwright-core";
import { type AgentStatus, openConfigPlane } from "../../config_plane/mod.ts";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { startConsole } from "../../console/server.ts";
import { launchChromium, testIndices } from "../support/console_rig.ts";
import { accessLogLine, appLogLine, seededRandom } from "../../demo/generate.ts";
import { withDiagnostics } from "../support/diagnostics.ts";
import { liveState, startLivePipeline } from "./console_live_support.ts";

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

/** docs/images/ for the live run with SLUICE_CONSOLE_SCREENSHOTS=1, else a temp dir. */
async function screenshotDir(docs = false): Promise<string> {
  if (docs && Deno.env.get("SLUICE_CONSOLE_SCREENSHOTS") === "1") {
    const dir = new URL("../../docs/images/", import.meta.url).pathname;
    await Deno.mkdir(dir, { recursive: true });
    return dir;
  }
  return await Deno.makeTempDir({ prefix: "sluice-console-shots-" });
}

async function shoot(page: Page, dir: string, name: string, fullPage = true): Promise<void> {
  const path = `${dir}/console-${name}.png`;
  await page.screenshot({ path, fullPage });
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

/** Polls the text of `selector` until `ok(text)`; fails with the last text seen. */
async function textShows(
  page: Page,
  selector: string,
  ok: (text: string) => boolean,
  timeout = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeout;
  let last = "";
  while (Date.now() < deadline) {
    last = (await page.locator(selector).first().textContent({ timeout: 1_000 }).catch(() => "")) ??
      "";
    if (ok(last)) return last;
    await page.waitForTimeout(200);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${selector}; it shows: ${last}`);
}

/** Waits until the fleet page's row of `agentId` contains every text in `texts`. */
function fleetRowShows(page: Page, agentId: string, texts: string[], timeout = 60_000) {
  return textShows(
    page,
    `#fleet tr[data-agent="${agentId}"]`,
    (row) => texts.every((t) => row.includes(t)),
    timeout,
  );
}

const LOGAGENT_VALUE = JSON.stringify(
  [
    { service: "nginx", log_path: "/var/log/nginx/access.log", topic: "web_log", send_rate: 1000 },
    { service: "redis", log_path: "/var/log/redis/redis.log", topic: "redis_log", send_rate: 0 },
  ],
  null,
  2,
);

Deno.test({
  name: "browser, live agent: apply from the page, the fleet converges, import, find the new lines",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withDiagnostics(async (d) => {
      const live = await startLivePipeline(d);
      const chromium = await launchChromium();
      const dir = await screenshotDir(true);
      const started = Date.now();
      // Lines keep arriving in both files, a few at a time, as on a real host.
      const random = seededRandom(42);
      let seq = 0;
      let writing = true;
      const writer = (async () => {
        while (writing) {
          const at = new Date();
          const burst = 1 + Math.floor(random() * 4);
          const web = Array.from({ length: burst }, () => accessLogLine("live", seq++, at, random));
          const app = Array.from(
            { length: burst - 1 },
            () => appLogLine("live", seq++, at, random),
          );
          await live.append(live.webLog, web);
          if (app.length) await live.append(live.appLog, app);
          await new Promise((r) => setTimeout(r, 700));
        }
      })();
      try {
        const page = await chromium.context.newPage();
        const pageErrors: string[] = [];
        page.on("pageerror", (error) => pageErrors.push(String(error)));

        await page.goto(`${live.web.url}/config`);
        await applyFromPage(page, liveState(live), "collect the web access log", "ann");
        await page.waitForSelector("#config-message >> text=Applied as revision 1 by ann");

        live.startAgent();
        await page.goto(`${live.web.url}/fleet`);
        await fleetRowShows(page, live.agentId, ["head", "ok", "running", "web"]);

        // The agent is frozen while revision 2 is applied from the page: the fleet shows it behind;
        // resumed, it converges and reports the new source.
        live.pauseAgent();
        await page.goto(`${live.web.url}/config`);
        await applyFromPage(
          page,
          liveState(live, { checkout: true }),
          "collect the checkout app log too",
          "ann",
        );
        await page.waitForSelector("#config-message >> text=Applied as revision 2 by ann");
        await page.goto(`${live.web.url}/fleet`);
        await fleetRowShows(page, live.agentId, ["behind 1", "runs revision 1, head is 2"], 10_000);
        assert((await page.textContent("#fleet-summary"))!.includes("not converged"));
        live.resumeAgent();
        await fleetRowShows(page, live.agentId, ["head", "checkout"], 30_000);
        await textShows(
          page,
          "#fleet-summary",
          (t) => t.includes("converged") && !t.includes("not converged"),
          30_000,
        );

        // Import a logagent value from the page: the plan, a reason, the revision.
        await page.goto(`${live.web.url}/config`);
        await page.selectOption("#import-form select[name=format]", "logagent-host-key");
        await page.fill("#import-form textarea[name=text]", LOGAGENT_VALUE);
        await page.fill("#import-form input[name=host]", "10.0.0.5");
        await page.click("#import-form button[type=submit]");
        await page.waitForSelector("#import-result:not([hidden])");
        const importPlan = (await page.textContent("#import-plan"))!;
        assert(importPlan.includes("+ source nginx-10.0.0.5"), importPlan);
        equal(await page.textContent("#import-of"), "logagent-host-key:pasted");
        await page.fill(
          "#import-apply-form input[name=message]",
          "move 10.0.0.5 over from logagent",
        );
        await page.fill("#import-apply-form input[name=author]", "ann");
        await page.click("#import-apply-form button[type=submit]");
        await page.waitForSelector("#import-message >> text=Imported as revision 3 by ann");
        const imported = (await live.plane.event(3))!;
        assertEquals([imported.import_of, imported.author, imported.message], [
          "logagent-host-key:pasted",
          "ann",
          "move 10.0.0.5 over from logagent",
        ]);
        await page.waitForSelector('#timeline tr[data-seq="3"] >> text=import');
        await page.fill("#diff-form input[name=from]", "2");
        await page.fill("#diff-form input[name=to]", "3");
        await page.click("#diff-form button[type=submit]");
        await page.waitForSelector("#revision-body >> text=+ source redis-10.0.0.5");
        await shoot(page, dir, "config");

        // The imported sources are for 10.0.0.5 only: this agent takes revision 3 and runs the same.
        await page.goto(`${live.web.url}/fleet`);
        await fleetRowShows(page, live.agentId, ["3 head", "checkout", "web"], 30_000);
        await page.waitForTimeout(2_500); // one more refresh, so the heartbeat shows as recent
        await shoot(page, dir, "fleet");

        // Logs: a line appended now is found by its marker; one more arrives in live tail.
        const marker = `order${crypto.randomUUID().slice(0, 8)}`;
        await live.append(live.appLog, [
          JSON.stringify({ level: "error", msg: "payment declined", order: marker }),
        ]);
        await page.goto(`${live.web.url}/logs`);
        await page.fill("#search-form input[name=q]", marker);
        const searched = Date.now();
        for (;;) {
          await page.click("#search-form button[type=submit]");
          const summary = await page.waitForSelector("#search-summary >> text=/match/");
          if ((await summary.textContent())!.startsWith("1 match,")) break;
          if (Date.now() - searched > 60_000) throw new Error(`not found: ${marker}`);
          await page.waitForTimeout(500);
        }
        equal(await page.locator("#results tbody tr").count(), 1);
        const found = (await page.textContent("#results tbody"))!;
        assert(
          found.includes(marker) && found.includes("checkout") && found.includes(live.agentId),
        );

        await page.fill("#search-form input[name=q]", "");
        await page.click("#search-form button[type=submit]");
        await page.check("#search-form input[name=live]");
        await page.waitForSelector("body.tailing");
        const fresh = `fresh${crypto.randomUUID().slice(0, 8)}`;
        await live.append(live.appLog, [
          JSON.stringify({ level: "warn", msg: "retrying payment", order: fresh }),
        ]);
        await page.waitForSelector(`#results td >> text=${fresh}`, { timeout: 60_000 });
        await page.uncheck("#search-form input[name=live]");

        // The whole run on one screen: a custom range from the first line to now.
        await page.selectOption("#search-form select[name=range]", "custom");
        const utc = (t: number) => new Date(t).toISOString().slice(0, 19);
        await page.fill("#search-form input[name=from]", utc(started - 10_000));
        await page.fill("#search-form input[name=to]", utc(Date.now() + 5_000));
        await page.click("#search-form button[type=submit]");
        await page.waitForSelector("#search-summary >> text=/matches/");
        assert(await page.locator("#results tbody tr").count() > 20);
        await shoot(page, dir, "logs", false); // the first screenful: the run has many lines
        assertEquals(pageErrors, []);
      } finally {
        writing = false;
        await writer;
        await chromium.close();
      }
    }),
});
