// Settings → Search and browse: NSFW shown or not and the provider languages, read and saved
// through GET/PATCH /api/v1/search/preferences (the API's own endpoint, no separate form route).
import { api } from "./api.js";
import { showMessage } from "./star.js";

const card = document.querySelector("[data-search-preferences]");
const nsfw = card.querySelector("[data-show-nsfw]");
const choices = card.querySelector("[data-language-choices]");
const message = card.querySelector("[data-search-prefs-message]");

function languageBox(code, checked) {
  const label = document.createElement("label");
  label.className = "choice";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.name = "languages";
  box.value = code;
  box.checked = checked;
  box.dataset.language = code;
  const text = document.createElement("span");
  text.className = "choice-label";
  text.textContent = code;
  label.append(box, text);
  return label;
}

function render(prefs) {
  nsfw.checked = Boolean(prefs.show_nsfw);
  nsfw.disabled = false;
  const chosen = new Set(prefs.languages);
  const codes = [...new Set([...prefs.available_languages, ...prefs.languages])].sort();
  choices.replaceChildren(...codes.map((code) => languageBox(code, chosen.has(code))));
}

async function save(change, done) {
  card.querySelectorAll("input").forEach((box) => (box.disabled = true));
  try {
    render(await api.patch("/search/preferences", change));
    showMessage(message, done, "success");
  } catch {
    showMessage(message, "Could not save the search settings.", "error");
    render(await api.get("/search/preferences"));
  } finally {
    card.querySelectorAll("input").forEach((box) => (box.disabled = false));
  }
}

api
  .get("/search/preferences")
  .then(render)
  .catch(() => showMessage(message, "Could not load the search settings.", "error"));

nsfw.addEventListener("change", () =>
  save({ show_nsfw: nsfw.checked }, nsfw.checked ? "NSFW shown." : "NSFW hidden."),
);
choices.addEventListener("change", () => {
  const languages = [...choices.querySelectorAll("input:checked")].map((box) => box.value);
  save({ languages }, languages.length ? `Languages: ${languages.join(", ")}.` : "Every language.");
});
