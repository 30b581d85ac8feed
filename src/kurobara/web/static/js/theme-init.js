// Runs before the first paint (a classic, blocking script): apply the theme saved in this
// browser so a dark-theme reader never sees a white flash, and mark that scripts run.
(function () {
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var saved = localStorage.getItem("kurobara-theme");
    if (saved === "light" || saved === "dark") root.dataset.theme = saved;
  } catch (e) {
    // Storage can be blocked (privacy modes); the system preference then applies.
  }
})();
