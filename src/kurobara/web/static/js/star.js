// Star toggles and status messages shared by the reading pages (search, manga, collections).
// A star flips at once (optimistic) and flips back when the server refuses.

import { api } from "./api.js";

export function setStar(button, pressed) {
  button.setAttribute("aria-pressed", String(pressed));
  button.title = pressed ? "Unfavorite" : "Favorite";
  const label = button.querySelector("[data-star-label]");
  if (label) label.textContent = pressed ? "Favorited" : "Favorite";
}

/** Flip `button`, run `save(pressed)`; on failure restore it and hand the error to `onError`. */
export async function toggleStar(button, save, onError) {
  if (button.getAttribute("aria-busy") === "true") return false;
  const was = button.getAttribute("aria-pressed") === "true";
  setStar(button, !was);
  button.setAttribute("aria-busy", "true");
  try {
    await save(!was);
    return true;
  } catch (err) {
    setStar(button, was);
    onError?.(err);
    return false;
  } finally {
    button.removeAttribute("aria-busy");
  }
}

export function saveFavorite(mangaId, pressed) {
  return pressed ? api.post(`/favorites/${mangaId}`) : api.delete(`/favorites/${mangaId}`);
}

/** Show `text` in an `.alert` box (kind: success, error, info, warning); empty text hides it. */
export function showMessage(box, text, kind = "info") {
  if (!box) return;
  box.className = `alert alert-${kind}`;
  const slot = box.querySelector("[data-message]") ?? box;
  slot.textContent = text;
  box.hidden = !text;
}
