// The Library's "Edit categories" panel: add, rename, move up/down and delete categories. Each
// change reloads the page, so the tabs and counts always show what the server has.

import { api } from "./api.js";
import { showMessage } from "./star.js";

const PANEL_KEY = "kurobara-categories-open";
const panel = document.querySelector("[data-categories-panel]");

if (panel) {
  const message = panel.querySelector("[data-category-message]");
  const rows = [...panel.querySelectorAll("[data-category-id]")];
  if (sessionStorage.getItem(PANEL_KEY)) {
    sessionStorage.removeItem(PANEL_KEY);
    panel.open = true;
  }

  async function change(work) {
    try {
      if ((await work()) === false) return;
      sessionStorage.setItem(PANEL_KEY, "1");
      window.location.reload();
    } catch (err) {
      showMessage(message, `Nothing changed: ${err.message}`, "error");
    }
  }

  panel.querySelector("[data-category-create]").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = new FormData(event.target).get("name");
    change(() => api.post("/categories/", { name }));
  });

  for (const [index, row] of rows.entries()) {
    const id = row.dataset.categoryId;
    const nameInput = row.querySelector("[data-category-name]");
    const actions = {
      rename: () => api.patch(`/categories/${id}`, { name: nameInput.value }),
      up: () => api.patch(`/categories/${id}`, { position: index - 1 }),
      down: () => api.patch(`/categories/${id}`, { position: index + 1 }),
      delete: () => {
        if (!window.confirm(`Delete the category “${nameInput.defaultValue}”? Its titles stay in your library.`)) {
          return false;
        }
        return api.delete(`/categories/${id}`);
      },
    };
    for (const button of row.querySelectorAll("[data-category-action]")) {
      button.addEventListener("click", () => change(actions[button.dataset.categoryAction]));
    }
    nameInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") change(actions.rename);
    });
  }
}
