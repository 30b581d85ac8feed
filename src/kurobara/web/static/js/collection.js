// Library and Favorites: stars, multi-select (click, shift-click for a range, select all on the
// page) with bulk favorite, unfavorite, move to a category and remove (confirmed, undoable),
// the category tabs' editor, and the favorites import report.

import { api } from "./api.js";
import "./backup.js";
import "./categories.js";
import { confirmRemoval, offerUndo, snapshot, UNDO_MS } from "./removal.js";
import { saveFavorite, showMessage, toggleStar } from "./star.js";

const FLASH_KEY = "kurobara-collection-flash";
const UNDO_KEY = "kurobara-collection-undo";
const grid = document.querySelector("[data-collection]");
const bar = document.querySelector("[data-selection-bar]");
const bulkMessage = document.querySelector("[data-bulk-message]");

// Sort and filter selects apply at once; the Apply button is there for keyboards and no-JS.
for (const select of document.querySelectorAll("[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.requestSubmit());
}

// A bulk action reloads the page (counts and order change); its message survives the reload.
const flash = sessionStorage.getItem(FLASH_KEY);
if (flash) {
  sessionStorage.removeItem(FLASH_KEY);
  const { text, kind } = JSON.parse(flash);
  showMessage(bulkMessage, text, kind);
}

// A removal reloads the page too; its Undo stays offered until the few seconds are up.
const pendingUndo = sessionStorage.getItem(UNDO_KEY);
if (pendingUndo) {
  sessionStorage.removeItem(UNDO_KEY);
  const { text, kept, until } = JSON.parse(pendingUndo);
  if (until > Date.now()) {
    offerUndo(bulkMessage, text, kept, () => window.location.reload(), until);
  } else {
    showMessage(bulkMessage, text, "info");
  }
}

if (grid) {
  const boxes = [...grid.querySelectorAll("[data-select]")];
  const selectAll = bar.querySelector("[data-select-all]");
  const count = bar.querySelector("[data-selected-count]");
  const buttons = [...bar.querySelectorAll("[data-bulk]")];
  let anchor = null;

  const selected = () => boxes.filter((box) => box.checked).map((box) => box.value);

  function refresh() {
    for (const box of boxes) box.closest("[data-entry]").classList.toggle("is-selected", box.checked);
    const n = selected().length;
    count.textContent = `${n} selected`;
    for (const button of buttons) button.disabled = n === 0;
    selectAll.checked = n > 0 && n === boxes.length;
    selectAll.indeterminate = n > 0 && n < boxes.length;
  }

  grid.addEventListener("click", (event) => {
    const box = event.target.closest("[data-select]");
    if (box) {
      const at = boxes.indexOf(box);
      if (event.shiftKey && anchor !== null) {
        const [from, to] = [Math.min(anchor, at), Math.max(anchor, at)];
        for (const other of boxes.slice(from, to + 1)) other.checked = box.checked;
      }
      anchor = at;
      refresh();
      return;
    }
    const star = event.target.closest("[data-star]");
    if (star) {
      toggleStar(
        star,
        (pressed) => saveFavorite(star.dataset.mangaId, pressed),
        (err) => showMessage(bulkMessage, `Could not change the favorite: ${err.message}`, "error"),
      );
    }
  });
  // Space on a focused checkbox fires click too, so keyboard users get the same behaviour.

  selectAll.addEventListener("change", () => {
    for (const box of boxes) box.checked = selectAll.checked;
    anchor = null;
    refresh();
  });

  const actions = {
    favorite: async (ids) => {
      await api.patch("/favorites/bulk", { manga_ids: ids, is_favorite: true });
      return `Favorited ${ids.length}.`;
    },
    unfavorite: async (ids) => {
      await api.patch("/favorites/bulk", { manga_ids: ids, is_favorite: false });
      return `Unfavorited ${ids.length}.`;
    },
    move: async (ids) => {
      const select = bar.querySelector("[data-bulk-category]");
      const categoryIds = select.value ? [select.value] : [];
      await api.patch("/library/bulk", { manga_ids: ids, category_ids: categoryIds, mode: "move" });
      const where = select.value ? `to ${select.selectedOptions[0].textContent}` : "out of every category";
      return `Moved ${ids.length} ${where}.`;
    },
    "add-category": async (ids) => {
      const select = bar.querySelector("[data-bulk-category]");
      if (!select.value) return "Choose a category to add the titles to.";
      await api.patch("/library/bulk", { manga_ids: ids, category_ids: [select.value], mode: "add" });
      return `Added ${ids.length} to ${select.selectedOptions[0].textContent}.`;
    },
    remove: async (ids) => {
      const what = ids.length === 1 ? "this title" : `these ${ids.length} titles`;
      if (!(await confirmRemoval(`Remove ${what} from your library?`))) return null;
      const kept = await snapshot(ids);
      await Promise.all(ids.map((id) => api.delete(`/library/${id}`)));
      const text = `Removed ${ids.length} from your library.`;
      sessionStorage.setItem(UNDO_KEY, JSON.stringify({ text, kept, until: Date.now() + UNDO_MS }));
      return "";
    },
  };

  for (const button of buttons) {
    button.addEventListener("click", async () => {
      const ids = selected();
      if (!ids.length) return;
      button.setAttribute("aria-busy", "true");
      try {
        const text = await actions[button.dataset.bulk](ids);
        if (text === null) {
          button.removeAttribute("aria-busy");
          return;
        }
        if (text) sessionStorage.setItem(FLASH_KEY, JSON.stringify({ text, kind: "success" }));
        window.location.reload();
      } catch (err) {
        showMessage(bulkMessage, `Nothing changed: ${err.message}`, "error");
        button.removeAttribute("aria-busy");
      }
    });
  }
  refresh();
}

// --- favorites import ------------------------------------------------------------------------

const fileInputs = document.querySelectorAll("[data-import-file]");
const report = document.querySelector("[data-import-report]");

const JOB_POLL_MS = 1500;
const RESULT_LABELS = { imported: "imported", already_present: "already a favorite", failed: "failed" };

function showReport(result) {
  const summary = report.querySelector("[data-import-summary]");
  const kind = result.failed ? "warning" : "success";
  showMessage(
    summary,
    `Import finished: ${result.imported} imported, ${result.already_present} already there, ${result.failed} failed.`,
    kind,
  );
  const rows = result.items.map((item) => {
    const row = document.createElement("tr");
    const cells = [String(item.index + 1), item.title ?? "—", RESULT_LABELS[item.status] + (item.error ? `: ${item.error}` : "")];
    for (const [i, text] of cells.entries()) {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (i === 0) cell.className = "num";
      row.append(cell);
    }
    row.dataset.status = item.status;
    return row;
  });
  report.querySelector("[data-import-rows]").replaceChildren(...rows);
  report.querySelector(".table-wrap").hidden = rows.length === 0;
  report.hidden = false;
}

for (const fileInput of fileInputs) fileInput.addEventListener("change", async () => {
  const file = fileInput.files?.[0];
  if (!file) return;
  const summary = report.querySelector("[data-import-summary]");
  report.hidden = false;
  report.querySelector(".table-wrap").hidden = true;
  showMessage(summary, `Importing ${file.name}…`, "info");
  try {
    let result;
    if ("importCsv" in fileInput.dataset) {
      result = await api.post("/favorites/import/csv", undefined, { csv: await file.text(), timeout: 300_000 });
    } else {
      let payload;
      try {
        payload = JSON.parse(await file.text());
      } catch {
        throw new Error("this file is not JSON; choose a JSON export of Kurobara favorites");
      }
      result = await api.post("/favorites/import", payload, { timeout: 300_000 });
    }
    // A large file comes back as a background job: follow its progress until it is done.
    while (result.job_id && result.status !== "done") {
      showMessage(summary, `Importing ${file.name}: ${result.processed} of ${result.total} items…`, "info");
      await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
      result = await api.get(`/favorites/import/jobs/${result.job_id}`);
    }
    showReport(result);
  } catch (err) {
    showMessage(summary, `Import failed: ${err.message}`, "error");
  } finally {
    fileInput.value = "";
  }
});
