import { equal, ok as assert } from "node:assert/strict";
import { escapeHtml, PAGES, renderPage } from "./pages.ts";

Deno.test("escapeHtml escapes the five characters that matter", () => {
  equal(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
  );
});

Deno.test("each page: its title, its script, the navigation, no inline script", () => {
  for (const name of Object.keys(PAGES) as (keyof typeof PAGES)[]) {
    const html = renderPage(name, { prefix: "/p<x>", index: "sluice-*" });
    assert(html.includes(`<title>${PAGES[name].title} · sluice</title>`));
    assert(html.includes(`<script type="module" src="/static/${PAGES[name].script}"></script>`));
    assert(html.includes(`<a href="/${name}" aria-current="page">`));
    assert(html.includes("etcd /p&lt;x&gt;"), "the prefix is escaped");
    // The CSP forbids inline scripts: every <script> must have a src.
    equal((html.match(/<script(?![^>]*\ssrc=)/g) ?? []).length, 0);
  }
});

Deno.test("config page: a revision shows each source's parser, event time and processors", () => {
  const html = renderPage("config");
  assert(html.includes('<div id="revision-sources" hidden>'));
  for (const column of ["source", "parser", "event time", "processors, in order"]) {
    assert(html.includes(`<th>${column}</th>`), column);
  }
});
