// The phone menu: the nav folds behind a button below the CSS breakpoint.

export function initNav() {
  const button = document.querySelector("[data-nav-toggle]");
  if (!button) return;
  const nav = document.getElementById(button.getAttribute("aria-controls"));
  const setOpen = (open) => {
    nav.classList.toggle("is-open", open);
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", () => setOpen(!nav.classList.contains("is-open")));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("is-open")) {
      setOpen(false);
      button.focus();
    }
  });
}
