// The queue badge in the menu: new and urgent handoffs, refreshed every 15 seconds.
// A static file because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var INTERVAL_MS = 15000;
  var badge = document.querySelector(".queue-badge[data-badge-url]");
  if (!badge) {
    return;
  }
  var url = badge.getAttribute("data-badge-url");

  function show(counts) {
    badge.textContent = counts.label;
    badge.classList.toggle("badge", counts.new + counts.urgent > 0);
    badge.classList.toggle("badge-urgent", counts.urgent > 0);
  }

  function refresh() {
    // A hidden tab does not need fresh counts; it catches up when shown again.
    if (document.hidden) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        // Signed out (a redirect to the sign-in page) or refused: stop asking.
        if (!response.ok || response.redirected) {
          window.clearInterval(timer);
          return null;
        }
        return response.json();
      })
      .then(function (counts) {
        if (counts) {
          show(counts);
        }
      })
      .catch(function () {
        // Offline for a moment: keep the last counts and try again at the next tick.
      });
  }

  var timer = window.setInterval(refresh, INTERVAL_MS);
  document.addEventListener("visibilitychange", refresh);
  refresh();
})();
