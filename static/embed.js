// Embedded mode: tell the host page our height and each save, by postMessage.
// Events (see README): {type: "prefcenter:resize", height} and
// {type: "prefcenter:saved", saved: [{topic_id, status, channels}], failed: [topic_id]}.
(function () {
  "use strict";
  var body = document.body;
  var origins = (body.getAttribute("data-parent-origins") || "").split(" ").filter(Boolean);
  if (window.parent === window || origins.length === 0) return;

  function post(message) {
    // Only the configured host origins may receive messages; others are dropped by the browser.
    origins.forEach(function (origin) { window.parent.postMessage(message, origin); });
  }

  var lastHeight = 0;
  function reportHeight() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height !== lastHeight) {
      lastHeight = height;
      post({ type: "prefcenter:resize", height: height });
    }
  }
  reportHeight();
  if ("ResizeObserver" in window) {
    new ResizeObserver(reportHeight).observe(document.documentElement);
  } else {
    window.addEventListener("resize", reportHeight);
  }

  var saveEvent = body.getAttribute("data-save-event");
  if (saveEvent) post(JSON.parse(saveEvent));
  // app.js saves each change without a page load; it hands over the same message to pass on.
  document.addEventListener("prefcenter:autosaved", function (event) {
    if (event.detail.event) post(event.detail.event);
  });
})();
