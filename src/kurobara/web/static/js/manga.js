// The manga page: the star, the library form (custom title, rating, notes) and the chapter list
// with the reader's read marks ("mark read up to here", "mark all read"). The list is the one
// stored here; when its provider is down it says so in a banner above it.

import { api } from "./api.js";
import { stateText } from "./downloads-format.js";
import { confirmRemoval, offerUndo, snapshot } from "./removal.js";
import { saveFavorite, setStar, showMessage, toggleStar } from "./star.js";

const article = document.querySelector("[data-manga]");
const mangaId = article.dataset.manga;
const readerBase = article.dataset.readerBase;
const starButton = article.querySelector("[data-star]");
const library = article.querySelector("[data-library]");
const form = library.querySelector("[data-library-form]");
const message = library.querySelector("[data-library-message]");
const saveButton = form.querySelector("[data-save]");
const removeButton = form.querySelector("[data-remove]");

function setInLibrary(inLibrary) {
  library.dataset.inLibrary = String(inLibrary);
  library.querySelector("[data-library-state]").textContent = inLibrary ? "In your library." : "Not in your library yet.";
  saveButton.textContent = inLibrary ? "Save" : "Add to library";
  removeButton.hidden = !inLibrary;
}

function formChanges() {
  const data = new FormData(form);
  const text = (name) => (data.get(name) ?? "").toString().trim() || null;
  const rating = text("rating");
  return { custom_title: text("custom_title"), rating: rating === null ? null : Number(rating), notes: text("notes") };
}

async function busy(button, work) {
  button.setAttribute("aria-busy", "true");
  try {
    await work();
  } catch (err) {
    showMessage(message, `Not saved: ${err.message}`, "error");
  } finally {
    button.removeAttribute("aria-busy");
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(saveButton, async () => {
    const adding = library.dataset.inLibrary !== "true";
    const entry = adding
      ? await api.post(`/library/${mangaId}`, formChanges())
      : await api.patch(`/library/${mangaId}`, formChanges());
    setInLibrary(true);
    setStar(starButton, entry.is_favorite);
    showMessage(message, adding ? "Added to your library." : "Saved.", "success");
  });
});

removeButton.addEventListener("click", async () => {
  if (!(await confirmRemoval("Remove this title from your library?"))) return;
  busy(removeButton, async () => {
    const kept = await snapshot([mangaId]);
    await api.delete(`/library/${mangaId}`);
    setInLibrary(false);
    setStar(starButton, false);
    offerUndo(message, "Removed from your library.", kept, () => {
      setInLibrary(true);
      setStar(starButton, kept[0].body.is_favorite);
    });
  });
});
// Rendered disabled: a click before this module ran would do nothing at all.
removeButton.disabled = false;

starButton.addEventListener("click", async () => {
  const changed = await toggleStar(
    starButton,
    (pressed) => saveFavorite(mangaId, pressed),
    (err) => showMessage(message, `Could not change the favorite: ${err.message}`, "error"),
  );
  // Favoriting puts the manga into the library; unfavoriting keeps it there.
  if (changed && starButton.getAttribute("aria-pressed") === "true") setInLibrary(true);
});

// --- chapters ------------------------------------------------------------------------------

const chapters = article.querySelector(".chapters");
const list = chapters.querySelector("[data-chapter-list]");
const status = chapters.querySelector("[data-chapters-status]");
const errorBox = chapters.querySelector("[data-chapters-error]");

function chapterName(chapter) {
  if (!chapter.number) return chapter.title || "Extra";
  // Many sites already start the title with "Chapter 12"; do not say it twice.
  if (chapter.title?.toLowerCase().startsWith(`chapter ${chapter.number}`.toLowerCase())) return chapter.title;
  return `Chapter ${chapter.number}${chapter.title ? `: ${chapter.title}` : ""}`;
}

function chapterItem(chapter) {
  const item = document.createElement("li");
  item.dataset.chapterId = chapter.id;
  item.classList.toggle("is-read", chapter.read);
  const link = document.createElement("a");
  link.textContent = chapterName(chapter);
  if (chapter.external_url) {
    // Hosted on the publisher's site: no pages here, so the link leads there.
    link.href = chapter.external_url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.dataset.external = "true";
    link.textContent += " ↗ (publisher's site)";
    item.classList.add("is-external");
  } else {
    link.href = readerBase + encodeURIComponent(chapter.id);
  }
  const details = document.createElement("span");
  details.className = "muted";
  const when = chapter.published_at ? new Date(chapter.published_at).toLocaleDateString() : "";
  const where = chapter.read ? "Read" : chapter.last_page ? `Page ${chapter.last_page}` : "";
  details.textContent = [where, chapter.volume && `Vol. ${chapter.volume}`, chapter.scanlator, when].filter(Boolean).join(" · ");
  const upTo = document.createElement("button");
  upTo.type = "button";
  upTo.className = "btn btn-ghost btn-sm";
  upTo.dataset.upTo = chapter.id;
  upTo.textContent = "Mark read up to here";
  upTo.setAttribute("aria-label", `Mark read up to ${chapterName(chapter)}`);
  const side = document.createElement("span");
  side.className = "chapter-side";
  side.append(details, upTo, downloadControl(chapter));
  item.append(link, side);
  return item;
}

// --- downloads: a button per chapter, or its state ("Offline" once its CBZ is here) --------

let downloads = new Map();

function downloadControl(chapter) {
  const row = downloads.get(chapter.id);
  if (row) {
    const mark = document.createElement("span");
    mark.className = `badge download-state state-${row.state}${row.state === "done" ? " offline-mark" : ""}`;
    mark.dataset.downloadState = row.state;
    mark.textContent = stateText(row);
    return mark;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-ghost btn-sm";
  button.dataset.downloadChapter = chapter.id;
  button.textContent = "Download";
  button.setAttribute("aria-label", `Download ${chapterName(chapter)}`);
  return button;
}

async function loadDownloads() {
  try {
    const rows = await api.get("/downloads", { query: { manga_id: mangaId } });
    downloads = new Map(rows.map((row) => [row.chapter_id, row]));
  } catch {
    downloads = new Map(); // the list still shows; the buttons say "Download"
  }
}

const downloadsMessage = article.querySelector("[data-downloads-message]");
const downloadUnread = article.querySelector("[data-download-unread]");

async function queueDownloads(button, send) {
  button.setAttribute("aria-busy", "true");
  try {
    const rows = await send();
    showMessage(downloadsMessage, rows.length ? `${rows.length} chapter${rows.length === 1 ? "" : "s"} queued for download.` : "Nothing to download.", "success");
    await loadChapters().then(pollDownloads);
    pollDownloads();
  } catch (err) {
    showMessage(downloadsMessage, `Not queued: ${err.message}`, "error");
  } finally {
    button.removeAttribute("aria-busy");
  }
}

let downloadTimer = null;
function pollDownloads() {
  clearTimeout(downloadTimer);
  const busy = [...downloads.values()].some((row) => ["queued", "running", "waiting"].includes(row.state));
  if (busy) downloadTimer = setTimeout(() => loadChapters().then(pollDownloads), 2000);
}

const markAll = chapters.querySelector("[data-mark-all]");
const staleBox = chapters.querySelector("[data-chapters-stale]");
const fallbackBox = chapters.querySelector("[data-chapters-fallback]");
const sourcesCard = document.querySelector("[data-sources]");

async function mark(button, body) {
  button.setAttribute("aria-busy", "true");
  try {
    await api.post(`/manga/${mangaId}/chapters/read`, body);
    await loadChapters().then(pollDownloads);
  } catch (err) {
    showMessage(errorBox, `Not marked: ${err.message}`, "error");
  } finally {
    button.removeAttribute("aria-busy");
  }
}

list.addEventListener("click", (event) => {
  const button = event.target.closest("[data-up-to]");
  if (button) mark(button, { up_to: button.dataset.upTo });
  const download = event.target.closest("[data-download-chapter]");
  if (download) queueDownloads(download, () => api.post("/downloads", { chapter_ids: [download.dataset.downloadChapter] }));
});

downloadUnread.addEventListener("click", () => queueDownloads(downloadUnread, () => api.post(`/manga/${mangaId}/download`, { chapters: "unread" })));

function staleText(data) {
  // The monitor may not have noticed yet: a site that just failed still counts as "active".
  const status = ["down", "disabled", "unregistered"].includes(data.provider_status)
    ? `is ${data.provider_status}`
    : "did not answer";
  const why = data.error_kind ? ` (${data.error_kind.replaceAll("_", " ")})` : "";
  const since = data.refreshed_at ? `, as of ${new Date(data.refreshed_at).toLocaleString()}` : "";
  return `${data.provider_id} ${status}${why}: this is the chapter list stored here${since}. New chapters show once it is back.`;
}

function failure(err) {
  const detail = err.detail && typeof err.detail === "object" ? err.detail : null;
  if (err.status === 502 && detail) {
    return `The provider could not list the chapters (${(detail.kind ?? "error").replaceAll("_", " ")}). Try again later.`;
  }
  if (err.status === 503) return `${err.message}.`;
  return `The chapters could not be loaded: ${err.message}`;
}

async function loadChapters() {
  errorBox.hidden = true;
  status.hidden = false;
  status.textContent = "Loading chapters…";
  try {
    const [data] = await Promise.all([api.get(`/manga/${mangaId}/chapters`), loadDownloads()]);
    fallbackBox.hidden = !data.fallback;
    if (data.fallback) fallbackBox.querySelector("[data-message]").textContent = capitalized(data.fallback.message);
    renderSources(data.sources ?? []);
    staleBox.hidden = !data.stale;
    if (data.stale) staleBox.querySelector("[data-message]").textContent = staleText(data);
    markAll.hidden = !data.chapters.some((chapter) => !chapter.read);
    markAll.dataset.ids = JSON.stringify(data.chapters.filter((c) => !c.read).map((c) => c.id));
    downloadUnread.hidden = !data.chapters.some((c) => !c.read && !downloads.has(c.id));
    const newestFirst = [...data.chapters].reverse();
    list.replaceChildren(...newestFirst.map(chapterItem));
    chapters.querySelector("[data-chapter-count]").textContent = data.chapters.length ? `(${data.chapters.length})` : "";
    status.textContent = data.chapters.length ? "" : "The provider lists no chapters for this title yet.";
    status.hidden = data.chapters.length > 0;
  } catch (err) {
    status.hidden = true;
    showMessage(errorBox, failure(err), "error");
  }
}

function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// --- sources: which one answers, "Read from", linking suggestions (docs/failover.md) ---------

function sourceItem(source) {
  const item = document.createElement("li");
  item.dataset.source = source.provider_id;
  const name = document.createElement("strong");
  name.textContent = source.provider_name;
  const state = document.createElement("span");
  state.className = `badge status status-${source.provider_status ?? "unknown"}`;
  state.dataset.status = source.provider_status ?? "unknown";
  state.textContent = source.provider_status ?? "unknown";
  const role = document.createElement("span");
  role.className = "muted";
  role.textContent = [source.answering && "reading from here", source.chosen && "your choice"].filter(Boolean).join(" · ");
  item.append(name, " ", state, " ", role);
  if (!source.chosen) {
    const choose = document.createElement("button");
    choose.type = "button";
    choose.className = "btn btn-ghost btn-sm";
    choose.dataset.choose = source.source_id;
    choose.textContent = "Read from here";
    choose.setAttribute("aria-label", `Read from ${source.provider_name}`);
    item.append(" ", choose);
  }
  if (sourcesCard.dataset.admin === "true") {
    const unlink = document.createElement("button");
    unlink.type = "button";
    unlink.className = "btn btn-ghost btn-sm";
    unlink.dataset.unlink = source.source_id;
    unlink.textContent = "Unlink";
    unlink.setAttribute("aria-label", `Unlink ${source.provider_name}`);
    item.append(" ", unlink);
  }
  return item;
}

function renderSources(sources) {
  sourcesCard.querySelector("[data-source-list]").replaceChildren(...sources.map(sourceItem));
}

function matchItem(match) {
  const item = document.createElement("li");
  item.dataset.match = match.provider_id;
  const text = document.createElement("span");
  text.textContent = `${match.title} — ${match.provider_name}${match.year ? ` (${match.year})` : ""} · match ${Math.round(match.score)}%`;
  item.append(text);
  if (match.linked_manga_id) {
    const note = document.createElement("span");
    note.className = "muted";
    note.textContent = " · already another manga here (never merged)";
    item.append(note);
  } else {
    const add = document.createElement("button");
    add.type = "button";
    add.className = "btn btn-sm";
    add.dataset.link = JSON.stringify({ provider_id: match.provider_id, external_id: match.external_id });
    add.textContent = "Link";
    add.setAttribute("aria-label", `Link ${match.title} on ${match.provider_name}`);
    item.append(" ", add);
  }
  return item;
}

async function sourceAction(button, action) {
  button.setAttribute("aria-busy", "true");
  try {
    await action();
    await loadChapters();
  } catch (err) {
    showMessage(errorBox, `Not done: ${err.message}`, "error");
  } finally {
    button.removeAttribute("aria-busy");
  }
}

sourcesCard.addEventListener("click", async (event) => {
  const choose = event.target.closest("[data-choose]");
  const unlink = event.target.closest("[data-unlink]");
  const link = event.target.closest("[data-link]");
  const find = event.target.closest("[data-find-matches]");
  if (choose) {
    await sourceAction(choose, () => api.put(`/manga/${mangaId}/preferred-source`, { source_id: choose.dataset.choose }));
  } else if (unlink) {
    await sourceAction(unlink, () => api.delete(`/manga/${mangaId}/sources/${unlink.dataset.unlink}`));
  } else if (link) {
    await sourceAction(link, () => api.post(`/manga/${mangaId}/sources`, JSON.parse(link.dataset.link)));
    link.closest("li").remove();
  } else if (find) {
    const note = sourcesCard.querySelector("[data-matches-status]");
    note.hidden = false;
    note.textContent = "Searching the healthy providers…";
    find.setAttribute("aria-busy", "true");
    try {
      const matches = await api.get(`/manga/${mangaId}/matches`);
      sourcesCard.querySelector("[data-match-list]").replaceChildren(...matches.map(matchItem));
      note.textContent = matches.length ? `${matches.length} possible match${matches.length === 1 ? "" : "es"}, best first. Nothing is linked until you press Link.` : "No other provider seems to carry this series.";
    } catch (err) {
      note.textContent = `The search failed: ${err.message}`;
    } finally {
      find.removeAttribute("aria-busy");
    }
  }
});

errorBox.querySelector("[data-retry]").addEventListener("click", loadChapters);
markAll.addEventListener("click", () => mark(markAll, { chapter_ids: JSON.parse(markAll.dataset.ids || "[]"), read: true }));
loadChapters().then(pollDownloads);
