// A campaign's live progress: the figures fragment fetched again every 2 seconds until the campaign
// is done or cancelled, then the page reloads once so its buttons and results match.
// A static file because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var INTERVAL_MS = 2000;
  var box = document.getElementById("campaign-progress");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-progress-url");

  function status() {
    var current = box.querySelector(".campaign-progress");
    return current ? current.getAttribute("data-status") : null;
  }

  var shownStatus = status();

  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        // Signed out or refused: stop asking.
        if (!response.ok || response.redirected) {
          window.clearInterval(timer);
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        // The server's own escaped template, from the same origin.
        box.innerHTML = html;
        var now = status();
        if (now !== shownStatus) {
          // Paused, resumed, done or cancelled elsewhere: the page's buttons must follow.
          window.clearInterval(timer);
          window.location.reload();
        }
      })
      .catch(function () {
        // Offline for a moment: keep the last figures and try again at the next tick.
      });
  }

  var timer = window.setInterval(refresh, INTERVAL_MS);
  document.addEventListener("visibilitychange", refresh);
})();
