// The logs page: search the date-sharded indices (query string, time range, source), draw the
// histogram of matches, list the lines, and in live-tail mode poll for newer lines every 2 s.
import { api, esc, showMessage, utc } from "./common.js";

const $ = (selector) => document.querySelector(selector);
const form = $("#search-form");
const message = $("#logs-message");
const MAX_ROWS = 500;
let tail = null; // { timer, since, seen: Set of ids at the `since` millisecond }
let shown = 0;
let searches = 0; // only the latest search may draw: an older, slower answer is dropped

function params() {
  const p = new URLSearchParams();
  if (form.q.value.trim()) p.set("q", form.q.value.trim());
  if (form.range.value === "custom") {
    if (form.from.value) p.set("from", new Date(`${form.from.value}Z`).toISOString());
    if (form.to.value) p.set("to", new Date(`${form.to.value}Z`).toISOString());
  } else {
    p.set("range", form.range.value);
  }
  if (form.source.value) p.set("source", form.source.value);
  return p;
}

function rowHtml(r) {
  return `<tr data-id="${esc(r.id)}"><td class="nowrap">${
    utc(r["@timestamp"])
  }</td><td class="nowrap">${esc(r.host)}</td>
    <td class="nowrap">${esc(r.source)}</td><td class="message-cell" title="${esc(r.path)}:${
    r.offset ?? ""
  }">${esc(r.message)}</td></tr>`;
}

function drawHistogram(histogram) {
  const max = Math.max(1, ...histogram.buckets.map((b) => b.count));
  const bars = histogram.buckets.map((b) => {
    const at = new Date(b.t).toISOString().replace("T", " ").slice(0, 19);
    return `<div class="bar" title="${at} UTC: ${b.count}" data-count="${b.count}"><div></div></div>`;
  });
  const box = $("#histogram");
  box.innerHTML = bars.join("");
  // Heights go through the DOM: the CSP forbids style attributes in markup.
  box.querySelectorAll(".bar > div").forEach((div, i) => {
    div.style.height = `${Math.round((histogram.buckets[i].count / max) * 100)}%`;
  });
  box.dataset.interval = histogram.interval;
  // Seconds matter when the bars are seconds wide (a short custom range).
  const width = histogram.interval.endsWith("s") ? 19 : 16;
  const label = (t) => new Date(t).toISOString().replace("T", " ").slice(0, width) + " UTC";
  const first = histogram.buckets[0];
  const last = histogram.buckets[histogram.buckets.length - 1];
  $("#histogram-from").textContent = first ? label(first.t) : "";
  $("#histogram-to").textContent = last ? label(last.t) : "";
}

function fillSources(sources) {
  const current = form.source.value;
  const ids = new Set(sources.map((s) => s.id));
  if (current) ids.add(current);
  form.source.innerHTML = '<option value="">all sources</option>' +
    [...ids].sort().map((id) => `<option value="${esc(id)}">${esc(id)}</option>`).join("");
  form.source.value = current;
}

async function search() {
  const p = params();
  history.replaceState(null, "", `/logs?${p}`);
  showMessage(message, "info", "");
  const mine = ++searches;
  try {
    const r = await api(`/api/logs/search?${p}&size=200`);
    if (mine !== searches) return [];
    $("#search-summary").textContent = `${r.total} match${
      r.total === 1 ? "" : "es"
    }, histogram per ${r.histogram.interval}, ${r.took_ms} ms`;
    drawHistogram(r.histogram);
    fillSources(r.sources);
    $("#results tbody").innerHTML = r.rows.map(rowHtml).join("") ||
      '<tr><td colspan="4" class="muted">No lines match.</td></tr>';
    shown = r.rows.length;
    return r.rows;
  } catch (error) {
    showMessage(message, "error", error.message, error.body?.errors ?? []);
    return [];
  }
}

async function poll() {
  const p = params();
  p.delete("from");
  p.delete("to");
  p.delete("range");
  p.set("since", new Date(tail.since).toISOString());
  p.set("size", "200");
  try {
    const { rows } = await api(`/api/logs/tail?${p}`);
    const fresh = rows.filter((r) => !tail.seen.has(r.id));
    if (fresh.length) {
      const body = $("#results tbody");
      if (!shown) body.innerHTML = "";
      body.insertAdjacentHTML("afterbegin", fresh.reverse().map(rowHtml).join(""));
      shown += fresh.length;
      while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
      const newest = Math.max(...rows.map((r) => Date.parse(r["@timestamp"])));
      if (newest > tail.since) {
        tail.since = newest;
        tail.seen = new Set();
      }
      for (const r of rows) if (Date.parse(r["@timestamp"]) === tail.since) tail.seen.add(r.id);
      $("#search-summary").textContent = `live tail: ${fresh.length} new line${
        fresh.length === 1 ? "" : "s"
      } at ${new Date().toLocaleTimeString()}`;
    }
    showMessage(message, "info", "");
  } catch (error) {
    showMessage(message, "error", error.message, error.body?.errors ?? []);
  }
}

async function startTail() {
  const rows = await search();
  const newest = rows.length ? Date.parse(rows[0]["@timestamp"]) : Date.now() - 5000;
  tail = {
    since: newest,
    seen: new Set(rows.filter((r) => Date.parse(r["@timestamp"]) === newest).map((r) => r.id)),
  };
  tail.timer = setInterval(poll, 2000);
  document.body.classList.add("tailing");
}

function stopTail() {
  if (tail) clearInterval(tail.timer);
  tail = null;
  document.body.classList.remove("tailing");
}

form.range.addEventListener(
  "change",
  () => ($("#custom-range").hidden = form.range.value !== "custom"),
);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (form.live.checked) {
    stopTail();
    startTail();
  } else {
    search();
  }
});
form.live.addEventListener("change", () => (form.live.checked ? startTail() : stopTail()));

// A shared link (/logs?q=…&range=…&source=…) opens with its search filled in and run.
const initial = new URLSearchParams(location.search);
if (initial.get("q")) form.q.value = initial.get("q");
if (initial.get("range")) form.range.value = initial.get("range");
if (initial.get("source")) {
  fillSources([{ id: initial.get("source") }]), (form.source.value = initial.get("source"));
}
search();
