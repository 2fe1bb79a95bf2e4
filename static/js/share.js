// A share link (templates/_share.html): the phone's share sheet where the browser has one,
// otherwise the link is copied and "已复制" shows. Without JavaScript it is a plain link.
(function () {
  "use strict";
  document.querySelectorAll("[data-share]").forEach(function (link) {
    if (link.dataset.shareBound) return;
    link.dataset.shareBound = "1";
    var done = link.parentNode.querySelector(".share-done");
    function copied(ok) {
      done.textContent = ok ? link.dataset.copied : link.dataset.copyManually;
    }
    function fallbackCopy(text) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      copied(ok);
    }
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var url = link.href;
      if (navigator.share) {
        navigator.share({ title: link.dataset.title, url: url }).catch(function () {});
      } else if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(url).then(function () { copied(true); }, function () { fallbackCopy(url); });
      } else {
        fallbackCopy(url);
      }
    });
  });
})();
