// The dashboard's script: routes on the URL's fragment, polls its view's data, and redraws a
// part of the page only when its data changed, in one synchronous swap (no blank frame, so no
// flicker). Polling stops while the tab is hidden and resumes at once when it is shown again.
// The API token is asked once and kept in this tab's session storage (or taken from a
// `#token=...` fragment, which is then removed from the address bar).
"use strict";

const POLL_MS = 2000;
const TOKEN_KEY = "podrunner.token";
const STATES = ["queued", "up_for_reschedule", "running", "success", "failed"];
const ROW_FIELDS = [
  "dag_id", "task_id", "run_id", "map_index", "try_number", "state", "namespace", "pod_name",
  "pod_uid", "priority", "queued_at", "launched_at", "started_at", "ended_at", "updated_at",
  "pod_phase", "resource_version", "exit_code", "failure_reason", "relaunch_count",
  "republish_count",
];

const $ = (selector) => document.querySelector(selector);
const shown = {};  // the JSON last drawn, per part of the page
let timer = null;

class Unauthorized extends Error {}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

// Redraw `key` with `draw(data)` only when `data` differs from what it shows.
function update(key, data, draw) {
  const json = JSON.stringify(data);
  if (shown[key] === json) return;
  shown[key] = json;
  draw(data);
}

function replaceRows(tbody, rows) {
  const fragment = document.createDocumentFragment();
  for (const row of rows) fragment.append(row);
  tbody.replaceChildren(fragment);
}

function time(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  return at.toLocaleString(undefined, { hour12: false });
}

function seconds(value) {
  if (value === null || value === undefined) return "–";
  return value < 10 ? `${value.toFixed(2)} s` : `${value.toFixed(1)} s`;
}

function stateCell(state) {
  return el("td", { class: `state state-${state}`, "data-state": state, text: state });
}

// ---- the token and the server

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function fetchJson(path) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch(path, { headers, cache: "no-store" });
  if (response.status === 401) throw new Unauthorized(token() ? "the token was refused" : "a token is required");
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error((body.error && body.error.message) || `${path}: HTTP ${response.status}`);
  }
  return response.json();
}

function showLogin(message) {
  for (const view of document.querySelectorAll(".view")) view.hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message;
  $("#token").focus();
}

$("#login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
  $("#token").value = "";
  $("#login").hidden = true;
  refresh();
});

// ---- routes: #/now, #/flow, #/tasks?filters, #/task?key, #/failures

function route() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  return { view: path || "now", params: new URLSearchParams(query || "") };
}

function go(view, params) {
  const query = params && params.toString();
  location.hash = `#/${view}${query ? `?${query}` : ""}`;
}

const VIEWS = { now: drawNow, flow: drawFlow, tasks: drawTasks, task: drawTask, failures: drawFailures };

async function refresh() {
  clearTimeout(timer);
  timer = null;
  if (document.hidden) return;  // resumed by visibilitychange
  const { view, params } = route();
  const draw = VIEWS[view] || drawNow;
  try {
    await draw(params);
    for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
    for (const link of document.querySelectorAll("nav a")) {
      link.classList.toggle("active", link.dataset.view === view || (view === "task" && link.dataset.view === "tasks"));
    }
    $("#error").textContent = "";
    $("#updated").textContent = `updated ${new Date().toLocaleTimeString(undefined, { hour12: false })}`;
  } catch (error) {
    if (error instanceof Unauthorized) {
      showLogin(error.message);
      return;  // no polling until a token is given
    }
    $("#error").textContent = error.message;
  }
  timer = setTimeout(refresh, POLL_MS);
}

// ---- Now

async function drawNow() {
  const now = await fetchJson("/ui/data/now");
  update("now-totals", [now.namespaces, now.dead_letters], () => {
    const totals = Object.fromEntries(STATES.map((state) => [state, 0]));
    for (const ns of now.namespaces) for (const [state, n] of Object.entries(ns.states)) totals[state] += n;
    const dead = now.dead_letters.error ? "?" : now.dead_letters.value;
    const tiles = STATES.map((state) => el("div", { class: "tile", "data-total": state },
      el("div", { class: `value state-${state}`, text: String(totals[state]) }),
      el("div", { class: "label", text: state })));
    tiles.push(el("div", { class: "tile", "data-total": "dead-letters" },
      el("div", { class: "value", text: String(dead) }), el("div", { class: "label", text: "dead letters" })));
    $("#totals").replaceChildren(...tiles);
  });
  update("now-namespaces", now.namespaces, (namespaces) => {
    replaceRows($("#namespaces tbody"), namespaces.map((ns) => el("tr", { "data-namespace": ns.namespace },
      el("td", { text: ns.namespace }),
      ...STATES.map((state) => el("td", { class: `num state-${state}`, "data-state": state, text: String(ns.states[state] || 0) })),
      el("td", {}, slotBar(ns)),
      el("td", { class: "num", text: ns.queued_jobs.error ? "?" : String(ns.queued_jobs.value) }))));
  });
  update("now-replicas", now.replicas, (replicas) => {
    const rows = replicas.error ? [el("tr", {}, el("td", { colspan: "5", class: "error", text: replicas.error }))]
      : replicas.value.map(replicaRow);
    replaceRows($("#replicas tbody"), rows);
  });
}

function slotBar(ns) {
  if (ns.active_pods.error) return "?";
  const used = ns.active_pods.value;
  const bar = el("span", { class: used >= ns.max_active_pods ? "bar full" : "bar" }, el("span"));
  bar.firstChild.style.width = `${Math.min(100, (100 * used) / ns.max_active_pods)}%`;
  return el("span", {}, bar, `${used} / ${ns.max_active_pods}`);
}

function replicaRow(replica) {
  let health = "ok";
  let tone = "health-ok";
  if (replica.silent) {
    health = "silent: no report";
    tone = "health-silent";
  } else if ((replica.stalled || []).length) {
    health = `stalled: ${replica.stalled.join(", ")}`;
    tone = "health-bad";
  } else if (Object.keys(replica.failing || {}).length) {
    health = `not ready: ${Object.entries(replica.failing).map(([name, why]) => `${name} (${why})`).join("; ")}`;
    tone = "health-bad";
  }
  return el("tr", { "data-service": replica.service },
    el("td", { text: replica.service }), el("td", { text: replica.holder }),
    el("td", { class: "num", text: String(replica.port ?? "") }),
    el("td", { class: `wrap ${tone}`, text: health }),
    el("td", { text: `${Math.round(replica.age_s)} s ago` }));
}

// ---- Flow

async function drawFlow() {
  const flow = await fetchJson("/ui/data/flow");
  update("flow-chart", flow, () => {
    $("#chart").replaceChildren(chart(flow));
    const l = flow.latency_s;
    $("#latency").replaceChildren(
      latencyTile("submit → start, p50", l.start_p50), latencyTile("submit → start, p99", l.start_p99),
      latencyTile("submit → end, p50", l.end_p50), latencyTile("submit → end, p99", l.end_p99));
  });
}

function latencyTile(label, value) {
  return el("div", { class: "tile" }, el("div", { class: "value", text: seconds(value) }), el("div", { class: "label", text: label }));
}

function chart(flow) {
  const width = 1200, height = 260, left = 44, bottom = 22, top = 10;
  const series = ["submitted", "started", "finished"];
  const most = Math.max(1, ...series.flatMap((name) => flow[name]));
  const x = (i) => left + (i * (width - left - 10)) / Math.max(1, flow.minutes.length - 1);
  const y = (n) => top + (height - top - bottom) * (1 - n / most);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img" });
  for (const fraction of [0, 0.5, 1]) {
    const at = y(most * fraction);
    root.append(svg("line", { class: "axis", x1: left, x2: width - 10, y1: at, y2: at }));
    const label = svg("text", { x: left - 6, y: at + 4, "text-anchor": "end" });
    label.textContent = String(Math.round(most * fraction));
    root.append(label);
  }
  flow.minutes.forEach((minute, i) => {
    if (i % 10 !== 0 && i !== flow.minutes.length - 1) return;
    const anchor = i === 0 ? "start" : i === flow.minutes.length - 1 ? "end" : "middle";
    const label = svg("text", { x: x(i), y: height - 6, "text-anchor": anchor });
    label.textContent = new Date(minute).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hour12: false });
    root.append(label);
  });
  for (const name of series) {
    const points = flow[name].map((n, i) => `${x(i).toFixed(1)},${y(n).toFixed(1)}`).join(" ");
    root.append(svg("polyline", { class: name, points, "data-series": name }));
  }
  return root;
}

// ---- Tasks

const FILTERS = ["dag_id", "run_id", "state", "namespace", "reason", "since", "until"];

function localInput(iso) {  // an ISO instant as a datetime-local value, in local time
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  return new Date(at.getTime() - at.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
}

async function drawTasks(params) {
  const query = new URLSearchParams();
  for (const [name, value] of params) if (value) query.set(name, value);
  const page = await fetchJson(`/ui/data/tasks?${query}`);
  const form = $("#filters");
  if (document.activeElement === document.body || !form.contains(document.activeElement)) {
    for (const name of FILTERS) {
      const value = params.get(name) || "";
      form.elements[name].value = name === "since" || name === "until" ? (value && localInput(value)) : value;
    }
  }
  const sort = params.get("sort") || "queued_at";
  const order = params.get("order") || "desc";
  for (const th of document.querySelectorAll("#tasks th[data-sort]")) {
    th.classList.toggle("sorted-asc", th.dataset.sort === sort && order === "asc");
    th.classList.toggle("sorted-desc", th.dataset.sort === sort && order === "desc");
  }
  update("tasks", page, () => {
    replaceRows($("#tasks tbody"), page.rows.map(taskRow));
    const first = page.total ? (page.page - 1) * page.page_size + 1 : 0;
    const last = (page.page - 1) * page.page_size + page.rows.length;
    $("#tasks-range").textContent = `${first}–${last} of ${page.total}`;
    $("#tasks-range").dataset.total = String(page.total);
    $("#prev").disabled = page.page <= 1;
    $("#next").disabled = last >= page.total;
  });
}

function taskRow(row) {
  const key = new URLSearchParams({ dag_id: row.dag_id, task_id: row.task_id, run_id: row.run_id, map_index: row.map_index });
  return el("tr", { class: "link", "data-task": row.task_id, onclick: () => go("task", key) },
    el("td", { text: row.dag_id }), el("td", { text: row.task_id }), el("td", { text: row.run_id }),
    el("td", { class: "num", text: String(row.map_index) }), el("td", { class: "num", text: String(row.try_number) }),
    stateCell(row.state), el("td", { text: row.namespace }), el("td", { text: time(row.queued_at) }),
    el("td", { text: time(row.started_at) }), el("td", { text: time(row.ended_at) }),
    el("td", { class: "reason", text: row.failure_reason || "" }));
}

function tasksWith(changes) {
  const params = route().params;
  for (const [name, value] of Object.entries(changes)) {
    if (value === "" || value === null) params.delete(name);
    else params.set(name, value);
  }
  go("tasks", params);
}

$("#filters").addEventListener("submit", (event) => {
  event.preventDefault();
  const changes = { page: null };
  for (const name of FILTERS) {
    const value = event.target.elements[name].value.trim();
    changes[name] = (name === "since" || name === "until") && value ? new Date(value).toISOString() : value;
  }
  tasksWith(changes);
});
$("#filters").addEventListener("reset", () => go("tasks"));
$("#prev").addEventListener("click", () => tasksWith({ page: Math.max(1, Number(route().params.get("page") || 1) - 1) }));
$("#next").addEventListener("click", () => tasksWith({ page: Number(route().params.get("page") || 1) + 1 }));
for (const th of document.querySelectorAll("#tasks th[data-sort]")) {
  th.addEventListener("click", () => {
    const params = route().params;
    const same = (params.get("sort") || "queued_at") === th.dataset.sort;
    const order = same && (params.get("order") || "desc") === "desc" ? "asc" : "desc";
    tasksWith({ sort: th.dataset.sort, order, page: null });
  });
}

// ---- One task

async function drawTask(params) {
  const task = await fetchJson(`/ui/data/task?${params}`);
  const row = task.row;
  update("task-row", row, () => {
    $("#task-title").textContent = `${row.dag_id} / ${row.task_id} / ${row.run_id} [${row.map_index}] — ${row.state}`;
    $("#task-reason").textContent = row.failure_reason || "";
    replaceRows($("#task-row tbody"), ROW_FIELDS.map((name) => el("tr", { "data-field": name },
      el("th", { text: name }), el("td", { text: row[name] === null ? "" : String(row[name]) }))));
    $("#task-job").textContent = JSON.stringify(row.job, null, 2);
  });
  update("task-events", [task.events, task.events_error], () => {
    replaceRows($("#task-events tbody"), task.events.map((event) => el("tr", { "data-phase": event.phase },
      el("td", { text: time(event.observed_at) }), el("td", { text: event.phase }),
      el("td", { class: "wrap", text: [event.reason, event.waiting_reason, event.terminated_reason].filter(Boolean).join(", ") }),
      el("td", { class: "num", text: event.exit_code === null ? "" : String(event.exit_code) }),
      el("td", { text: event.deleted ? "deleted" : event.deletion_requested ? "deleting" : "" }),
      el("td", { text: event.resource_version || "" }))));
    $("#task-events-note").textContent = task.events_error || (task.events.length ? "" : "no events recorded for this pod");
  });
  update("task-log", task.log, () => {
    const log = $("#task-log");
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent = task.log.text || "(empty)";
    if (atEnd) log.scrollTop = log.scrollHeight;  // follow a live log unless scrolled back
    const source = task.log.source === "pod" ? "live from the pod" : "stored in the row";
    $("#task-log-source").textContent = task.log.pod_error ? `${source} (pod: ${task.log.pod_error})` : source;
  });
}

// ---- Failures

async function drawFailures() {
  const failures = await fetchJson("/ui/data/failures");
  update("failures", failures, () => {
    const hourAgo = new Date(Date.now() - 3600e3).toISOString();
    const dayAgo = new Date(Date.now() - 86400e3).toISOString();
    const link = (reason, since, count) => {
      const params = new URLSearchParams({ state: "failed", reason, since });
      return el("a", { href: `#/tasks?${params}`, text: String(count) });
    };
    replaceRows($("#failures tbody"), failures.reasons.map((group) => el("tr", { "data-reason": group.reason },
      el("td", { class: "reason", text: group.reason }),
      el("td", { class: "num" }, link(group.reason, hourAgo, group.last_hour)),
      el("td", { class: "num" }, link(group.reason, dayAgo, group.last_day)),
      el("td", { text: time(group.latest) }))));
  });
}

// ---- start

window.addEventListener("hashchange", refresh);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
  else clearTimeout(timer);
});
if (location.hash.startsWith("#token=")) {
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(location.hash.slice("#token=".length)));
  history.replaceState(null, "", `${location.pathname}#/now`);
}
refresh();
