// Live parts of a page: an element with data-refresh="URL" is fetched again every data-refresh-seconds (on <body>)
// and replaced; data-rerun names a script to run again on the new content (the report's map highlighting).
(function () {
  var seconds = parseInt(document.body.dataset.refreshSeconds || "30", 10);
  document.querySelectorAll("[data-refresh]").forEach(function (el) {
    setInterval(function () {
      fetch(el.dataset.refresh, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          el.innerHTML = html;
          el.dataset.refreshed = String(Date.now());
          if (el.dataset.rerun) {
            var s = document.createElement("script");
            s.src = el.dataset.rerun;
            document.body.appendChild(s);
          }
        })
        .catch(function () { el.dataset.refreshFailed = String(Date.now()); });
    }, seconds * 1000);
  });
})();
