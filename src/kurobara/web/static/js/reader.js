// The reader: paged left-to-right, paged right-to-left, or one continuous vertical strip
// (webtoons); fit width, fit height or original size — both remembered per manga on the
// server (PUT /manga/{id}/reader-preferences), so the choice follows the user to every device.
// A page counter and slider; tap zones and swipes on touch screens; keys; full screen; an
// end-of-chapter panel leading to the next chapter. Each page seen is saved as the chapter's
// progress (PATCH /chapters/{id}/progress), and the chapter opens again at the page it was left
// on. The pages ahead, and near the end the next chapter's first pages, are fetched early.

import { api } from "./api.js";

const MODES = ["ltr", "rtl", "vertical"];
const FITS = ["width", "height", "original"];
const SAVE_DELAY_MS = 800;
const PRELOAD_AHEAD = 3;
const NEXT_CHAPTER_PAGES = 3;
const SWIPE_MIN_PX = 50;

const root = document.querySelector("[data-reader]");
const total = Number(root.dataset.pages) || 0;
const mangaId = root.dataset.manga;
const chapterId = root.dataset.chapter;
const stage = root.querySelector("[data-stage]");
const pages = [...root.querySelectorAll("[data-page]")];
const endPanel = root.querySelector("[data-end]");
const slider = root.querySelector("[data-slider]");
const counter = root.querySelector("[data-counter]");
const settings = root.querySelector("[data-settings]");
const fullscreenButton = root.querySelector("[data-fullscreen]");
const nextChapter = root.querySelector("[data-next]");
const previousChapter = root.querySelector("[data-prev]");
const resumed = root.querySelector("[data-resumed]");
const saveProblem = root.querySelector("[data-save-problem]");

// --- preferences ----------------------------------------------------------------------------

/** The layout the server chose: this manga's, else the user's latest choice elsewhere. */
function loadPreferences() {
  const chosen = root.dataset;
  const mode = MODES.includes(chosen.chosenMode) ? chosen.chosenMode : "ltr";
  const fit = FITS.includes(chosen.chosenFit) ? chosen.chosenFit : mode === "vertical" ? "width" : "height";
  return { mode, fit };
}

let saving = Promise.resolve();

/** Saves one after the other, so two quick changes reach the server in the order made. */
function savePreferences(preferences) {
  saving = saving
    // keepalive: a choice made just before leaving (the next chapter) is still saved.
    .then(() => api.put(`/manga/${encodeURIComponent(mangaId)}/reader-preferences`, preferences, { keepalive: true }))
    .then(() => {
      if (saveProblem) saveProblem.hidden = true;
    })
    .catch((err) => {
      if (saveProblem) {
        saveProblem.textContent = `Reading mode not saved: ${err.message}`;
        saveProblem.hidden = false;
      }
    });
}

let { mode, fit } = loadPreferences();
const paged = () => mode !== "vertical";

// --- progress -------------------------------------------------------------------------------

let pending = null;
let saveTimer = 0;
let markedRead = root.dataset.read === "true";

function flush({ keepalive = false } = {}) {
  clearTimeout(saveTimer);
  if (!pending || !chapterId) return;
  const body = pending;
  pending = null;
  api
    .patch(`/chapters/${encodeURIComponent(chapterId)}/progress`, body, { keepalive })
    .then(() => {
      if (saveProblem) saveProblem.hidden = true;
    })
    .catch((err) => {
      if (saveProblem) {
        saveProblem.textContent = `Progress not saved: ${err.message}`;
        saveProblem.hidden = false;
      }
    });
}

/** A page has been on screen: remember it (the last page also marks the chapter read). */
function seen(number) {
  if (!chapterId || number < 1 || number > total) return;
  pending = { ...pending, last_page: number };
  if (number === total && !markedRead) {
    markedRead = true;
    pending.read = true;
    flush();
    return;
  }
  clearTimeout(saveTimer);
  saveTimer = setTimeout(flush, SAVE_DELAY_MS);
}

window.addEventListener("pagehide", () => flush({ keepalive: true }));
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") flush({ keepalive: true });
});

// --- showing a page -------------------------------------------------------------------------

let current = 1; // 1..total, or total + 1 for the end-of-chapter panel

function preload(number) {
  for (let n = number - 1; n <= number + PRELOAD_AHEAD; n += 1) {
    const img = pages[n - 1]?.querySelector("img");
    if (img) img.loading = "eager";
  }
  if (number >= total - 1) prefetchNextChapter();
}

let prefetched = false;
const nextChapterImages = [];

/** The first pages of the next chapter, so turning past the end does not wait for them. */
function prefetchNextChapter() {
  const path = root.dataset.pagesUrl;
  if (prefetched || !path) return;
  prefetched = true;
  api
    .get(path)
    .then((data) => {
      for (const page of (data?.pages ?? []).slice(0, NEXT_CHAPTER_PAGES)) {
        const img = new Image();
        img.referrerPolicy = "no-referrer";
        img.src = page.url;
        nextChapterImages.push(img); // held, so no load is dropped with its element
      }
    })
    .catch(() => {
      // Only a head start; the next chapter loads its pages itself.
    });
}

function updateCounter() {
  const atEnd = current > total;
  counter.textContent = total ? (atEnd ? `End · ${total} / ${total}` : `${current} / ${total}`) : "0 / 0";
  slider.value = String(Math.min(current, Math.max(total, 1)));
  root.dataset.atEnd = String(atEnd);
}

function showPaged(number) {
  current = Math.max(1, Math.min(number, total + 1));
  pages.forEach((page, index) => page.classList.toggle("is-current", index + 1 === current));
  endPanel.classList.toggle("is-current", current > total);
  stage.scrollTo({ top: 0, left: mode === "rtl" ? stage.scrollWidth : 0 });
  preload(current);
  updateCounter();
  seen(current);
}

// In the strip, the page crossing the middle of the screen is the current one. Jumps the
// reader makes itself (resume, slider) are not "seen" until they settle.
let jumping = false;
let jumpTimer = 0;

function jumpVertical(number) {
  const target = number > total ? endPanel : pages[number - 1];
  if (!target) return;
  jumping = true;
  clearTimeout(jumpTimer);
  preload(number);
  target.scrollIntoView({ block: "start" });
  current = Math.max(1, Math.min(number, total + 1));
  updateCounter();
  jumpTimer = setTimeout(() => {
    jumping = false;
    seen(Math.min(current, total));
    followScroll();
  }, 400);
}

/** The page (or the end panel, total + 1) crossing the middle of the screen. */
function pageAtMiddle() {
  const middle = window.innerHeight / 2;
  const items = [...pages, endPanel];
  for (let index = 0; index < items.length; index += 1) {
    const box = items[index].getBoundingClientRect();
    if (box.bottom > middle) return box.top <= middle || index === 0 ? index + 1 : index;
  }
  return total + 1;
}

function followScroll() {
  if (paged() || jumping) return;
  const number = pageAtMiddle();
  if (number === current) return;
  current = number;
  preload(number);
  updateCounter();
  seen(Math.min(number, total));
}

let scrollFrame = 0;
// Capturing, so the strip inside a full-screen reader (its own scroller) is followed too.
document.addEventListener(
  "scroll",
  () => {
    cancelAnimationFrame(scrollFrame);
    scrollFrame = requestAnimationFrame(followScroll);
  },
  { capture: true, passive: true },
);

function show(number) {
  if (paged()) showPaged(number);
  else jumpVertical(number);
}

function go(step) {
  if (resumed) resumed.hidden = true;
  if (step > 0 && current > total) {
    if (nextChapter) window.location.assign(nextChapter.href);
    return;
  }
  if (step < 0 && current <= 1) {
    if (previousChapter) window.location.assign(previousChapter.href);
    return;
  }
  show(current + step);
}

// --- mode and fit ---------------------------------------------------------------------------

function apply() {
  root.dataset.mode = mode;
  root.dataset.fit = fit;
  root.dataset.layout = paged() ? "paged" : "strip";
  slider.dir = mode === "rtl" ? "rtl" : "ltr";
  for (const input of settings.querySelectorAll("input[name=mode]")) input.checked = input.value === mode;
  for (const input of settings.querySelectorAll("input[name=fit]")) input.checked = input.value === fit;
  if (paged()) {
    showPaged(current);
  } else {
    pages.forEach((page) => page.classList.remove("is-current"));
    endPanel.classList.remove("is-current");
    jumpVertical(current);
  }
  measureBars();
}

/** The bars' height, so "fit height" in the strip fits a page between them. */
function measureBars() {
  const bar = root.querySelector("[data-reader-bar]");
  const controls = root.querySelector("[data-controls]");
  const height = root.classList.contains("bars-hidden") ? 0 : bar.offsetHeight + controls.offsetHeight;
  root.style.setProperty("--bars", `${height}px`);
}

window.addEventListener("resize", measureBars);

settings.addEventListener("change", (event) => {
  const { name, value } = event.target;
  if (name === "mode" && MODES.includes(value)) mode = value;
  else if (name === "fit" && FITS.includes(value)) fit = value;
  else return;
  savePreferences({ mode, fit });
  apply();
});

slider.addEventListener("input", () => show(Number(slider.value)));
// Once let go, the keys turn pages again (a focused slider would keep the arrows).
slider.addEventListener("change", () => slider.blur());

// --- taps, swipes and keys ------------------------------------------------------------------

/** The left or right side of the screen: backwards or forwards as the reading direction says. */
function side(which) {
  if (!paged()) {
    window.scrollBy({ top: (which === "right" ? 1 : -1) * window.innerHeight * 0.8, behavior: "smooth" });
    return;
  }
  const forwards = (which === "right") === (mode === "ltr");
  go(forwards ? 1 : -1);
}

function toggleBars() {
  root.classList.toggle("bars-hidden");
  settings.open = false;
  measureBars();
}

const INTERACTIVE = "a, button, input, label, summary";

/** A tap or click at clientX: the sides turn pages, the middle shows or hides the bars. */
function tap(clientX) {
  if (settings.open) {
    settings.open = false; // a tap beside the open panel only closes it
    return;
  }
  const box = stage.getBoundingClientRect();
  const x = (clientX - box.left) / box.width;
  if (x < 1 / 3) side("left");
  else if (x > 2 / 3) side("right");
  else toggleBars();
}

stage.addEventListener("click", (event) => {
  if (event.target.closest(INTERACTIVE)) return;
  tap(event.clientX);
});

let touchStart = null;
const zoomed = () => (window.visualViewport?.scale ?? 1) > 1.01;

stage.addEventListener(
  "touchstart",
  (event) => {
    const touch = event.touches[0];
    touchStart = event.touches.length === 1 ? { x: touch.clientX, y: touch.clientY, at: event.timeStamp } : null;
  },
  { passive: true },
);

// Taps and swipes are read from the touches themselves: a browser may drop the click that
// follows a tap (double-tap detection), and answering at once avoids its delay.
stage.addEventListener("touchend", (event) => {
  const start = touchStart;
  touchStart = null;
  if (!start || event.touches.length || zoomed() || event.target.closest(INTERACTIVE)) return;
  const touch = event.changedTouches[0];
  const dx = touch.clientX - start.x;
  const dy = touch.clientY - start.y;
  if (Math.abs(dx) < 10 && Math.abs(dy) < 10 && event.timeStamp - start.at < 500) {
    event.preventDefault(); // no click after it
    tap(touch.clientX);
  } else if (paged() && Math.abs(dx) >= SWIPE_MIN_PX && Math.abs(dx) > 1.5 * Math.abs(dy)) {
    // Content follows the finger: swiping left brings what is on the right.
    side(dx < 0 ? "right" : "left");
  }
});

function stageCanScroll(direction) {
  if (direction > 0) return stage.scrollTop + stage.clientHeight < stage.scrollHeight - 2;
  return stage.scrollTop > 2;
}

const KEYS = {
  ArrowRight: () => (paged() ? side("right") : go(1)),
  ArrowLeft: () => (paged() ? side("left") : go(-1)),
  Home: () => show(1),
  End: () => show(total),
  "]": () => nextChapter && window.location.assign(nextChapter.href),
  "[": () => previousChapter && window.location.assign(previousChapter.href),
  f: () => toggleFullscreen(),
  F: () => toggleFullscreen(),
};

function pagingKey(event) {
  // Space and Page Down scroll a page taller than the screen first, then turn it.
  if (!paged() || !["PageDown", "PageUp", " "].includes(event.key)) return null;
  const direction = event.key === "PageUp" || event.shiftKey ? -1 : 1;
  if (stageCanScroll(direction)) {
    return () => stage.scrollBy({ top: direction * stage.clientHeight * 0.9, behavior: "smooth" });
  }
  return () => go(direction);
}

document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "Escape" && settings.open) {
    settings.open = false;
    settings.querySelector("summary").focus();
    return;
  }
  const target = event.target;
  if (target.closest?.("textarea, select, [contenteditable]")) return;
  // The slider and the settings' radios keep their own arrows, Home, End and Page keys.
  const own = target.matches?.("input[type=range], input[type=radio]");
  if (target.matches?.("input") && !own) return;
  if (own && /^(Arrow|Home|End|Page)/.test(event.key)) return;
  if (event.key === " " && target.closest?.("a, button, summary, input[type=radio]")) return;
  const action = pagingKey(event) ?? (event.shiftKey && event.key !== "F" ? null : KEYS[event.key]);
  if (!action) return;
  event.preventDefault();
  action();
});

// --- full screen ----------------------------------------------------------------------------

function toggleFullscreen() {
  if (!document.fullscreenEnabled) return;
  if (document.fullscreenElement) document.exitFullscreen();
  else root.requestFullscreen().catch(() => {});
}

if (document.fullscreenEnabled) {
  fullscreenButton.hidden = false;
  fullscreenButton.addEventListener("click", toggleFullscreen);
  document.addEventListener("fullscreenchange", () => {
    const on = document.fullscreenElement === root;
    fullscreenButton.setAttribute("aria-pressed", String(on));
    fullscreenButton.querySelector("span").textContent = on ? "Exit full screen" : "Full screen";
  });
}

// --- start ----------------------------------------------------------------------------------

/** Where to open: ?page= in the address, else the page last seen (a finished chapter opens
 * at its start again), else the first page. */
function startPage() {
  const asked = Number(new URLSearchParams(window.location.search).get("page"));
  if (Number.isInteger(asked) && asked >= 1 && asked <= total) return { page: asked, resumed: false };
  const last = Number(root.dataset.resume);
  if (Number.isInteger(last) && last > 1 && last <= total && !(markedRead && last >= total)) {
    return { page: last, resumed: true };
  }
  return { page: 1, resumed: false };
}

const start = startPage();
current = start.page;
if (start.resumed && resumed) {
  resumed.querySelector("[data-resumed-page]").textContent = String(start.page);
  resumed.hidden = false;
  resumed.querySelector("button").addEventListener("click", () => {
    resumed.hidden = true;
    show(1);
  });
}
root.classList.add("is-ready");
apply();
