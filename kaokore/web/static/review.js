// kaokore web --review: keyboard shortcuts. Every key presses a button of a plain form
// (which carries the CSRF token), so the page works the same without this file.
"use strict";
(function () {
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) { return; }
    var key = event.key === "Enter" ? "a" : event.key.toLowerCase();
    var button = document.querySelector('button[data-key="' + key + '"]');
    if (!button || button.disabled) { return; }
    event.preventDefault();
    button.disabled = true;  // one decision per key press, even on a slow server
    button.form.submit();
  });
  document.documentElement.setAttribute("data-review-keys", "on");
})();
