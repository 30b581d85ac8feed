// Shared words of the downloads UI: a chapter's label, a size in bytes, a queue row's state.

export function chapterLabel(row) {
  if (!row.chapter_number) return row.chapter_title || "Extra";
  // Many sites already start the title with "Chapter 12"; do not say it twice.
  if (row.chapter_title?.toLowerCase().startsWith(`chapter ${row.chapter_number}`.toLowerCase())) return row.chapter_title;
  return `Chapter ${row.chapter_number}${row.chapter_title ? `: ${row.chapter_title}` : ""}`;
}

export function formatBytes(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function stateText(row) {
  if (row.state === "done") return "Offline";
  if (row.state === "running") return row.page_count ? `Downloading ${row.pages_done}/${row.page_count}` : "Downloading";
  if (row.state === "waiting") return `Waiting: ${row.reason ?? "provider unavailable"}`;
  if (row.state === "failed") return `Failed: ${row.reason ?? "unknown error"}`;
  return "Queued";
}

export function usageText(usage) {
  const pending = usage.pending ? ` · ${usage.pending} not finished` : "";
  return `${usage.chapters} chapter${usage.chapters === 1 ? "" : "s"} offline, ${formatBytes(usage.bytes)}${pending}`;
}
