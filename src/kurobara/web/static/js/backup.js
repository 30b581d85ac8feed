// The Library's "Restore from backup…": a dry run first, its report in words, then the import
// itself once the user confirms.

import { api } from "./api.js";
import { showMessage } from "./star.js";

const input = document.querySelector("[data-backup-file]");
const report = document.querySelector("[data-backup-report]");

function describe(result) {
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const parts = [
    `${plural(result.imported, "title", "titles")} ${result.dry_run ? "to add" : "added"}`,
    `${result.already_present} already here`,
  ];
  if (result.needs_fetch) parts.push(`${result.needs_fetch} to fetch from their sites`);
  if (result.failed) parts.push(`${result.failed} not found`);
  parts.push(plural(result.categories_created.length, "new category", "new categories"));
  parts.push(plural(result.read_chapters_marked, "read chapter", "read chapters"));
  const head = result.dry_run ? "This backup would bring:" : "Restored:";
  const unmatched = result.read_chapters_unmatched
    ? ` ${result.read_chapters_unmatched} read marks name chapters not listed here yet.`
    : "";
  return `${head} ${parts.join(", ")}.${unmatched}`;
}

if (input && report) {
  const summary = report.querySelector("[data-backup-summary]");
  const actions = report.querySelector("[data-backup-actions]");
  let pending = null;

  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    report.hidden = false;
    actions.hidden = true;
    showMessage(summary, `Reading ${file.name}…`, "info");
    try {
      try {
        pending = JSON.parse(await file.text());
      } catch {
        throw new Error("this file is not JSON; choose a Kurobara library backup");
      }
      const dry = await api.post("/library/import", pending, { query: { dry_run: "true" } });
      showMessage(summary, describe(dry), "info");
      actions.hidden = false;
    } catch (err) {
      showMessage(summary, `Cannot restore: ${err.message}`, "error");
    }
  });

  report.querySelector("[data-backup-cancel]").addEventListener("click", () => {
    pending = null;
    report.hidden = true;
  });

  report.querySelector("[data-backup-confirm]").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.setAttribute("aria-busy", "true");
    try {
      const done = await api.post("/library/import", pending, { timeout: 300_000 });
      actions.hidden = true;
      showMessage(summary, describe(done), done.failed ? "warning" : "success");
    } catch (err) {
      showMessage(summary, `Restore failed: ${err.message}`, "error");
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
}
