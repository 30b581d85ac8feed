// The manga page: the star, the library form (custom title, rating, notes) and the chapter list
// with the reader's read marks ("mark read up to here", "mark all read"). The list is the one
// stored here; when its provider is down it says so in a banner above it.

import { api } from "./api.js";
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
  link.href = readerBase + encodeURIComponent(chapter.id);
  link.textContent = chapterName(chapter);
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
  side.append(details, upTo);
  item.append(link, side);
  return item;
}

const markAll = chapters.querySelector("[data-mark-all]");
const staleBox = chapters.querySelector("[data-chapters-stale]");

async function mark(button, body) {
  button.setAttribute("aria-busy", "true");
  try {
    await api.post(`/manga/${mangaId}/chapters/read`, body);
    await loadChapters();
  } catch (err) {
    showMessage(errorBox, `Not marked: ${err.message}`, "error");
  } finally {
    button.removeAttribute("aria-busy");
  }
}

list.addEventListener("click", (event) => {
  const button = event.target.closest("[data-up-to]");
  if (button) mark(button, { up_to: button.dataset.upTo });
});

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
    const data = await api.get(`/manga/${mangaId}/chapters`);
    staleBox.hidden = !data.stale;
    if (data.stale) staleBox.querySelector("[data-message]").textContent = staleText(data);
    markAll.hidden = !data.chapters.some((chapter) => !chapter.read);
    markAll.dataset.ids = JSON.stringify(data.chapters.filter((c) => !c.read).map((c) => c.id));
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

errorBox.querySelector("[data-retry]").addEventListener("click", loadChapters);
markAll.addEventListener("click", () => mark(markAll, { chapter_ids: JSON.parse(markAll.dataset.ids || "[]"), read: true }));
loadChapters();
