// The fleet page: every live agent, the revision it runs against the head, health, heartbeat,
// per-source state, lag and errors; polled from /api/fleet every 2 s.
import { ago, api, esc } from "./common.js";

const $ = (selector) => document.querySelector(selector);

function bytes(n) {
  if (n === undefined) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

function sourcesHtml(agent) {
  const items = agent.sources.map((s) =>
    `<li><span class="badge ${
      s.state === "running" ? "ok" : s.state === "error" ? "bad" : "warn"
    }">${esc(s.state)}</span>
      <b>${esc(s.id)}</b> <span class="muted">${s.files} file${s.files === 1 ? "" : "s"}${
      s.lag_bytes ? `, lag ${bytes(s.lag_bytes)}` : ""
    }</span>${s.last_error ? `<div class="error-text">${esc(s.last_error)}</div>` : ""}</li>`
  );
  for (const id of agent.missing) {
    items.push(`<li><span class="badge warn">missing</span> <b>${esc(id)}</b></li>`);
  }
  return items.length
    ? `<ul class="plain">${items.join("")}</ul>`
    : '<span class="muted">none</span>';
}

function row(agent, head) {
  const labels = Object.entries(agent.labels).map(([k, v]) =>
    `<span class="label">${esc(k)}=${esc(v)}</span>`
  ).join(" ");
  const revision = agent.seq === head
    ? `${agent.seq} <span class="badge ok">head</span>`
    : `${agent.seq} <span class="badge warn">behind ${head - agent.seq}</span>`;
  const problems = [...agent.reasons, ...(agent.last_error ? [agent.last_error] : [])];
  return `<tr data-agent="${esc(agent.agent_id)}">
    <td><b>${esc(agent.agent_id)}</b><div class="muted">${esc(agent.host)} · v${
    esc(agent.version)
  }</div></td>
    <td>${labels || '<span class="muted">none</span>'}</td>
    <td class="num">${revision}</td>
    <td><span class="badge ${
    agent.health === "ok" ? "ok" : agent.health === "behind" ? "warn" : "bad"
  }">${esc(agent.health)}</span></td>
    <td>${ago(agent.heartbeat_age_s)}</td>
    <td>${sourcesHtml(agent)}</td>
    <td>${problems.map((p) => `<div class="error-text">${esc(p)}</div>`).join("")}</td>
  </tr>`;
}

async function refresh() {
  try {
    const fleet = await api("/api/fleet");
    const n = fleet.agents.length;
    $("#fleet-summary").innerHTML = `head: revision ${fleet.head} · ${n} agent${
      n === 1 ? "" : "s"
    } · ${
      fleet.converged
        ? '<span class="badge ok">converged</span>'
        : '<span class="badge warn">not converged</span>'
    }`;
    $("#fleet tbody").innerHTML = fleet.agents.map((a) => row(a, fleet.head)).join("") ||
      '<tr><td colspan="7" class="muted">No live agents. Start one with: deno task agent</td></tr>';
    $("#fleet-updated").textContent = `Last update ${new Date(fleet.at).toLocaleTimeString()}.`;
  } catch (error) {
    $("#fleet-updated").textContent = `Update failed: ${error.message}`;
  }
}

refresh();
setInterval(refresh, 2000);
