// Live refresh (server-sent events), "/" to search, the print button. No inline script: the page's CSP.
(function () {
  "use strict";
  var content = document.getElementById("content");
  var status = document.getElementById("live-status");
  if (content && content.dataset.live && window.EventSource) {
    var pending = false;
    var refresh = function () {
      if (pending) { return; }
      pending = true;
      fetch(content.dataset.live, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null) { content.innerHTML = html; content.dataset.updated = String(Date.now()); }
        })
        .catch(function () { /* the next event retries */ })
        .then(function () { pending = false; });
    };
    var events = new EventSource("/events");
    events.addEventListener("open", function () { status.textContent = "● live"; status.className = "live on"; });
    events.addEventListener("error", function () { status.textContent = "○ reconnecting"; status.className = "live"; });
    events.addEventListener("records", refresh);
    events.addEventListener("tick", refresh);
    window.addEventListener("pagehide", function () { events.close(); });
  }
  document.addEventListener("keydown", function (e) {
    var q = document.getElementById("q");
    var typing = document.activeElement && /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (e.key === "/" && q && !typing) { e.preventDefault(); q.focus(); }
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
})();
