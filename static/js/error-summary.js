// GOV.UK's error summary: focus it on load (so a phone shows it, and a screen
// reader reads it), and make each link focus its field, not only scroll to it.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) {
      return;
    }
    event.preventDefault();
    var label = target.id ? document.querySelector("label[for='" + target.id + "']") : null;
    (label || target).scrollIntoView({ block: "center", behavior: "instant" });
    target.focus({ preventScroll: true });
  });
})();
