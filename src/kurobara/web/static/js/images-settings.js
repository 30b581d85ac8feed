// Settings → Images: the data-saver choice, read and saved through
// GET/PUT /api/v1/images/preferences (the API's own endpoint, no separate form route).
import { api } from "./api.js";
import { showMessage } from "./star.js";

const card = document.querySelector("[data-image-preferences]");
const box = card.querySelector("[data-data-saver]");
const message = card.querySelector("[data-images-message]");

api
  .get("/images/preferences")
  .then((prefs) => {
    box.checked = Boolean(prefs?.data_saver);
    box.disabled = false;
  })
  .catch(() => showMessage(message, "Could not load the image settings.", "error"));

box.addEventListener("change", async () => {
  box.disabled = true;
  try {
    const prefs = await api.put("/images/preferences", { data_saver: box.checked });
    box.checked = Boolean(prefs?.data_saver);
    showMessage(message, box.checked ? "Data saver on." : "Data saver off.", "success");
  } catch {
    box.checked = !box.checked;
    showMessage(message, "Could not save the image settings.", "error");
  } finally {
    box.disabled = false;
  }
});
