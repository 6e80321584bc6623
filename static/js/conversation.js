// The open conversation (inbox/conversation.html, a pane of the inbox's workspace): colleagues viewing and
// typing, from its WebSocket (ConversationConsumer in apps/inbox/consumers.py, opened and reopened by the htmx
// ws extension); the conversation kept live from the list's WebSocket (new messages, replies, deliveries,
// changes of status, assignee and tags: its thread and controls are fetched again, the composer and the note
// form, with any draft in them, are left alone); a warning before sending a reply when a colleague replied or
// is typing one; the SLA timer; times in the agent's own time zone; and the refusals (HTTP 400) and conflicts
// (HTTP 409) of the pane's forms, shown where they were sent.
(() => {
  "use strict";

  const HEARTBEAT_MS = 10000; // apps/inbox/presence.py: HEARTBEAT_SECONDS, well within its 30 s TTL
  const TYPING_SEND_MS = 3000; // while someone types, one "typing" event this often at most
  const TYPING_SHOWN_MS = 6000; // someone's typing is shown this long after their latest event
  const SLA_REFRESH_MS = 30000;
  const UNITS = [
    ["day", 86400000],
    ["hour", 3600000],
    ["minute", 60000],
  ];

  const page = () => document.querySelector("[data-conversation-page]");
  const openId = () => (page() ? Number(page().dataset.conversation) : null);
  const isPageSocket = (event) => event.target.matches && event.target.matches("[data-conversation-page]");
  let socket = null; // the ws extension's wrapper while the socket is open
  let heartbeat = null;
  let viewers = []; // [{user, name}] but me
  const typing = new Map(); // user id -> {name, field, until}
  let typingSentAt = 0;

  function send(message) {
    if (socket) socket.send(JSON.stringify(message));
  }

  // --------------------------------------------------------------------------- who is viewing or typing
  function names(list) {
    if (list.length < 2) return list.join("");
    return `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}`;
  }

  function showPresence() {
    const now = Date.now();
    for (const [user, entry] of typing) if (entry.until <= now) typing.delete(user);
    const viewing = viewers.filter((viewer) => !typing.has(viewer.user)).map((viewer) => viewer.name);
    const parts = [];
    if (viewing.length) parts.push(`${names(viewing)} ${viewing.length === 1 ? "is" : "are"} viewing`);
    for (const entry of typing.values()) {
      parts.push(`${entry.name} is ${entry.field === "note" ? "writing a note" : "typing a reply"}…`);
    }
    const status = document.getElementById("conversation-presence");
    const text = parts.join(" · ");
    // Only on a change: a live region reads out every new text, and heartbeats repeat the same one.
    if (status && status.textContent !== text) status.textContent = text;
  }

  document.addEventListener("htmx:wsOpen", (event) => {
    if (!isPageSocket(event)) return;
    socket = event.detail.socketWrapper;
    page().dataset.live = "true"; // what waits for live events (and the browser tests) can look at
    clearInterval(heartbeat);
    heartbeat = setInterval(() => send({ type: "heartbeat" }), HEARTBEAT_MS);
  });

  document.addEventListener("htmx:wsClose", (event) => {
    // The socket of a conversation the agent moved away from (j/k) closes after the next one's may open.
    if (!isPageSocket(event) || !event.target.isConnected) return;
    socket = null;
    delete page().dataset.live;
    clearInterval(heartbeat);
    viewers = [];
    typing.clear();
    showPresence();
  });

  // The socket speaks JSON, not HTML for htmx to swap.
  document.addEventListener("htmx:wsBeforeMessage", (event) => {
    if (!isPageSocket(event)) return;
    event.preventDefault();
    let data;
    try {
      data = JSON.parse(event.detail.message);
    } catch {
      return;
    }
    const me = Number(page().dataset.user);
    if (data.event === "presence") {
      viewers = data.viewers.filter((viewer) => viewer.user !== me);
      // Whoever left stopped typing too.
      const present = new Set(viewers.map((viewer) => viewer.user));
      for (const user of typing.keys()) if (!present.has(user)) typing.delete(user);
    } else if ((data.event === "note" && data.user !== me) || data.event === "message.updated") {
      // A colleague added a note, or a message was edited, deleted or reacted to on its platform: the
      // thread shows it without a reload.
      refreshThread();
      return;
    } else if (data.event === "typing" && data.user !== me) {
      typing.set(data.user, { name: data.name, field: data.field, until: Date.now() + TYPING_SHOWN_MS });
      setTimeout(showPresence, TYPING_SHOWN_MS + 100);
    } else {
      return;
    }
    showPresence();
  });

  // Any text area of the page: the note form's says data-typing="note"; the reply composer's is a reply.
  document.addEventListener("input", (event) => {
    const field = event.target.closest && event.target.closest("textarea");
    if (!field || !field.closest("main") || !page()) return;
    const now = Date.now();
    if (now - typingSentAt < TYPING_SEND_MS) return;
    typingSentAt = now;
    send({ type: "typing", field: field.dataset.typing === "note" ? "note" : "reply" });
  });

  // --------------------------------------------------------------------------- the conversation kept live
  // The list's socket (#list-pane, InboxConsumer: the organisation's events of the brands this member may see)
  // names the conversations each event is about. Those about the open one fetch its thread or its controls
  // again; the composer and the note form are other elements, so a draft being written stays as it is.
  const THREAD_EVENTS = new Set(["message.created", "message.delivery", "message.classified", "message.updated"]);
  let controlsWaiting = false; // a refresh of the controls put off (the agent is in one of its fields, or acting)

  function refreshThread() {
    const thread = document.getElementById("thread");
    if (thread) htmx.ajax("GET", thread.dataset.threadUrl, { target: "#thread", swap: "outerHTML" });
  }

  let actionsInFlight = 0; // the agent's own actions on the controls not answered yet

  function refreshControls() {
    const controls = document.getElementById("conversation-controls");
    if (!controls) return;
    // A question about a colleague's change stays until the agent answers it; a field being filled in
    // (a tag, a snooze time) is not taken from under the agent: the refresh waits until they leave it.
    if (controls.querySelector("[data-conflict]")) return;
    const field = document.activeElement;
    // Nor does it replace the form of an action on its way: htmx drops the answer of a form no longer on the
    // page, and that answer may be the question "Yusuf took this 3 s ago — take over?".
    if (actionsInFlight || (field && controls.contains(field) && field.matches("input, select"))) {
      controlsWaiting = true;
      return;
    }
    controlsWaiting = false;
    htmx.ajax("GET", location.pathname + location.search, {
      target: "#conversation-controls",
      swap: "outerHTML",
      headers: { "HX-Target": "conversation-controls" },
    });
  }

  function controlsRequest(event, verb) {
    const detail = event.detail || {};
    const get = (detail.requestConfig && detail.requestConfig.verb) === "get";
    if (verb === "get" ? !get : get) return false;
    const at = verb === "get" ? detail.target : detail.elt;
    return Boolean(at && at.closest && at.closest("#conversation-controls"));
  }

  document.addEventListener("htmx:beforeRequest", (event) => {
    if (!controlsRequest(event, "post")) return;
    actionsInFlight += 1;
    event.detail.xhr.addEventListener("loadend", () => {
      actionsInFlight -= 1;
      if (!actionsInFlight && controlsWaiting) refreshControls();
    });
  });

  // A refresh sent just before the agent acted comes back while the action is on its way: it waits too.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (actionsInFlight && controlsRequest(event, "get")) {
      event.detail.shouldSwap = false;
      controlsWaiting = true;
    }
  });

  document.addEventListener("focusout", (event) => {
    const controls = document.getElementById("conversation-controls");
    if (controlsWaiting && controls && controls.contains(event.target) && !controls.contains(event.relatedTarget)) {
      refreshControls();
    }
  });

  function aboutOpen(data) {
    const id = openId();
    if (id === null) return false;
    if (data.event === "conversation.updated") return (data.conversations || []).includes(id);
    return (data.messages || []).some((message) => message.conversation === id);
  }

  document.addEventListener("htmx:wsBeforeMessage", (event) => {
    if (!event.target.matches || !event.target.matches("#list-pane") || !page()) return;
    let data;
    try {
      data = JSON.parse(event.detail.message);
    } catch {
      return;
    }
    if (!aboutOpen(data)) return;
    if (THREAD_EVENTS.has(data.event)) refreshThread();
    // A customer writing again reopens a closed conversation: its status changes with a new message too.
    if (data.event === "message.created") refreshControls();
    if (data.event === "conversation.updated") {
      // The agent's own action already shows that version (with what it said): nothing to fetch.
      const controls = document.getElementById("conversation-controls");
      const version = (data.versions || {})[String(openId())];
      if (!controls || version === undefined || Number(controls.dataset.version) < version) refreshControls();
    }
  });

  // --------------------------------------------------------------------------- two agents replying at once
  // Replies by others that arrived after the agent opened the conversation, and whether the agent was warned.
  let knownReplies = null; // ids of the replies in the thread when the conversation was opened (or checked)
  let newReplies = []; // [{name}] replies by colleagues since
  let warned = false;

  function replyIds() {
    return Array.from(document.querySelectorAll("#thread .msg.outbound[data-author]"), (m) => m.dataset.message);
  }

  function noteReplies() {
    const me = page() && page().dataset.user;
    const ids = replyIds();
    if (knownReplies === null) {
      knownReplies = new Set(ids);
      return;
    }
    for (const article of document.querySelectorAll("#thread .msg.outbound[data-author]")) {
      if (knownReplies.has(article.dataset.message)) continue;
      knownReplies.add(article.dataset.message);
      if (article.dataset.author !== me) {
        newReplies.push({ name: article.dataset.authorName });
        warned = false;
      }
    }
  }

  function reset() {
    // Another conversation: its own viewers and typists come with its socket.
    viewers = [];
    typing.clear();
    showPresence();
    knownReplies = null;
    newReplies = [];
    warned = false;
    noteReplies();
  }

  document.addEventListener("DOMContentLoaded", reset);
  document.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail.target;
    if (target && target.id === "conversation-pane") reset();
    else if (document.getElementById("thread")) noteReplies();
  });

  function warning() {
    const writing = Array.from(typing.values()).filter((entry) => entry.field === "reply" && entry.until > Date.now());
    const parts = [];
    if (newReplies.length) {
      const who = names([...new Set(newReplies.map((reply) => reply.name))]);
      parts.push(`${who} replied since you opened this conversation`);
    }
    if (writing.length) parts.push(`${names(writing.map((entry) => entry.name))} ${writing.length === 1 ? "is" : "are"} typing a reply right now`);
    return parts.length ? `${parts.join("; ")}. Read the thread first: press Send again to send yours anyway.` : "";
  }

  // Before a reply goes out: warn once when a colleague replied or is typing one; the next Send sends.
  document.addEventListener("htmx:confirm", (event) => {
    const form = event.detail.elt;
    if (!form || form.id !== "reply-form") return;
    const submitter = event.detail.triggeringEvent && event.detail.triggeringEvent.submitter;
    if (!submitter || submitter.value !== "send") return;
    const text = warning();
    if (!text || warned) {
      warned = false;
      newReplies = [];
      return;
    }
    event.preventDefault();
    warned = true;
    let note = document.getElementById("reply-warning");
    if (!note) {
      note = document.createElement("p");
      note.id = "reply-warning";
      note.className = "warning";
      note.setAttribute("role", "alert");
      form.prepend(note);
    }
    note.textContent = text;
  });

  // --------------------------------------------------------------------------- SLA timer and local times
  // The same words as Django's timeuntil / timesince, which render the first text: two adjacent units.
  function span(ms) {
    let rest = Math.max(0, ms);
    const parts = [];
    for (const [name, size] of UNITS) {
      const count = Math.floor(rest / size);
      rest -= count * size;
      if (count && parts.length < 2) parts.push(`${count}\u00a0${name}${count === 1 ? "" : "s"}`);
      else if (parts.length) break;
    }
    return parts.join(", ") || "0\u00a0minutes";
  }

  function refreshSla() {
    for (const timer of document.querySelectorAll("[data-sla-due]")) {
      const left = new Date(timer.dataset.slaDue).getTime() - Date.now();
      timer.textContent = left >= 0 ? `${span(left)} left` : `overdue by ${span(-left)}`;
      timer.classList.toggle("error", left < 0);
    }
  }

  function localTimes() {
    for (const time of document.querySelectorAll("time[data-local]")) {
      time.textContent = new Date(time.dateTime).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    }
  }

  setInterval(refreshSla, SLA_REFRESH_MS);
  document.addEventListener("DOMContentLoaded", localTimes);
  document.addEventListener("htmx:afterSettle", localTimes);

  // --------------------------------------------------------------------------- the page's forms
  // A date and time the agent picked is in their time zone: the server gets it in UTC.
  document.addEventListener("htmx:configRequest", (event) => {
    const picked = event.detail.elt.querySelector && event.detail.elt.querySelector("[data-local-moment]");
    if (picked && picked.value) event.detail.parameters[picked.name] = new Date(picked.value).toISOString();
  });

  // --------------------------------------------------------------------------- keyboard shortcuts
  // r reply, n note, a assign to me, c close, u back to the inbox, ? the list (a <dialog>). Keys typed
  // into a field are the field's own.
  const SHORTCUTS = {
    r: () => document.getElementById("reply-text"),
    n: () => document.getElementById("note-text"),
    a: () => document.querySelector('#conversation-controls button[name="action"][value="assign_me"]'),
    c: () => document.querySelector('#conversation-controls button[name="action"][value="closed"]'),
    u: () => document.querySelector("[data-back-to-inbox]"),
    "?": () => document.getElementById("conversation-help"),
  };
  document.addEventListener("keydown", (event) => {
    if (!page() || event.ctrlKey || event.metaKey || event.altKey) return;
    const field = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (field || document.querySelector("dialog[open]")) return;
    const target = SHORTCUTS[event.key] && SHORTCUTS[event.key]();
    if (!target) return;
    event.preventDefault();
    if (target.tagName === "DIALOG") target.showModal();
    else if (target.tagName === "TEXTAREA") target.focus();
    else target.click();
  });

  document.addEventListener("click", (event) => {
    if (!event.target.closest) return;
    if (event.target.closest("[data-open-help]")) {
      document.getElementById("conversation-help").showModal();
    }
    // "Leave it": the agent keeps what a colleague did; the controls show it as it is now.
    if (event.target.closest("[data-dismiss-conflict]")) {
      event.target.closest("[data-conflict]").remove();
      refreshControls();
    }
  });

  // Refusals (HTTP 400) carry the reason in the region they replace, conflicts (HTTP 409) who changed what
  // since the agent looked: show them.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    const status = event.detail.xhr.status;
    if ((status === 400 || status === 409) && page() && page().contains(target)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
