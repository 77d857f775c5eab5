// The config page's import section: a Go logagent value (pasted, uploaded, or read from an etcd
// key) → plan → reason → import, through /api/config/import/* (config:import's conversion, the
// same conflict handling as apply).
import { api, planHtml, showMessage } from "./common.js";

const $ = (selector) => document.querySelector(selector);
const form = $("#import-form");
const message = $("#import-message");
let planned = null; // the request of the plan on screen, with its base

/** What the form asks to import: format, host and the value or the key. */
function request() {
  const fromKey = form.from.value === "key";
  return {
    format: form.format.value,
    host: form.host.value.trim() || undefined,
    ...(fromKey ? { key: form.key.value.trim() } : {
      text: form.text.value,
      filename: form.dataset.filename || undefined,
    }),
  };
}

function showFrom() {
  const fromKey = form.from.value === "key";
  $("#import-text").hidden = fromKey;
  $("#import-key").hidden = !fromKey;
  $("#import-host").hidden = form.format.value !== "logagent-host-key";
}

function stale() {
  // A changed form needs a new plan before it can be imported.
  if (planned) $("#import-apply-form").querySelector("button").disabled = true;
}

function failed(error) {
  showMessage(
    message,
    "error",
    error.status === 409
      ? `${error.message}\n\nPlan the import again to review it against revision ${error.body.head}.`
      : error.message,
    error.body?.errors ?? [],
  );
}

form.addEventListener("change", (event) => {
  if (event.target.name === "from" || event.target.name === "format") showFrom();
  stale();
});
form.addEventListener("input", stale);

form.file.addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  form.text.value = await file.text();
  form.dataset.filename = file.name;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showMessage(message, "info", "");
  try {
    const body = request();
    const plan = await api("/api/config/import/plan", body);
    planned = { ...body, base: plan.base };
    $("#import-result").hidden = false;
    $("#import-of").textContent = plan.import_of;
    $("#import-base").textContent = plan.base;
    $("#import-plan").innerHTML = planHtml(
      `${plan.sources} source${plan.sources === 1 ? "" : "s"} in the value.\n${plan.text}`,
    );
    $("#import-apply-form").querySelector("button").disabled = plan.plan.empty;
    $("#import-apply-form").message.placeholder = `import ${plan.import_of.replace(":", " from ")}`;
    if (plan.plan.empty) {
      showMessage(message, "info", "Nothing to change: the head already has these sources.");
    }
  } catch (error) {
    $("#import-result").hidden = true;
    failed(error);
  }
});

$("#import-apply-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!planned) return;
  const apply = event.target;
  try {
    const r = await api("/api/config/import", {
      ...planned,
      message: apply.message.value,
      author: apply.author.value || undefined,
    });
    showMessage(
      message,
      "ok",
      r.appended
        ? `${
          r.created ? "Imported" : "Already imported"
        } as revision ${r.appended.seq} by ${r.appended.author}.`
        : "Nothing to change.",
    );
    $("#import-result").hidden = true;
    apply.message.value = "";
    planned = null;
    document.dispatchEvent(new CustomEvent("config-changed"));
  } catch (error) {
    failed(error);
  }
});

showFrom();
