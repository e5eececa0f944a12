// Autosave: each change posts the changed topics' controls, named in `only` (the server writes
// only what differs from the signed snapshot in `rendered`, and answers a new one), one save
// at a time. Save still works, posting the whole form.
(function () {
  "use strict";
  // A page restored from the back/forward cache shows the switches as they were when left:
  // load it again, so it shows what Courier holds now.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) window.location.reload();
  });
  const form = document.querySelector("form.preferences");
  const status = form && form.querySelector(".autosave-status");
  if (!status || !window.fetch) return;
  const button = form.querySelector(".autosave-action"); // Undo, Retry or Reload
  const text = status.dataset; // translated messages
  // Each change saves itself: Save is for pages without this script (style.css hides it).
  document.documentElement.classList.add("js");
  // The feedback sits beside the topic last changed, not at the foot of a long page.
  const feedback = document.createElement("div");
  feedback.className = "topic-feedback";
  feedback.append(status, button);
  form.append(feedback);
  function placeFeedback(topic) {
    if (topic && feedback.parentNode !== topic && !feedback.contains(document.activeElement)) {
      topic.append(feedback);
    }
  }

  let queued = []; // changes not sent yet: {input, was}
  let unsaved = []; // sent, not saved: sent again next time
  let lastSaved = []; // for Undo
  let sending = false;
  let submitLater = false;
  let onClick = null;

  const topicOf = (el) => el.closest(".topic");
  const nameOf = (c) => topicOf(c.input).querySelector(".topic-name").textContent;
  // Joined with the page language's separator (Arabic: "، "), as the server's lists are.
  const list = (items) => [...new Set(items)].join(text.separator || ", ");

  // Urlencoded and only what changed: a page of a hundred topics with channels would
  // outgrow the request size limit as a whole multipart form.
  function payload(changes) {
    const body = new URLSearchParams();
    body.append("csrf_token", form.elements.csrf_token.value);
    body.append("rendered", form.elements.rendered.value);
    for (const topic of new Set(changes.map((c) => topicOf(c.input)))) {
      body.append("only", topic.dataset.topic);
      for (const input of topic.querySelectorAll("input[name]")) {
        if (!input.disabled && (!ticks(input) || input.checked)) {
          body.append(input.name, input.value);
        }
      }
    }
    return body;
  }

  function say(message, label, action, bad) {
    status.textContent = message;
    status.classList.toggle("is-error", !!bad);
    onClick = action;
    if (label) {
      button.textContent = label;
      button.hidden = false;
      button.removeAttribute("aria-disabled");
    } else if (document.activeElement === button) {
      button.setAttribute("aria-disabled", "true"); // hiding it would lose the keyboard's place
    } else {
      button.hidden = true;
    }
  }

  // A topic's summary in words ("Email, Push notification", "On", "Off") follows its controls.
  function summarise(topic) {
    const summary = topic.querySelector(".topic-summary");
    if (!summary) return;
    const on = topic.querySelector(".switch").checked;
    const chosen = [...topic.querySelectorAll(".channel input:checked")].map(
      (input) => input.closest(".channel").querySelector(".channel-name").textContent);
    summary.textContent = !on ? text.off : chosen.length ? chosen.join(text.separator) : text.on;
  }

  // Checkboxes, and the radios of a topic's "How often": posted only when ticked.
  const ticks = (input) => input.type === "checkbox" || input.type === "radio";
  // The radio ticked in each group, so a change can say which one it replaced (for Undo).
  const ticked = new Map([...form.querySelectorAll("input[type=radio]:checked")].map((r) => [r.name, r]));

  form.addEventListener("change", (event) => {
    const input = event.target;
    if (!ticks(input) || !topicOf(input)) return;
    if (input.type === "radio") {
      // Undo ticks the one it replaced again, and an Undo of that ticks this one.
      const was = ticked.get(input.name);
      ticked.set(input.name, input);
      queued.push(was ? { input: was, was: true, now: input } : { input: input, was: false });
      placeFeedback(topicOf(input));
      return send();
    }
    summarise(topicOf(input));
    queued.push({ input: input, was: !input.checked });
    placeFeedback(topicOf(input));
    send();
  });

  // Save posts the form after the save in flight, so with its new snapshot.
  form.addEventListener("submit", (event) => {
    if ((submitLater = sending)) event.preventDefault();
  });

  button.addEventListener("click", () => {
    if (onClick && !button.hasAttribute("aria-disabled")) onClick();
  });

  async function send(retry) {
    if (sending || !(queued.length || retry)) return; // queued: sent after this one
    const changes = unsaved.concat(queued);
    queued = [];
    unsaved = [];
    sending = true;
    say(text.saving, "");
    let data = null;
    let code = 0; // 0: offline
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: payload(changes),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      code = response.status;
      data = await response.json();
    } catch (error) {
      // offline, or not our answer (a proxy's error page)
    }
    sending = false;
    settle(code, data || {}, changes);
    if (submitLater) form.submit();
    else send();
  }

  function settle(code, data, changes) {
    const retry = () => send(true);
    unsaved = changes;
    if (data.rendered) {
      // All or (502) some saved: the snapshot moved on for the saved topics only.
      clearErrors();
      form.elements.rendered.value = data.rendered;
      form.elements.csrf_token.value = data.csrf_token;
      form.action = data.action; // embedded: a renewed token
      document.dispatchEvent(new CustomEvent("prefcenter:autosaved", { detail: data }));
      const failed = data.failed.map((f) => f.topic_id);
      // Refused topics are sent again with the next change, so their errors stay in view.
      const refusedTopics = (data.errors || []).map((e) => {
        const target = e.field && document.getElementById(e.field);
        return target && topicOf(target) ? topicOf(target).dataset.topic : null;
      });
      unsaved = changes.filter((c) => failed.concat(refusedTopics).includes(topicOf(c.input).dataset.topic));
      const saved = data.saved.map((s) => s.message);
      const refused = data.errors || [];
      // A refused topic shows its error beside it; the others were saved all the same.
      refused.forEach((e) => showError(e.field, e.message));
      let message = saved.length ? [text.saved].concat(saved).join(" ") : text.nothing;
      if (refused.length && !failed.length && !(data.conflicts || []).length) {
        if (saved.length) lastSaved = changes.filter((c) => !topicOf(c.input).classList.contains("has-error"));
        const why = [text.notSaved].concat(refused.map((e) => e.message)).join(" ");
        return say(saved.length ? `${message} ${why}` : why, saved.length ? text.undo : "",
          saved.length ? undo : null, true);
      }
      const conflicts = (data.conflicts || []).map((c) => c.message);
      if (conflicts.length) {
        // Changed elsewhere meanwhile: only a reload shows what is saved now.
        if (!saved.length) message = "";
        return say([message].concat(conflicts).join(" ").trim(), text.reload,
          () => window.location.reload(), true);
      }
      if (!failed.length) {
        lastSaved = changes;
        return say(message, saved.length ? text.undo : "", undo);
      }
      if (!saved.length) message = "";
      say(`${message} ${text.failed.replace("{topics}", list(data.failed.map((f) => f.name)))}`
        .trim(), text.retry, retry, true);
    } else if (data.errors) {
      // Refused (invalid, or a stale page): nothing was written.
      clearErrors();
      data.errors.forEach((e) => showError(e.field, e.message));
      const message = [text.notSaved].concat(data.errors.map((e) => e.message)).join(" ");
      if (data.reload) say(message, text.reload, () => window.location.reload(), true);
      else say(message, "", null, true);
      // An embedded session that ended: the host page (embed.js) can mint a fresh link.
      if (code === 410) document.dispatchEvent(new CustomEvent("prefcenter:expired"));
    } else {
      const message = code ? text.failed : text.offline;
      say(message.replace("{topics}", list(changes.map(nameOf))), text.retry, retry, true);
    }
  }

  function undo() {
    for (const change of lastSaved.reverse()) {
      queued.push(change.now ? { input: change.now, was: true, now: change.input }
        : { input: change.input, was: change.input.checked });
      change.input.checked = change.was;
      if (change.now) ticked.set(change.input.name, change.input);
      summarise(topicOf(change.input));
    }
    lastSaved = [];
    send(true);
  }

  function describe(el, edit) {
    const ids = edit((el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
    else el.removeAttribute("aria-describedby");
  }

  // As the server marks errors up: <p class="field-error" id="FIELD-error">.
  function showError(field, message) {
    const target = field && document.getElementById(field);
    const topic = target && topicOf(target);
    if (!topic) return;
    const p = document.createElement("p");
    p.className = "field-error";
    p.id = field + "-error";
    p.textContent = message;
    // Where the server puts it: in the channels' group, or under the topic's name.
    if (target.classList.contains("channels")) target.append(p);
    else topic.querySelector(".topic-main").append(p);
    describe(target, (ids) => ids.concat(p.id));
    topic.classList.add("has-error");
  }

  function clearErrors() {
    document.querySelectorAll(".field-error, .error-summary").forEach((el) => el.remove());
    form.querySelectorAll("[aria-describedby]").forEach((el) =>
      describe(el, (ids) => ids.filter((id) => !id.endsWith("-error"))));
    form.querySelectorAll(".has-error").forEach((el) => el.classList.remove("has-error"));
  }
})();
