// What every console page shares: calling the JSON API and building HTML safely.
// Plain browser JavaScript (no build step); served by console/server.ts.

/** Escapes text for HTML. */
export function esc(value) {
  return String(value ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
}

/** An API error with the HTTP status and the body ({error, errors?, head?}). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body ?? {};
  }
}

/** GET or POST (with a JSON body) an API path; throws ApiError on a non-2xx answer. */
export async function api(path, body) {
  const init = body === undefined ? { headers: { accept: "application/json" } } : {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** A message box: kind is "ok", "error" or "info"; field errors are listed under the text. */
export function showMessage(element, kind, text, errors = []) {
  const list = errors.length
    ? `<ul>${
      errors.map((e) => `<li><code>${esc(e.path)}</code> ${esc(e.message)}</li>`).join("")
    }</ul>`
    : "";
  element.innerHTML = text
    ? `<div class="message ${kind}"><pre>${esc(text)}</pre>${list}</div>`
    : "";
}

/** A time as "2024-03-09 12:00:01" in UTC, with the full ISO string as a tooltip. */
export function utc(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return esc(iso);
  return `<time datetime="${esc(iso)}" title="${esc(iso)}">${
    d.toISOString().replace("T", " ").slice(0, 19)
  }</time>`;
}

/** "5 s ago", "3 min ago". */
export function ago(seconds) {
  if (seconds < 0) return "never";
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

/** Plan text with one class per line kind (+ added, - removed, ~ changed). */
export function planHtml(text) {
  return text.split("\n").map((line) => {
    const kind = line.startsWith("+")
      ? "add"
      : line.startsWith("-")
      ? "del"
      : line.startsWith("~")
      ? "chg"
      : "";
    return kind ? `<span class="${kind}">${esc(line)}</span>` : esc(line);
  }).join("\n");
}
