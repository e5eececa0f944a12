// Embedded mode: tell the host page our height, each save and the end of the session, by
// postMessage. Events (see README): {type: "prefcenter:resize", height},
// {type: "prefcenter:saved", saved: [{topic_id, status, channels}], failed: [topic_id]} and
// {type: "prefcenter:expired"}.
(function () {
  "use strict";
  var body = document.body;
  var origins = (body.getAttribute("data-parent-origins") || "").split(" ").filter(Boolean);
  if (window.parent === window || origins.length === 0) return;

  function post(message) {
    // Only the configured host origins may receive messages; others are dropped by the browser.
    origins.forEach(function (origin) { window.parent.postMessage(message, origin); });
  }

  // The content's own height, not the document's: inside a frame the document is at least as
  // tall as the frame the host sized, so its scrollHeight would let the frame grow but never
  // shrink. The body's height is its content's (nothing gives it a minimum).
  var lastHeight = 0;
  function reportHeight() {
    var bottom = body.getBoundingClientRect().bottom + window.scrollY;
    var height = Math.ceil(bottom + parseFloat(window.getComputedStyle(body).marginBottom || 0));
    if (height !== lastHeight) {
      lastHeight = height;
      post({ type: "prefcenter:resize", height: height });
    }
  }
  reportHeight();
  if ("ResizeObserver" in window) {
    new ResizeObserver(reportHeight).observe(body);
  } else {
    new MutationObserver(reportHeight).observe(body, {
      attributes: true, childList: true, characterData: true, subtree: true,
    });
    window.addEventListener("resize", reportHeight);
  }
  window.addEventListener("load", reportHeight); // images and fonts change the height late

  // Whatever page is shown may carry messages for the host: a save's result
  // (data-save-event) or the end of the session (data-embed-event), on any element.
  document.querySelectorAll("[data-save-event], [data-embed-event]").forEach(function (el) {
    ["data-save-event", "data-embed-event"].forEach(function (name) {
      var message = el.getAttribute(name);
      if (message) post(JSON.parse(message));
    });
  });
  // app.js saves each change without a page load; it hands over the same message to pass on.
  document.addEventListener("prefcenter:autosaved", function (event) {
    if (event.detail.event) post(event.detail.event);
  });
  // An autosave refused because the session ended (a 410 answer): the host renews the token.
  // app.js may announce it; until then its Reload button leads to the expired page, which says so.
  document.addEventListener("prefcenter:expired", function () {
    post({ type: "prefcenter:expired" });
  });
})();
