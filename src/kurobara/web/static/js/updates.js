// The Updates page: "Update now" starts a run of the library (POST /library/updates; a run
// already going is joined), shows its progress from GET /library/updates/{id}, and reloads the
// page when it is done, so the new chapters and the summary come from the server.

import { api } from "./api.js";

const POLL_MS = 1000;
const button = document.querySelector("[data-update-now]");
const run = document.querySelector("[data-run]");
const summary = run.querySelector("[data-run-summary]");
const bar = run.querySelector("[data-run-progress]");
const errorBox = run.querySelector("[data-run-error]");

function showProgress(view) {
  bar.hidden = false;
  bar.max = Math.max(view.total, 1);
  bar.value = view.done;
  summary.textContent = `Updating… ${view.done} of ${view.total} series`;
}

async function follow(runId) {
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  try {
    for (;;) {
      const view = await api.get(`/library/updates/${runId}`);
      showProgress(view);
      if (view.status === "done") {
        window.location.reload();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } catch (err) {
    errorBox.querySelector("[data-message]").textContent = `The update could not be followed: ${err.message}`;
    errorBox.hidden = false;
    button.removeAttribute("aria-busy");
    button.disabled = false;
  }
}

button.addEventListener("click", async () => {
  errorBox.hidden = true;
  button.setAttribute("aria-busy", "true");
  try {
    const started = await api.post("/library/updates");
    follow(started.run_id);
  } catch (err) {
    errorBox.querySelector("[data-message]").textContent = `Could not start an update: ${err.message}`;
    errorBox.hidden = false;
    button.removeAttribute("aria-busy");
  }
});

if (run.dataset.runId && run.dataset.runStatus && run.dataset.runStatus !== "done") follow(run.dataset.runId);
