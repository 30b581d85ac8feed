// The search page: asks GET /search for the query in the address, draws the results as cover
// cards and each provider's outcome in the strip; a star imports the result, then favorites it.

import { api } from "./api.js";
import { saveFavorite, showMessage, toggleStar } from "./star.js";

const form = document.querySelector("[data-search-form]");
const input = form.querySelector("input[name=q]");
const includeDown = form.querySelector("[data-include-down]");
const strip = document.querySelector("[data-provider-strip]");
const statusLine = document.querySelector("[data-search-status]");
const errorBox = document.querySelector("[data-search-error]");
const grid = document.querySelector("[data-results]");
const template = document.querySelector("[data-card-template]");
const openUrl = document.querySelector("[data-open-url]").dataset.openUrl;
const RESULTS_PER_PROVIDER = 24;
let controller = null;

const chips = new Map([...(strip?.querySelectorAll("[data-provider]") ?? [])].map((el) => [el.dataset.provider, el]));

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function describe(outcome) {
  if (outcome.status === "ok") return `${plural(outcome.count, "result")} · ${outcome.ms} ms`;
  if (outcome.status === "error") {
    const kind = (outcome.kind ?? "error").replaceAll("_", " ");
    return `failed: ${kind}${outcome.http_status ? ` (HTTP ${outcome.http_status})` : ""}`;
  }
  return `left out: ${outcome.reason}`;
}

function showOutcomes(outcomes) {
  for (const outcome of outcomes) {
    const chip = chips.get(outcome.provider_id);
    if (!chip) continue;
    chip.querySelector("[data-outcome]").textContent = describe(outcome);
    chip.dataset.outcome = outcome.status;
    chip.classList.toggle("is-unavailable", outcome.status !== "ok");
    chip.title = outcome.message ?? "";
  }
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
  star.title = "Favorite";
  Object.assign(star.dataset, { provider: result.provider_id, externalId: result.external_id });
  const provider = chips.get(result.provider_id)?.dataset.name ?? result.provider_id;
  const meta = node.querySelector("[data-meta]");
  for (const part of [provider, result.year, result.status]) {
    if (!part) continue;
    const span = document.createElement("span");
    span.textContent = part;
    if (part === result.status) span.className = "capitalize";
    meta.append(span);
  }
  return node;
}

async function search() {
  const q = input.value.trim();
  if (!q) return;
  controller?.abort();
  controller = new AbortController();
  showMessage(errorBox, "");
  statusLine.textContent = `Searching ${plural(chips.size, "provider")}…`;
  grid.setAttribute("aria-busy", "true");
  for (const chip of chips.values()) chip.querySelector("[data-outcome]").textContent = "searching…";
  try {
    const data = await api.get("/search", {
      query: { q, limit: RESULTS_PER_PROVIDER, include_down: includeDown.checked ? "true" : undefined },
      signal: controller.signal,
    });
    showOutcomes(data.providers);
    grid.replaceChildren(...data.results.map(card));
    const answered = data.providers.filter((p) => p.status === "ok").length;
    statusLine.textContent = data.results.length
      ? `${plural(data.results.length, "result")} for “${data.query}” from ${answered} of ${plural(data.providers.length, "provider")} · ${data.ms} ms`
      : `Nothing found for “${data.query}”.`;
  } catch (err) {
    if (err.name === "AbortError") return;
    statusLine.textContent = "";
    showMessage(errorBox, `The search failed: ${err.message}`, "error");
  } finally {
    grid.removeAttribute("aria-busy");
  }
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
