// Forms posted the classic way: mark the submit button busy so a double click does not send
// the form twice (the page is replaced by the response anyway).

export function initForms() {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
    const button = event.submitter ?? form.querySelector("[type=submit]");
    if (!button) return;
    if (button.getAttribute("aria-busy") === "true") {
      event.preventDefault();
      return;
    }
    button.setAttribute("aria-busy", "true");
  });
  // A page restored from the back/forward cache must not keep a busy button.
  window.addEventListener("pageshow", () => {
    for (const button of document.querySelectorAll("[aria-busy=true]")) {
      button.removeAttribute("aria-busy");
    }
  });
}
