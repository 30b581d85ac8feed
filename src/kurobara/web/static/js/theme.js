// Light and dark themes: the system preference by default, overridden per browser by the
// header toggle or the choice on the settings page (kept in localStorage).

const KEY = "kurobara-theme";
const root = document.documentElement;
const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

/** The stored choice: "light", "dark" or "system". */
export function savedTheme() {
  try {
    const value = localStorage.getItem(KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    return "system";
  }
}

/** The theme on screen now: "light" or "dark". */
export function effectiveTheme() {
  const saved = savedTheme();
  if (saved !== "system") return saved;
  return systemDark.matches ? "dark" : "light";
}

/** Apply and remember a choice ("light", "dark" or "system"). */
export function setTheme(choice) {
  try {
    if (choice === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // Not persisted, but still applied for this page.
  }
  if (choice === "system") delete root.dataset.theme;
  else root.dataset.theme = choice;
  sync();
}

function sync() {
  const next = effectiveTheme() === "dark" ? "light" : "dark";
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.setAttribute("aria-label", `Switch to ${next} theme`);
    button.title = `Switch to ${next} theme`;
  }
  for (const input of document.querySelectorAll("[data-theme-choice] input[name=theme]")) {
    input.checked = input.value === savedTheme();
  }
}

export function initTheme() {
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.addEventListener("click", () => {
      setTheme(effectiveTheme() === "dark" ? "light" : "dark");
    });
  }
  for (const group of document.querySelectorAll("[data-theme-choice]")) {
    group.addEventListener("change", (event) => setTheme(event.target.value));
  }
  systemDark.addEventListener("change", sync);
  sync();
}
