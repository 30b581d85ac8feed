// The Upload page: send the chosen archive to POST /manga/upload, then open the manga.

import { api } from "./api.js";
import { showMessage } from "./star.js";

const form = document.querySelector("[data-upload-form]");
const message = form?.querySelector("[data-upload-message]");
const submit = form?.querySelector("[data-upload-submit]");
const UPLOAD_TIMEOUT_MS = 10 * 60 * 1000;

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  if (!data.get("title")) data.delete("title");
  submit.setAttribute("aria-busy", "true");
  submit.disabled = true;
  showMessage(message, "Uploading…", "info");
  try {
    const result = await api.post("/manga/upload", data, { timeout: UPLOAD_TIMEOUT_MS });
    const count = result.chapters.length;
    showMessage(message, `Stored ${count} chapter${count === 1 ? "" : "s"}. Opening…`, "success");
    window.location.assign(form.dataset.mangaBase.replace("MANGA", result.manga.id));
  } catch (err) {
    const why = err.detail?.message ?? err.message;
    showMessage(message, `Not uploaded: ${why}`, "error");
    submit.removeAttribute("aria-busy");
    submit.disabled = false;
  }
});
