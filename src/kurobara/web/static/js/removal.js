// Removing titles from the library: ask first (rating, notes and categories go with them),
// keep what was removed, and offer to put it back for a few seconds.
//
//   if (!(await confirmRemoval(`Remove “${title}”?`))) return;
//   const kept = await snapshot([mangaId]);
//   await api.delete(`/library/${mangaId}`);
//   offerUndo(messageBox, "Removed.", kept, () => ...);

import { api } from "./api.js";
import { showMessage } from "./star.js";

export const UNDO_MS = 8000;

/** A modal "Remove / Cancel" question; resolves true when the user confirms. */
export function confirmRemoval(question) {
  const dialog = document.createElement("dialog");
  dialog.className = "confirm-dialog";
  dialog.setAttribute("aria-label", "Confirm removal");
  const text = document.createElement("p");
  text.textContent = `${question} Its rating, notes and categories go with it; you can undo for a few seconds.`;
  const actions = document.createElement("div");
  actions.className = "form-actions";
  const cancel = Object.assign(document.createElement("button"), { type: "button", className: "btn", textContent: "Cancel" });
  const remove = Object.assign(document.createElement("button"), { type: "button", className: "btn btn-danger", textContent: "Remove" });
  remove.dataset.confirm = "";
  actions.append(cancel, remove);
  dialog.append(text, actions);
  document.body.append(dialog);
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    cancel.addEventListener("click", () => done(false));
    remove.addEventListener("click", () => done(true));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      done(false);
    });
    dialog.showModal();
    cancel.focus();
  });
}

/** What a removal loses, per entry: the body that puts it back as it was. */
export async function snapshot(mangaIds) {
  const entries = await Promise.all(mangaIds.map((id) => api.get(`/library/${id}`)));
  return entries.map((entry) => ({
    manga_id: entry.manga_id,
    body: {
      is_favorite: entry.is_favorite,
      custom_title: entry.custom_title,
      rating: entry.rating,
      notes: entry.notes,
      category_ids: entry.categories.map((category) => category.id),
    },
  }));
}

export async function restore(kept) {
  await Promise.all(kept.map((item) => api.post(`/library/${item.manga_id}`, item.body)));
}

/** Show `text` with an Undo button until `until` (epoch ms); Undo restores `kept`. */
export function offerUndo(box, text, kept, onUndone, until = Date.now() + UNDO_MS) {
  showMessage(box, text, "info");
  const slot = box.querySelector("[data-message]") ?? box;
  const button = Object.assign(document.createElement("button"), {
    type: "button",
    className: "btn btn-sm undo-btn",
    textContent: "Undo",
  });
  button.dataset.undo = "";
  slot.after(button);
  const timer = setTimeout(() => button.remove(), Math.max(0, until - Date.now()));
  button.addEventListener("click", async () => {
    clearTimeout(timer);
    button.setAttribute("aria-busy", "true");
    try {
      await restore(kept);
      button.remove();
      showMessage(box, `Put back ${kept.length === 1 ? "the title" : `${kept.length} titles`}.`, "success");
      onUndone?.();
    } catch (err) {
      button.removeAttribute("aria-busy");
      showMessage(box, `Could not undo: ${err.message}`, "error");
    }
  });
}
