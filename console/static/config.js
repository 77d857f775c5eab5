// The config page: revision timeline, a revision's state, diffs, plan → apply, and rollback,
// all through /api/config/* (the same checks and conflict handling as `deno task config:*`).
import { api, esc, planHtml, showMessage, utc } from "./common.js";
import "./config_import.js";

const $ = (selector) => document.querySelector(selector);
const message = $("#config-message");
let planned = null; // { base, text, filename } of the plan on screen
const PAGE = 100;

function rowsHtml(revisions, head) {
  return revisions.map((r) => `
    <tr data-seq="${r.seq}">
      <td class="num">${r.seq}${r.seq === head ? ' <span class="badge ok">head</span>' : ""}</td>
      <td>${utc(r.at)}</td>
      <td>${esc(r.author)}</td>
      <td>${r.import_of ? `<span class="badge" title="${esc(r.import_of)}">import</span> ` : ""}${
    esc(r.change)
  }</td>
      <td>${esc(r.message)}</td>
      <td class="actions">
        <button type="button" data-view="${r.seq}">View</button>
        ${
    r.seq === head ? "" : `<button type="button" data-rollback="${r.seq}">Roll back to</button>`
  }
      </td>
    </tr>`).join("");
}

/** Shows the button that pages further back when the oldest row shown is not revision 1. */
function olderButton(revisions) {
  const oldest = revisions.at(-1)?.seq ?? 1;
  $("#older").hidden = revisions.length < PAGE || oldest <= 1;
  $("#older").dataset.before = oldest - 1;
}

async function loadTimeline() {
  const { head, revisions } = await api(`/api/config/history?limit=${PAGE}`);
  $("#head-label").textContent = head ? `head: revision ${head}` : "no revisions yet";
  $("#timeline tbody").innerHTML = rowsHtml(revisions, head) ||
    '<tr><td colspan="6" class="muted">No revisions yet: apply a desired state below.</td></tr>';
  olderButton(revisions);
  const form = $("#diff-form");
  if (!form.from.value && head > 1) {
    form.from.value = head - 1;
    form.to.value = head;
  }
  return head;
}

/** A regex as `/…/` in code, the whole pattern as a tooltip when it is shortened. */
function pattern(text) {
  const short = text.length > 48 ? `${text.slice(0, 47)}…` : text;
  return `<code title="${esc(text)}">/${esc(short)}/</code>`;
}

/** One processor step in words: what it does to a line. */
function stepHtml(step) {
  const on = step.field ? ` <code>${esc(step.field)}</code> ~` : "";
  // convert shows the type as a word, add_fields the value as JSON (a string in quotes).
  const pairs = (fields, show) =>
    Object.entries(fields).map(([k, v]) => `<code>${esc(k)}</code> ${esc(show(v))}`).join(", ");
  switch (step.type) {
    case "drop":
    case "keep":
      return `<b>${step.type}</b>${on} ${pattern(step.pattern)}`;
    case "redact":
      return `<b>redact</b> ${pattern(step.pattern)} → <code>${
        esc(step.mask ?? "[REDACTED]")
      }</code>`;
    case "convert":
      return `<b>convert</b> ${pairs(step.fields, (type) => `→ ${type}`)}`;
    case "add_fields":
      return `<b>add</b> ${pairs(step.fields, (value) => `= ${JSON.stringify(value)}`)}`;
    default:
      return esc(JSON.stringify(step));
  }
}

/** Parser, event time and processors of each source of a state, as table rows. */
function sourceRowsHtml(state) {
  return state.sources.map((s) => {
    const parser = !s.parser || s.parser.type === "none"
      ? '<span class="muted">none</span>'
      : s.parser.type === "regex"
      ? `regex ${pattern(s.parser.pattern)}`
      : esc(s.parser.type);
    const t = s.timestamp;
    const time = t
      ? `<code>${esc(t.field)}</code> as ${
        t.formats.map((f) => `<code>${esc(f)}</code>`).join(" or ")
      }
        <div class="muted">zone ${esc(t.timezone ?? "UTC")} · at most ${
        esc(t.max_future_sec ?? 86400)
      } s ahead</div>`
      : '<span class="muted">read time</span>';
    const steps = s.processors?.length
      ? `<ol>${s.processors.map((p) => `<li>${stepHtml(p)}</li>`).join("")}</ol>`
      : '<span class="muted">none</span>';
    return `<tr data-source="${esc(s.id)}"><td><b>${esc(s.id)}</b></td><td>${parser}</td>
      <td>${time}</td><td>${steps}</td></tr>`;
  }).join("");
}

async function viewRevision(seq) {
  const r = await api(`/api/config/revisions/${seq}`);
  $("#revision-panel").hidden = false;
  $("#revision-title").textContent = `Revision ${seq}`;
  $("#revision-meta").innerHTML = r.event
    ? `${utc(r.event.at)} by <b>${esc(r.event.author)}</b>: ${esc(r.event.message)}`
    : "the empty state before the first revision";
  $("#revision-body").textContent = r.yaml;
  $("#revision-sources").hidden = r.state.sources.length === 0;
  $("#revision-sources tbody").innerHTML = sourceRowsHtml(r.state);
  $("#load-revision").hidden = false;
  $("#revision-panel").dataset.yaml = r.yaml;
}

async function showDiff(from, to) {
  const d = await api(`/api/config/diff?from=${from}&to=${to}`);
  $("#revision-panel").hidden = false;
  $("#revision-title").textContent = `Diff ${from} → ${to}`;
  $("#revision-meta").textContent = "what changes from the first revision to the second";
  $("#revision-body").innerHTML = planHtml(d.text);
  $("#revision-sources").hidden = true;
  $("#load-revision").hidden = true;
}

async function startRollback(seq) {
  // The plan comes from the diff head → target, exactly what the rollback will append.
  const head = await loadTimeline();
  const d = await api(`/api/config/diff?from=${head}&to=${seq}`);
  $("#rollback-panel").hidden = false;
  $("#rollback-rev").textContent = seq;
  $("#rollback-plan").innerHTML = planHtml(d.text);
  const form = $("#rollback-form");
  form.revision.value = seq;
  form.dataset.base = head;
  form.message.focus();
}

function failed(error) {
  if (error.status === 409) {
    showMessage(
      message,
      "error",
      `${error.message}\n\nPlan again to review the change against revision ${error.body.head}.`,
    );
    loadTimeline().catch(() => {});
  } else {
    showMessage(message, "error", error.message, error.body?.errors ?? []);
  }
}

$("#timeline").addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.view) viewRevision(button.dataset.view).catch(failed);
  if (button.dataset.rollback) startRollback(Number(button.dataset.rollback)).catch(failed);
});

$("#older").addEventListener("click", async () => {
  try {
    const before = $("#older").dataset.before;
    const { head, revisions } = await api(`/api/config/history?limit=${PAGE}&before=${before}`);
    $("#timeline tbody").insertAdjacentHTML("beforeend", rowsHtml(revisions, head));
    olderButton(revisions);
  } catch (error) {
    failed(error);
  }
});

document.addEventListener("config-changed", () => loadTimeline().catch(failed));

$("#validate").addEventListener("click", async () => {
  const form = $("#plan-form");
  try {
    const r = await api("/api/config/validate", {
      text: form.text.value,
      filename: form.dataset.filename || "pasted.yaml",
    });
    showMessage(
      message,
      "ok",
      `Valid: ${r.sources} source${r.sources === 1 ? "" : "s"}${
        r.defaults ? ", with defaults" : ""
      }. Nothing was sent to etcd; Plan shows what it would change.`,
    );
  } catch (error) {
    failed(error);
  }
});

$("#diff-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  showDiff(form.from.value, form.to.value).catch(failed);
});

$("#load-revision").addEventListener("click", () => {
  $("#plan-form").text.value = $("#revision-panel").dataset.yaml ?? "";
  $("#plan-form").text.focus();
});

$("#plan-form").file.addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  $("#plan-form").text.value = await file.text();
  $("#plan-form").dataset.filename = file.name;
});

$("#plan-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const filename = form.dataset.filename || "pasted.yaml";
  showMessage(message, "info", "");
  try {
    const plan = await api("/api/config/plan", { text: form.text.value, filename });
    planned = { base: plan.base, text: form.text.value, filename };
    $("#plan-result").hidden = false;
    $("#plan-base").textContent = plan.base;
    $("#plan-text").innerHTML = planHtml(plan.text);
    $("#apply-form").querySelector("button").disabled = plan.plan.empty;
    if (plan.plan.empty) {
      showMessage(message, "info", "Nothing to change: the head already is this state.");
    }
  } catch (error) {
    $("#plan-result").hidden = true;
    failed(error);
  }
});

$("#plan-form").text.addEventListener("input", () => {
  // An edited text needs a new plan before it can be applied.
  if (planned) $("#apply-form").querySelector("button").disabled = true;
});

$("#apply-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!planned) return;
  const form = event.target;
  try {
    const r = await api("/api/config/apply", {
      ...planned,
      message: form.message.value,
      author: form.author.value || undefined,
    });
    showMessage(
      message,
      "ok",
      r.appended
        ? `${
          r.created ? "Applied" : "Already applied"
        } as revision ${r.appended.seq} by ${r.appended.author}.`
        : "Nothing to change.",
    );
    $("#plan-result").hidden = true;
    form.message.value = "";
    planned = null;
    await loadTimeline();
  } catch (error) {
    failed(error);
  }
});

$("#rollback-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    const r = await api("/api/config/rollback", {
      revision: Number(form.revision.value),
      base: Number(form.dataset.base),
      message: form.message.value,
      author: $("#apply-form").author.value || undefined,
    });
    showMessage(
      message,
      "ok",
      r.appended
        ? `Rolled back to revision ${form.revision.value}: appended revision ${r.appended.seq} by ${r.appended.author}.`
        : `Nothing to change: the head already is the state of revision ${form.revision.value}.`,
    );
    $("#rollback-panel").hidden = true;
    form.message.value = "";
    await loadTimeline();
  } catch (error) {
    failed(error);
  }
});

$("#rollback-cancel").addEventListener("click", () => ($("#rollback-panel").hidden = true));

loadTimeline().catch(failed);
