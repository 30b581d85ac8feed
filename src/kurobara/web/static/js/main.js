// Loaded by every page. Page-specific modules are added by their templates (block head).
import { initForms } from "./forms.js";
import { initNav } from "./nav.js";
import { initTheme } from "./theme.js";

initTheme();
initNav();
initForms();
