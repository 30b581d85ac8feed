// The search page: streams GET /search/stream for the query in the address. Each provider's
// outcome updates its chip and its results appear as soon as it answers, with a live "still
// asking N"; the summary then shows the ranked, de-duplicated results a page at a time and says
// what happened. A star imports the result, then favorites it; it is lit for existing favorites.

import { api, apiUrl } from "./api.js";
import { saveFavorite, setStar, showMessage, toggleStar } from "./star.js";

const form = document.querySelector("[data-search-form]");
const input = form.querySelector("input[name=q]");
const includeDown = form.querySelector("[data-include-down]");
const strip = document.querySelector("[data-provider-strip]");
const statusLine = document.querySelector("[data-search-status]");
const errorBox = document.querySelector("[data-search-error]");
const grid = document.querySelector("[data-results]");
const template = document.querySelector("[data-card-template]");
const openUrl = document.querySelector("[data-open-url]").dataset.openUrl;
const moreButton = document.querySelector("[data-more]");
const anywayButton = document.querySelector("[data-search-anyway]");
const RESULTS_PER_PROVIDER = 24;
const PAGE_SIZE = 24;

const chips = new Map([...(strip?.querySelectorAll("[data-provider]") ?? [])].map((el) => [el.dataset.provider, el]));

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function describe(outcome) {
  if (outcome.status === "ok") return `${plural(outcome.count, "result")} · ${outcome.ms} ms`;
  if (outcome.status === "slow") return `slow: no answer within ${outcome.deadline_ms ?? outcome.ms} ms`;
  if (outcome.status === "error") {
    const kind = (outcome.kind ?? "error").replaceAll("_", " ");
    return `failed: ${kind}${outcome.http_status ? ` (HTTP ${outcome.http_status})` : ""}`;
  }
  return `left out: ${outcome.reason}`;
}

function showOutcome(outcome) {
  const chip = chips.get(outcome.provider_id);
  if (!chip) return;
  chip.querySelector("[data-outcome]").textContent = describe(outcome);
  chip.dataset.outcome = outcome.status;
  chip.classList.toggle("is-unavailable", outcome.status !== "ok");
  // In words; the raw message (an OS error, say) is in the tooltip after them.
  chip.title = outcome.words && outcome.message && outcome.words !== outcome.message
    ? `${outcome.words}\n\nDetails: ${outcome.message}`
    : outcome.message ?? "";
}

function card(result) {
  const node = template.content.firstElementChild.cloneNode(true);
  const link = node.querySelector("[data-link]");
  const target = new URL(openUrl, window.location.origin);
  target.searchParams.set("provider_id", result.provider_id);
  target.searchParams.set("external_id", result.external_id);
  link.href = target.pathname + target.search;
  link.textContent = result.title;
  node.dataset.provider = result.provider_id;
  node.querySelector(".cover-fallback").textContent = result.title.slice(0, 1).toUpperCase();
  if (result.cover_url) {
    const img = document.createElement("img");
    Object.assign(img, { src: result.cover_url, alt: "", loading: "lazy", decoding: "async", referrerPolicy: "no-referrer" });
    node.querySelector(".cover").prepend(img);
  }
  const star = node.querySelector("[data-star]");
  star.setAttribute("aria-label", `Favorite ${result.title}`);
  Object.assign(star.dataset, { provider: result.provider_id, externalId: result.external_id });
  if (result.manga_id) star.dataset.mangaId = result.manga_id;
  setStar(star, Boolean(result.favorite));
  const names = [result, ...(result.also_on ?? [])].map((hit) => chips.get(hit.provider_id)?.dataset.name ?? hit.provider_id);
  const meta = node.querySelector("[data-meta]");
  for (const part of [names.join(" · "), result.year, result.status]) {
    if (!part) continue;
    const span = document.createElement("span");
    span.textContent = part;
    if (part === result.status) span.className = "capitalize";
    meta.append(span);
  }
  return node;
}

// The merged list: while providers answer, each one's results are appended as they arrive; the
// summary replaces them with the ranked, de-duplicated list, shown PAGE_SIZE at a time.
let ranked = [];
let shown = 0;

function showMore() {
  const next = ranked.slice(shown, shown + PAGE_SIZE);
  grid.append(...next.map(card));
  shown += next.length;
  moreButton.hidden = shown >= ranked.length;
  moreButton.textContent = `Show more (${ranked.length - shown} left)`;
}

function showSummary(summary) {
  ranked = summary.results;
  shown = 0;
  grid.replaceChildren();
  showMore();
  for (const outcome of summary.providers) showOutcome(outcome);
  statusLine.textContent = summary.message;
  statusLine.dataset.state = "done";
  const failed = summary.providers.some((o) => o.status === "error" || o.status === "slow");
  statusLine.classList.toggle("has-failures", failed);
  const down = summary.providers.filter((o) => o.status === "skipped" && o.reason === "down");
  anywayButton.hidden = down.length === 0 || includeDown.checked;
  anywayButton.textContent = `Search ${down.length === 1 ? down[0].name : "them"} anyway`;
}

function appendLate(event) {
  showOutcome(event.outcome);
  const seen = new Set(ranked.map((r) => normalize(r.title)));
  const fresh = event.results.filter((r) => !seen.has(normalize(r.title)));
  ranked = ranked.concat(fresh);
  showMore();
}

function normalize(title) {
  return title.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().replace(/[\W_]+/gu, " ").trim();
}

let source = null;

function search() {
  const q = input.value.trim();
  if (!q) return;
  source?.close();
  showMessage(errorBox, "");
  ranked = [];
  shown = 0;
  grid.replaceChildren();
  moreButton.hidden = true;
  anywayButton.hidden = true;
  statusLine.dataset.state = "asking";
  statusLine.classList.remove("has-failures");
  grid.setAttribute("aria-busy", "true");
  let pending = [...chips.values()].filter((chip) => includeDown.checked || !chip.classList.contains("is-unavailable")).length;
  statusLine.textContent = `Asking ${plural(pending, "provider")}…`;
  for (const chip of chips.values()) {
    chip.querySelector("[data-outcome]").textContent = "searching…";
    chip.dataset.outcome = "pending";
  }
  const url = apiUrl("/search/stream", { q, limit: RESULTS_PER_PROVIDER, include_down: includeDown.checked ? "true" : undefined });
  const events = new EventSource(url);
  source = events;
  let ended = false;
  events.addEventListener("provider", (message) => {
    const event = JSON.parse(message.data);
    showOutcome(event.outcome);
    pending = event.pending;
    if (event.results.length) {
      grid.append(...event.results.map(card));
      grid.removeAttribute("aria-busy");
    }
    if (pending) statusLine.textContent = `${plural(grid.children.length, "result")} so far · still asking ${pending}`;
  });
  events.addEventListener("summary", (message) => {
    grid.removeAttribute("aria-busy");
    showSummary(JSON.parse(message.data));
  });
  events.addEventListener("late", (message) => appendLate(JSON.parse(message.data)));
  events.addEventListener("end", () => {
    ended = true;
    events.close();
  });
  events.addEventListener("error", () => {
    // EventSource reconnects on its own: a search is asked once, so stop here instead.
    events.close();
    if (ended || source !== events || statusLine.dataset.state === "done") return;
    grid.removeAttribute("aria-busy");
    statusLine.textContent = "";
    showMessage(errorBox, "The search failed: the server could not be reached.", "error");
  });
}

function remember() {
  const url = new URL(window.location.href);
  url.searchParams.set("q", input.value.trim());
  if (includeDown.checked) url.searchParams.set("include_down", "true");
  else url.searchParams.delete("include_down");
  if (url.href !== window.location.href) window.history.pushState(null, "", url);
  document.title = `${input.value.trim()} · Search · Kurobara`;
}

async function star(button) {
  await toggleStar(
    button,
    async (pressed) => {
      if (!button.dataset.mangaId) {
        const manga = await api.post("/manga/import", {
          provider_id: button.dataset.provider,
          external_id: button.dataset.externalId,
        });
        button.dataset.mangaId = manga.id;
      }
      await saveFavorite(button.dataset.mangaId, pressed);
    },
    (err) => showMessage(errorBox, `Could not change the favorite: ${err.message}`, "error"),
  );
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!input.value.trim()) return;
  remember();
  search();
});
includeDown.addEventListener("change", () => {
  if (!input.value.trim()) return;
  remember();
  search();
});
moreButton.addEventListener("click", showMore);
anywayButton.addEventListener("click", () => {
  includeDown.checked = true;
  remember();
  search();
});
grid.addEventListener("click", (event) => {
  const button = event.target.closest("[data-star]");
  if (button) star(button);
});
window.addEventListener("popstate", () => {
  const params = new URLSearchParams(window.location.search);
  input.value = params.get("q") ?? "";
  includeDown.checked = params.get("include_down") === "true";
  search();
});

search();
