// The History page: "Clear history" (DELETE /history); read marks stay.

import { api } from "./api.js";
import { showMessage } from "./star.js";

const button = document.querySelector("[data-clear-history]");
const message = document.querySelector("[data-history-message]");

button?.addEventListener("click", async () => {
  if (!window.confirm("Clear your reading history? Read marks stay.")) return;
  button.setAttribute("aria-busy", "true");
  try {
    await api.delete("/history");
    document.querySelectorAll(".update-day").forEach((section) => section.remove());
    button.remove();
    showMessage(message, "History cleared.", "success");
  } catch (err) {
    showMessage(message, `Not cleared: ${err.message}`, "error");
    button.removeAttribute("aria-busy");
  }
});
