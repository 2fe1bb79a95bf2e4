// The big screen refreshes itself: every data-refresh seconds it fetches the page again and
// swaps in the new figures; while the network is down it keeps the last figures and says so.
(function () {
  "use strict";
  var screen = document.getElementById("screen");
  if (!screen) { return; }
  var seconds = parseInt(screen.getAttribute("data-refresh"), 10) || 300;

  function tick() {
    var clock = document.getElementById("screen-clock");
    if (!clock) { return; }
    // The hall's time (the server's offset, e.g. +08:00), whatever the display's own zone.
    var match = /([+-])(\d\d):?(\d\d)$/.exec(screen.getAttribute("data-updated") || "");
    var offset = match ? (match[1] === "-" ? -1 : 1) * (60 * +match[2] + +match[3]) : 480;
    var now = new Date(Date.now() + offset * 60 * 1000);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    clock.textContent = now.getUTCFullYear() + "-" + two(now.getUTCMonth() + 1) + "-" +
      two(now.getUTCDate()) + " " + two(now.getUTCHours()) + ":" + two(now.getUTCMinutes());
  }

  function refresh() {
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("screen");
        if (fresh) { screen.innerHTML = fresh.innerHTML; tick(); }
      })
      .catch(function () {
        var offline = document.getElementById("screen-offline");
        if (offline) { offline.hidden = false; }
      });
  }

  tick();
  window.setInterval(tick, 30 * 1000);
  window.setInterval(refresh, seconds * 1000);
})();
