// Settings → Downloads: the storage your downloads take (GET /api/v1/downloads/usage) and the
// auto-download rule (GET/PUT /api/v1/downloads/rules), the API's own endpoints.
import { api } from "./api.js";
import { usageText } from "./downloads-format.js";
import { showMessage } from "./star.js";

const card = document.querySelector("[data-download-settings]");
const box = card.querySelector("[data-download-rule]");
const usageLine = card.querySelector("[data-download-usage]");
const message = card.querySelector("[data-download-settings-message]");

api
  .get("/downloads/usage")
  .then((usage) => {
    usageLine.textContent = `Storage: ${usageText(usage)}`;
  })
  .catch(() => showMessage(message, "Could not load the storage total.", "error"));

api
  .get("/downloads/rules")
  .then((rule) => {
    box.checked = Boolean(rule?.favorites_new_chapters);
    box.disabled = false;
  })
  .catch(() => showMessage(message, "Could not load the download settings.", "error"));

box.addEventListener("change", async () => {
  box.disabled = true;
  try {
    const rule = await api.put("/downloads/rules", { favorites_new_chapters: box.checked });
    box.checked = Boolean(rule?.favorites_new_chapters);
    showMessage(message, box.checked ? "New chapters of your favorites will be downloaded." : "Auto-download off.", "success");
  } catch {
    box.checked = !box.checked;
    showMessage(message, "Could not save the download settings.", "error");
  } finally {
    box.disabled = false;
  }
});
