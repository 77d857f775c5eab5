/**
 * The HTML of the console's three pages, rendered on the server: the frame (navigation, forms,
 * empty tables) that the small scripts in static/ fill from the JSON API. No inline script or
 * style, so the Content-Security-Policy can forbid both.
 * @module
 */

/** The pages, in navigation order. */
export const PAGES = {
  config: { title: "Config", script: "config.js" },
  fleet: { title: "Fleet", script: "fleet.js" },
  logs: { title: "Logs", script: "logs.js" },
} as const;
export type PageName = keyof typeof PAGES;

/**
 * Escapes text for HTML content and attribute values.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./pages.ts";
 * escapeHtml('<a href="x">'); // "&lt;a href=&quot;x&quot;&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

const BODIES: Record<PageName, string> = {
  config: `
<section class="panel" id="timeline-panel">
  <h2>Revisions <span class="muted" id="head-label"></span></h2>
  <table class="grid" id="timeline">
    <thead><tr><th>rev</th><th>when</th><th>author</th><th>change</th><th>why</th><th></th></tr></thead>
    <tbody></tbody>
  </table>
  <div class="inline"><button type="button" id="older" hidden>Older revisions</button></div>
  <form id="diff-form" class="inline">
    <label>diff <input name="from" type="number" min="0" required size="4" aria-label="from revision"></label>
    <label>→ <input name="to" type="number" min="0" required size="4" aria-label="to revision"></label>
    <button type="submit">Show diff</button>
  </form>
</section>
<section class="panel" id="revision-panel" hidden>
  <h2 id="revision-title"></h2>
  <p class="muted" id="revision-meta"></p>
  <pre class="code" id="revision-body"></pre>
  <div id="revision-sources" hidden>
    <h3>How each source reads its lines</h3>
    <table class="grid">
      <thead><tr><th>source</th><th>parser</th><th>event time</th><th>processors, in order</th></tr></thead>
      <tbody></tbody>
    </table>
  </div>
  <div class="inline" id="revision-actions">
    <button type="button" id="load-revision">Load into editor</button>
  </div>
</section>
<section class="panel" id="rollback-panel" hidden>
  <h2>Roll back to revision <span id="rollback-rev"></span></h2>
  <pre class="code plan" id="rollback-plan"></pre>
  <form id="rollback-form" class="stack">
    <input type="hidden" name="revision">
    <label>Why <input name="message" required placeholder="e.g. the new rate overloads Kafka"></label>
    <div class="inline"><button type="submit" class="danger">Roll back</button>
      <button type="button" id="rollback-cancel">Cancel</button></div>
  </form>
</section>
<section class="panel" id="apply-panel">
  <h2>Apply a desired state</h2>
  <form id="plan-form" class="stack">
    <label>Desired state (YAML or JSON: the whole state; sources missing here are removed)
      <textarea name="text" rows="14" spellcheck="false" placeholder="defaults:&#10;  topic: logs&#10;sources:&#10;  - id: app&#10;    paths: [/var/log/app/*.log]"></textarea></label>
    <div class="inline">
      <label class="file">or upload a file <input type="file" name="file" accept=".yaml,.yml,.json,text/yaml,application/json"></label>
      <button type="button" id="validate">Validate</button>
      <button type="submit">Plan</button>
    </div>
  </form>
  <div id="plan-result" hidden>
    <h3>Plan against revision <span id="plan-base"></span></h3>
    <pre class="code plan" id="plan-text"></pre>
    <form id="apply-form" class="stack">
      <label>Why <input name="message" required placeholder="e.g. collect the checkout logs"></label>
      <label>Author <input name="author" placeholder="console"></label>
      <div class="inline"><button type="submit" class="primary">Apply</button></div>
    </form>
  </div>
  <div id="config-message" role="status"></div>
</section>
<section class="panel" id="import-panel">
  <h2>Import a logagent config</h2>
  <p class="muted">The etcd values of the Go logagent programs become sources, added to (or replacing
  same-id sources of) the current state; the same conversion as <code>deno task config:import</code>.</p>
  <form id="import-form" class="stack">
    <div class="inline wrap">
      <label>Format <select name="format">
        <option value="logagent-host-key">logagent-host-key: [{service, log_path, topic, send_rate}] under /logagent/&lt;ip&gt;/logconfig</option>
        <option value="logagent-list">logagent-list: [{path, topic}] under one key</option>
      </select></label>
    </div>
    <div class="inline">
      <label class="toggle"><input type="radio" name="from" value="text" checked> paste or upload the value</label>
      <label class="toggle"><input type="radio" name="from" value="key"> read it from an etcd key</label>
    </div>
    <div id="import-text" class="stack">
      <label>Value (JSON)
        <textarea name="text" rows="6" spellcheck="false" placeholder='[{"service": "nginx", "log_path": "/var/log/nginx/access.log", "topic": "web_log", "send_rate": 1000}]'></textarea></label>
      <label class="file">or upload a file <input type="file" name="file" accept=".json,application/json,text/plain"></label>
    </div>
    <label id="import-key" hidden>etcd key (for logagent-host-key also a prefix such as /logagent: every /&lt;ip&gt;/logconfig below it)
      <input name="key" placeholder="/logagent/10.0.0.5/logconfig" spellcheck="false"></label>
    <label id="import-host">Host the entries belong to (default: the &lt;ip&gt; of the key; empty for pasted values = every host)
      <input name="host" placeholder="10.0.0.5" spellcheck="false"></label>
    <div class="inline"><button type="submit">Plan import</button></div>
  </form>
  <div id="import-result" hidden>
    <h3>Import of <code id="import-of"></code> against revision <span id="import-base"></span></h3>
    <pre class="code plan" id="import-plan"></pre>
    <form id="import-apply-form" class="stack">
      <label>Why <input name="message" required placeholder="e.g. move web-1 over from logagent"></label>
      <label>Author <input name="author" placeholder="console"></label>
      <div class="inline"><button type="submit" class="primary">Import</button></div>
    </form>
  </div>
  <div id="import-message" role="status"></div>
</section>`,
  fleet: `
<section class="panel">
  <h2>Agents <span class="muted" id="fleet-summary"></span></h2>
  <table class="grid" id="fleet">
    <thead><tr><th>agent</th><th>labels</th><th>revision</th><th>health</th><th>heartbeat</th><th>sources</th><th>problems</th></tr></thead>
    <tbody><tr><td colspan="7" class="muted">loading…</td></tr></tbody>
  </table>
  <p class="muted">Updated every 2 s. <span id="fleet-updated"></span></p>
</section>`,
  logs: `
<section class="panel">
  <form id="search-form" class="inline wrap">
    <input name="q" type="search" placeholder='query, e.g. error AND host.name:web-1 or "timed out"' size="40" aria-label="query">
    <select name="range" aria-label="time range">
      <option value="15m">last 15 minutes</option><option value="1h">last hour</option>
      <option value="24h">last 24 hours</option><option value="7d">last 7 days</option>
      <option value="30d">last 30 days</option><option value="custom">custom…</option>
    </select>
    <span id="custom-range" hidden>
      <input name="from" type="datetime-local" step="1" aria-label="from"> – <input name="to" type="datetime-local" step="1" aria-label="to">
    </span>
    <select name="source" aria-label="source"><option value="">all sources</option></select>
    <button type="submit" class="primary">Search</button>
    <label class="toggle"><input type="checkbox" name="live"> live tail</label>
  </form>
  <p class="muted" id="search-summary"></p>
  <div id="histogram" class="histogram" aria-label="matches over time"></div>
  <div class="histogram-axis"><span id="histogram-from"></span><span id="histogram-to"></span></div>
  <table class="grid" id="results">
    <thead><tr><th>time (UTC)</th><th>host</th><th>source</th><th>message</th></tr></thead>
    <tbody></tbody>
  </table>
  <div id="logs-message" role="status"></div>
</section>`,
};

/**
 * The HTML of one page.
 *
 * @example
 * ```ts
 * import { renderPage } from "./pages.ts";
 * renderPage("fleet").includes("<title>Fleet · sluice</title>"); // true
 * ```
 */
export function renderPage(name: PageName, info: { prefix?: string; index?: string } = {}): string {
  const nav = Object.entries(PAGES).map(([key, page]) =>
    `<a href="/${key}"${key === name ? ' aria-current="page"' : ""}>${page.title}</a>`
  ).join("");
  const where = [
    info.prefix ? `etcd ${escapeHtml(info.prefix)}` : "",
    info.index ? `indices ${escapeHtml(info.index)}` : "",
  ].filter(Boolean).join(" · ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${PAGES[name].title} · sluice</title>
<link rel="stylesheet" href="/static/console.css">
<script type="module" src="/static/${PAGES[name].script}"></script>
</head>
<body data-page="${name}">
<header><span class="brand">sluice</span><nav>${nav}</nav><span class="muted where">${where}</span></header>
<main>${BODIES[name]}
</main>
</body>
</html>
`;
}
