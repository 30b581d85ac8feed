// The reader: ← and → open the previous and next chapter (unless a form control has focus).

const links = { ArrowLeft: document.querySelector("[data-prev]"), ArrowRight: document.querySelector("[data-next]") };

document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
  const link = links[event.key];
  if (!link) return;
  event.preventDefault();
  window.location.assign(link.href);
});
