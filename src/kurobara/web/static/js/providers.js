// The Providers dashboard: live statuses from the server-sent event stream, "Test now", the
// user's check interval and (for admins) per-provider check settings. The server renders the
// first view (web/dashboard.py); this module only keeps it current.
import { api, apiUrl, ApiError } from "./api.js";

const LABELS = { active: "Up", down: "Down", unknown: "Unknown", testing: "Testing", disabled: "Disabled" };
const INTERVALS = { 30: "30 minutes", 60: "1 hour", 120: "2 hours", 1440: "1 day", 10080: "1 week", 43200: "30 days" };
const RECONNECT_MAX_MS = 30_000;

const rows = () => document.querySelectorAll("tr.provider-row");
const rowOf = (id) => document.querySelector(`tr.provider-row[data-provider-id="${CSS.escape(id)}"]`);
const field = (row, name) => row.querySelector(`[data-field="${name}"]`);

// -- formatting (the same steps as web/dashboard.py) ------------------------------------------

export function formatMs(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function relativeTime(date, now = new Date()) {
  const seconds = Math.max(0, Math.floor((now - date) / 1000));
  if (seconds < 10) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  const days = Math.floor(seconds / 86400);
  return `${days} day${days === 1 ? "" : "s"} ago`;
}

function absoluteTime(date) {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function formatInterval(minutes) {
  if (INTERVALS[minutes]) return INTERVALS[minutes];
  if (minutes % 1440 === 0) return `${minutes / 1440} day${minutes === 1440 ? "" : "s"}`;
  if (minutes % 60 === 0) return `${minutes / 60} hours`;
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

// -- row updates ------------------------------------------------------------------------------

function setStatus(row, status) {
  const shown = row.dataset.enabled === "false" ? "disabled" : status;
  row.dataset.status = shown;
  for (const cls of [...row.classList]) if (cls.startsWith("row-")) row.classList.remove(cls);
  row.classList.add(`row-${shown}`);
  const badge = field(row, "badge");
  badge.className = `badge status status-${shown}`;
  badge.dataset.status = shown;
  badge.textContent = LABELS[shown] ?? shown;
  updateSummary();
}

function setLastCheck(row, iso) {
  const time = field(row, "last-check");
  const date = new Date(iso);
  row.dataset.lastCheck = iso;
  time.dateTime = iso;
  time.title = absoluteTime(date);
  time.classList.remove("muted");
  time.textContent = relativeTime(date);
}

function setError(row, kind, message, httpStatus, words, stage) {
  const cell = field(row, "error");
  cell.replaceChildren();
  if (!kind && !message) {
    const none = document.createElement("span");
    none.className = "muted";
    none.textContent = "—";
    cell.append(none);
    return;
  }
  const kindEl = document.createElement("span");
  kindEl.className = "error-kind";
  kindEl.textContent = (kind || "error") + (httpStatus ? ` ${httpStatus}` : "");
  // The server says the error in words (error_words); the raw text stays one click away.
  const messageEl = document.createElement("span");
  messageEl.className = "error-message";
  messageEl.textContent = words ?? message ?? "";
  cell.append(kindEl, " ");
  if (stage) {
    const stageEl = document.createElement("span");
    stageEl.className = "error-stage";
    stageEl.title = "The stage of the health probe that failed";
    stageEl.textContent = `at ${stage}`;
    cell.append(stageEl, " ");
  }
  cell.append(messageEl);
  if (message && message !== messageEl.textContent) {
    const details = document.createElement("details");
    details.className = "error-details";
    const summary = document.createElement("summary");
    summary.textContent = "Details";
    const code = document.createElement("code");
    code.textContent = message;
    details.append(summary, code);
    cell.append(details);
  }
}

function addBeat(row, { ok, timestamp, responseTime, errorKind, errorWords }) {
  const bar = field(row, "heartbeat");
  const when = absoluteTime(new Date(timestamp));
  const tick = document.createElement("span");
  tick.className = ok ? "ok" : "fail";
  tick.title = ok
    ? `${when} · up · ${formatMs(responseTime)}`
    : `${when} · down · ${errorWords || errorKind || "error"}`;
  tick.classList.add("is-new");
  bar.append(tick);
  const size = Number(bar.dataset.size) || 40;
  while (bar.children.length > size) bar.firstElementChild.remove();
  const ticks = [...bar.children].filter((el) => !el.classList.contains("none"));
  const good = ticks.filter((el) => el.classList.contains("ok")).length;
  bar.setAttribute("aria-label", `${good} of ${ticks.length} recent checks succeeded`);
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Redraw the row's response-time sparkline from a check event's shape. The points are the
 * server's (monitoring/rules.sparkline_shape), so page and live row scale alike. */
function drawSparkline(row, shape) {
  const svg = row.querySelector("svg.sparkline");
  if (!svg || !shape) return;
  const [, , width, height] = svg.getAttribute("viewBox").split(" ").map(Number);
  const summary = shape.count
    ? `Response time: ${shape.count} checks, ${formatMs(shape.low)} to ${formatMs(shape.high)}`
    : "Response time: no data";
  const title = document.createElementNS(SVG_NS, "title");
  title.textContent = summary;
  const parts = [title];
  if (shape.count) {
    const line = document.createElementNS(SVG_NS, "path");
    line.setAttribute("d", shape.line);
    parts.push(line);
    if (shape.end) {
      const end = document.createElementNS(SVG_NS, "path");
      end.setAttribute("class", "sparkline-end");
      end.setAttribute("d", shape.end);
      parts.push(end);
    }
  } else {
    const empty = document.createElementNS(SVG_NS, "line");
    empty.setAttribute("class", "sparkline-empty");
    for (const [name, value] of [["x1", 2], ["y1", height / 2], ["x2", width - 2], ["y2", height / 2]]) {
      empty.setAttribute(name, String(value));
    }
    parts.push(empty);
  }
  svg.setAttribute("aria-label", summary);
  svg.replaceChildren(...parts);
}

/** As dashboard.format_percent: truncated, so 99.95 never shows as a "100 %" promise. */
function formatPercent(value) {
  if (value === null || value === undefined) return "—";
  const shown = (Math.trunc(value * 100) / 100).toFixed(2).replace(/\.?0+$/, "");
  return `${shown} %`;
}

function uptimeClass(value) {
  if (value === null || value === undefined) return "uptime-none";
  if (value >= 99) return "uptime-good";
  return value >= 95 ? "uptime-fair" : "uptime-bad";
}

/** The row's uptime cells, from a check event, a "Test now" answer or a provider. */
function setUptimes(row, source) {
  for (const window of ["24h", "7d", "30d"]) {
    const key = `uptime_${window}`;
    if (!(key in source)) continue;
    const cell = field(row, `uptime-${window}`);
    if (!cell) continue;
    cell.className = `uptime ${uptimeClass(source[key])}`;
    cell.replaceChildren(Object.assign(document.createElement("small"), { textContent: window }),
      formatPercent(source[key]));
  }
}

/** Apply a completed check (from the event stream or a "Test now" answer), once. */
function applyCheck(row, check) {
  const at = Date.parse(check.timestamp);
  const seen = Number(row.dataset.appliedAt || 0);
  if (at && at <= seen) {
    // Already shown (the stream and the POST answer report the same check); still settle the
    // status, which a "testing" event may have changed in between.
    if (check.status) setStatus(row, check.status);
    drawSparkline(row, check.sparkline); // only events carry it
    return;
  }
  row.dataset.appliedAt = String(at);
  if (check.status) setStatus(row, check.status);
  setUptimes(row, check);
  if (check.is_success) field(row, "response").textContent = formatMs(check.response_time);
  setLastCheck(row, check.timestamp);
  if (check.is_success) setError(row, null, null);
  else setError(row, check.error_kind, check.error_message, check.http_status, check.error_words, check.stage);
  addBeat(row, {
    ok: check.is_success,
    timestamp: check.timestamp,
    responseTime: check.response_time,
    errorKind: check.error_kind,
    errorWords: check.error_words,
  });
  drawSparkline(row, check.sparkline);
}

/** Apply a provider as GET /providers/ or PATCH .../status return it. */
function applyProvider(row, provider) {
  row.dataset.enabled = provider.is_enabled ? "true" : "false";
  row.classList.toggle("is-disabled", !provider.is_enabled);
  row.dataset.override = provider.check_interval_override ?? "";
  setStatus(row, provider.status);
  setUptimes(row, provider);
  field(row, "response").textContent = formatMs(provider.response_time);
  if (provider.last_check && provider.last_check !== row.dataset.lastCheck) setLastCheck(row, provider.last_check);
  if (provider.status !== "testing") {
    setError(row, provider.error_kind, provider.error_message, provider.http_status, provider.error_words, provider.stage);
  }
  const test = row.querySelector('[data-action="test"]');
  test.disabled = !provider.is_enabled;
  const toggle = row.querySelector('[data-action="toggle"]');
  if (toggle) toggle.setAttribute("aria-checked", provider.is_enabled ? "true" : "false");
  setIntervalText(row, provider.effective_check_interval, provider.check_interval_override);
}

function setIntervalText(row, minutes, override) {
  const holder = field(row, "interval");
  field(row, "interval-text").textContent = formatInterval(minutes);
  holder.querySelector(".override-mark")?.remove();
  holder.title = `Checked every ${formatInterval(minutes)}${override !== null && override !== undefined ? " (set by an admin)" : ""}`;
  if (override !== null && override !== undefined) {
    const mark = document.createElement("span");
    mark.className = "override-mark";
    mark.title = "Set by an admin";
    mark.textContent = "*";
    holder.append(mark);
  }
}

function updateSummary() {
  const counts = { active: 0, down: 0, testing: 0, unknown: 0, disabled: 0 };
  for (const row of rows()) counts[row.dataset.status] = (counts[row.dataset.status] ?? 0) + 1;
  for (const [key, value] of Object.entries(counts)) {
    const el = document.querySelector(`[data-count="${key}"]`);
    if (el) el.textContent = String(value);
  }
  const overall = document.querySelector("[data-overall]");
  if (!overall) return;
  const enabled = [...rows()].length - counts.disabled;
  let state = "unknown";
  let text = "Waiting for checks";
  if (counts.down) {
    state = "down";
    text = `${counts.down} of ${enabled} providers down`;
  } else if (enabled && counts.active === enabled) {
    state = "active";
    text = "All providers operational";
  } else if (counts.testing) {
    state = "testing";
    text = "Checking providers…";
  } else if (!enabled && [...rows()].length) {
    text = "Every provider is disabled";
  }
  overall.className = `overall overall-${state}`;
  overall.dataset.status = state;
  overall.querySelector("[data-overall-text]").textContent = text;
}

// The 24 h figures (average uptime, checks and failures, the fastest provider) change with
// every check; they are read again from the server, one definition of each number, shortly
// after events arrive: one request however many events come within STATISTICS_DELAY_MS.
const STATISTICS_DELAY_MS = 2000;
let statisticsTimer = null;

function refreshStatistics() {
  if (statisticsTimer !== null) return;
  statisticsTimer = setTimeout(async () => {
    try {
      applyStatistics(await api.get("/providers/statistics"));
    } catch {
      // The next event asks again.
    } finally {
      statisticsTimer = null;
    }
  }, STATISTICS_DELAY_MS);
}

/** As providers.html renders them. */
function applyStatistics(stats) {
  const sub = document.querySelector("[data-overall-sub]");
  if (sub) {
    const uptime = stats.average_uptime_24h;
    sub.textContent =
      (uptime === null ? "" : `Average uptime ${formatPercent(uptime)} over 24 h · `) +
      `${stats.checks_last_24h} checks, ${stats.failed_checks_last_24h} failed in the last 24 h`;
  }
  const average = document.querySelector("[data-average-uptime]");
  if (average) average.textContent = formatPercent(stats.average_uptime_24h);
  const fastestMs = document.querySelector("[data-fastest-ms]");
  if (fastestMs) fastestMs.textContent = stats.fastest ? formatMs(stats.fastest.response_time) : "—";
  const fastestName = document.querySelector("[data-fastest-name]");
  if (fastestName) fastestName.textContent = stats.fastest ? `: ${stats.fastest.provider_name}` : "";
}

function refreshTimes() {
  for (const time of document.querySelectorAll('time[data-field="last-check"][datetime]')) {
    time.textContent = relativeTime(new Date(time.dateTime));
  }
}

// -- live events ------------------------------------------------------------------------------

function setLive(state, text) {
  const indicator = document.querySelector("[data-live-indicator]");
  if (!indicator) return;
  indicator.dataset.state = state;
  indicator.querySelector("[data-live-text]").textContent = text;
}

// One ring around the live dot: the stream opened, or an event just arrived.
function pingLive() {
  const dot = document.querySelector("[data-live-indicator] .live-dot");
  if (!dot) return;
  dot.classList.remove("is-pinged");
  void dot.offsetWidth; // restart the animation when events come faster than it runs
  dot.classList.add("is-pinged");
}

// Events are numbered as they arrive, and each row keeps the number of its last one.
let eventsSeen = 0;

function noteEvent(row) {
  eventsSeen += 1;
  row.dataset.eventSeen = String(eventsSeen);
}

async function catchUp() {
  // Events sent while the stream was down are lost; the list says where things stand now.
  // A row that got an event while the list was on its way already knows better: the stream was
  // open, so the event is at least as new as the list's row, which is left unapplied.
  const asked = eventsSeen;
  try {
    const providers = await api.get("/providers/");
    for (const provider of providers) {
      const row = rowOf(provider.provider_id);
      if (row && Number(row.dataset.eventSeen ?? 0) <= asked) applyProvider(row, provider);
    }
    refreshStatistics();
  } catch {
    // The next reconnect tries again.
  }
}

function connect() {
  let source = null;
  let delay = 1000;
  let timer = null;

  const open = () => {
    timer = null;
    source = new EventSource(apiUrl("/providers/events"));
    source.addEventListener("open", () => {
      delay = 1000;
      setLive("live", "Live");
      pingLive();
      // Whatever changed before this stream opened (since the page was rendered, or while a
      // lost stream was down) is in the list, not in the stream.
      catchUp();
    });
    source.addEventListener("testing", (event) => {
      pingLive();
      const data = JSON.parse(event.data);
      const row = rowOf(data.provider_id);
      if (!row) return;
      noteEvent(row);
      if (row.dataset.enabled !== "false") setStatus(row, "testing");
    });
    source.addEventListener("check", (event) => {
      pingLive();
      const data = JSON.parse(event.data);
      const row = rowOf(data.provider_id);
      if (row) {
        noteEvent(row);
        applyCheck(row, data);
      }
      refreshStatistics();
    });
    source.addEventListener("error", () => {
      setLive("reconnecting", "Reconnecting…");
      // EventSource retries a stream that ended by itself; one it gave up on (an error
      // answer, a server restart) is reopened here, backing off.
      if (source.readyState === EventSource.CLOSED && timer === null) {
        source.close();
        timer = setTimeout(open, delay);
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
      }
    });
  };
  open();
  window.addEventListener("pagehide", () => source?.close());
}

// -- actions ----------------------------------------------------------------------------------

async function testNow(row, button) {
  const id = row.dataset.providerId;
  const result = field(row, "result");
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  result.className = "test-result is-running";
  result.textContent = "Checking…";
  setStatus(row, "testing");
  try {
    const check = await api.post(`/providers/${encodeURIComponent(id)}/test`, undefined, { timeout: 120_000 });
    applyCheck(row, check);
    result.className = `test-result ${check.is_success ? "is-ok" : "is-fail"}`;
    result.textContent = check.is_success
      ? `✓ Up · ${formatMs(check.response_time)}`
      : `✗ ${check.error_words || check.error_kind || "failed"}${check.stage ? ` at ${check.stage}` : ""}`;
  } catch (err) {
    result.className = "test-result is-fail";
    result.textContent = err instanceof ApiError ? err.message : "The check could not be started";
    catchUp();
  } finally {
    button.removeAttribute("aria-busy");
    button.disabled = row.dataset.enabled === "false";
  }
}

async function toggleEnabled(row, button) {
  const enable = button.getAttribute("aria-checked") !== "true";
  button.setAttribute("aria-busy", "true");
  try {
    const provider = await api.patch(`/providers/${encodeURIComponent(row.dataset.providerId)}/status`, {
      is_enabled: enable,
    });
    applyProvider(row, provider);
    field(row, "result").textContent = enable ? "Enabled" : "Disabled";
    field(row, "result").className = "test-result";
  } catch (err) {
    field(row, "result").className = "test-result is-fail";
    field(row, "result").textContent = err.message;
  } finally {
    button.removeAttribute("aria-busy");
  }
}

function toggleManage(row, button) {
  const panel = document.getElementById(button.getAttribute("aria-controls"));
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  panel.hidden = !open;
  if (open) panel.querySelector("input:not([disabled])")?.focus();
}

async function saveManage(form) {
  const row = rowOf(form.dataset.providerId);
  const message = form.querySelector('[data-field="manage-message"]');
  const follow = form.elements.follow.checked;
  const interval = Number(form.elements.check_interval.value);
  const threshold = Number(form.elements.max_consecutive_failures.value);
  const problems = [];
  if (!follow && !(Number.isInteger(interval) && interval >= 1 && interval <= 43200)) {
    problems.push("The interval must be a whole number of minutes from 1 to 43200.");
  }
  if (!(Number.isInteger(threshold) && threshold >= 1 && threshold <= 100)) {
    problems.push("The failure threshold must be a whole number from 1 to 100.");
  }
  message.className = "manage-message";
  if (problems.length) {
    message.classList.add("is-fail");
    message.textContent = problems.join(" ");
    return;
  }
  const button = form.querySelector('button[type="submit"]');
  button.setAttribute("aria-busy", "true");
  try {
    const provider = await api.patch(`/providers/${encodeURIComponent(form.dataset.providerId)}/status`, {
      check_interval: follow ? null : interval,
      max_consecutive_failures: threshold,
    });
    applyProvider(row, provider);
    message.classList.add("is-ok");
    message.textContent = `Saved · checked every ${formatInterval(provider.effective_check_interval)}`;
  } catch (err) {
    message.classList.add("is-fail");
    message.textContent = err.message;
  } finally {
    button.removeAttribute("aria-busy");
  }
}

async function saveUserInterval(select) {
  const message = document.querySelector("[data-interval-message]");
  message.className = "interval-message";
  message.textContent = "Saving…";
  try {
    const answer = await api.patch("/providers/check-interval", { interval: Number(select.value) });
    for (const row of rows()) {
      if (row.dataset.override === "") setIntervalText(row, answer.effective_check_interval, null);
    }
    message.classList.add("is-ok");
    message.textContent = `Saved · providers are checked every ${formatInterval(answer.effective_check_interval)}`;
  } catch (err) {
    message.classList.add("is-fail");
    message.textContent = err.message;
  }
}

function init() {
  const table = document.querySelector(".providers-table");
  table?.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("tr.provider-row");
    if (button.dataset.action === "test") testNow(row, button);
    else if (button.dataset.action === "toggle") toggleEnabled(row, button);
    else if (button.dataset.action === "manage") toggleManage(row, button);
  });
  table?.addEventListener("submit", (event) => {
    const form = event.target.closest("form.manage-form");
    if (!form) return;
    event.preventDefault();
    saveManage(form);
  });
  table?.addEventListener("change", (event) => {
    if (event.target.name !== "follow") return;
    const input = event.target.form.elements.check_interval;
    input.disabled = event.target.checked;
    if (!input.disabled) input.focus();
  });
  const intervalForm = document.querySelector("[data-interval-form]");
  intervalForm?.addEventListener("submit", (event) => event.preventDefault());
  intervalForm?.elements.interval.addEventListener("change", (event) => saveUserInterval(event.target));
  setInterval(refreshTimes, 15_000);
  connect();
}

init();
