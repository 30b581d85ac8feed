// The Downloads page: the caller's queue (GET /api/v1/downloads) with each chapter's progress,
// refreshed every few seconds while something is still downloading; delete, read and the CBZ.

import { api, apiUrl } from "./api.js";
import { chapterLabel, formatBytes, stateText, usageText } from "./downloads-format.js";
import { showMessage } from "./star.js";

const POLL_MS = 2000;
const list = document.querySelector("[data-download-list]");
const status = document.querySelector("[data-downloads-status]");
const empty = document.querySelector("[data-downloads-empty]");
const usageLine = document.querySelector("[data-downloads-usage]");
const message = document.querySelector("[data-downloads-message]");
const root = document.querySelector('meta[name="kurobara-root"]')?.content ?? "";
let timer = null;

function link(text, href, extra = {}) {
  const a = document.createElement("a");
  a.textContent = text;
  a.href = href;
  Object.assign(a, extra);
  return a;
}

function item(row) {
  const li = document.createElement("li");
  li.dataset.download = row.id;
  li.dataset.state = row.state;
  const text = document.createElement("div");
  text.className = "download-text";
  text.append(link(row.manga_title, `${root}/manga/${row.manga_id}`, { className: "download-manga" }));
  const chapter = document.createElement("span");
  chapter.textContent = chapterLabel(row);
  text.append(chapter);
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = row.progress;
  bar.setAttribute("aria-label", `${chapterLabel(row)} progress`);
  const state = document.createElement("span");
  state.className = `badge download-state state-${row.state}`;
  state.dataset.downloadState = "";
  state.textContent = stateText(row);
  const side = document.createElement("div");
  side.className = "download-side";
  side.append(state, bar);
  if (row.size_bytes) {
    const size = document.createElement("span");
    size.className = "muted";
    size.textContent = formatBytes(row.size_bytes);
    side.append(size);
  }
  if (row.state === "done") {
    side.append(link("Read", `${root}/manga/${row.manga_id}/read/${row.chapter_id}`, { className: "btn btn-sm" }));
    side.append(link("Save CBZ", apiUrl(`/chapters/${row.chapter_id}/download`).href, { className: "btn btn-sm btn-ghost", download: "" }));
  }
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "btn btn-sm btn-danger";
  remove.dataset.deleteDownload = row.id;
  remove.textContent = row.state === "done" ? "Delete" : "Cancel";
  remove.setAttribute("aria-label", `${remove.textContent} ${row.manga_title} ${chapterLabel(row)}`);
  side.append(remove);
  li.append(text, side);
  return li;
}

async function load() {
  clearTimeout(timer);
  try {
    const [rows, usage] = await Promise.all([api.get("/downloads"), api.get("/downloads/usage")]);
    list.replaceChildren(...rows.map(item));
    status.hidden = true;
    empty.hidden = rows.length > 0;
    usageLine.textContent = usageText(usage);
    if (rows.some((row) => ["queued", "running", "waiting"].includes(row.state))) timer = setTimeout(load, POLL_MS);
  } catch (err) {
    status.hidden = true;
    showMessage(message, `The downloads could not be loaded: ${err.message}`, "error");
  }
}

list.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-delete-download]");
  if (!button) return;
  // No confirmation: a deleted chapter is downloaded again with one click.
  const done = button.closest("li").dataset.state === "done";
  button.setAttribute("aria-busy", "true");
  try {
    await api.delete(`/downloads/${button.dataset.deleteDownload}`);
    showMessage(message, done ? "Deleted; the space is free." : "Cancelled.", "success");
    await load();
  } catch (err) {
    showMessage(message, `Not deleted: ${err.message}`, "error");
    button.removeAttribute("aria-busy");
  }
});

load();
