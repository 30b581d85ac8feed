// Settings: new-chapter notifications (scope and Apprise URLs) through
// GET/PATCH /users/me/notifications. The server renders the saved values; a page rendered
// for another form's error reads them here.

import { api } from "./api.js";
import { showMessage } from "./star.js";

const card = document.querySelector("[data-notify]");
const form = card.querySelector("[data-notify-form]");
const message = card.querySelector("[data-notify-message]");
const save = card.querySelector("[data-notify-save]");

function fill(settings) {
  for (const input of form.querySelectorAll("input[name=scope]")) input.checked = input.value === settings.scope;
  form.elements.urls.value = settings.urls.join("\n");
}

if (card.dataset.loaded !== "true") {
  api.get("/users/me/notifications").then(fill, (err) => showMessage(message, `Could not load: ${err.message}`, "error"));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const urls = form.elements.urls.value.split("\n").map((line) => line.trim()).filter(Boolean);
  const scope = new FormData(form).get("scope") ?? "off";
  save.setAttribute("aria-busy", "true");
  try {
    fill(await api.patch("/users/me/notifications", { urls, scope }));
    showMessage(message, "Notifications saved.", "success");
  } catch (err) {
    showMessage(message, `Not saved: ${err.message}`, "error");
  } finally {
    save.removeAttribute("aria-busy");
  }
});
