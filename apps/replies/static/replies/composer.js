// The reply composer (replies/composer.html): the browser's time zone for scheduling, Ctrl+Enter to send,
// and live delivery: inbox WebSocket events about this conversation's messages refresh the delivery list,
// and a change of status is announced to screen readers once (the list itself is not a live region, as it
// is refreshed every few seconds while a reply waits).
(() => {
  if (window.cxmRepliesLoaded) return; // loaded again by a swap of the composer
  window.cxmRepliesLoaded = true;
  const composer = () => document.getElementById("reply-composer");
  const statuses = new Map();

  // While a reply of the list waits to go out (queued, or scheduled and due), the list refreshes every few
  // seconds. (Not an hx-trigger filter: those are evaluated code, which the Content-Security-Policy forbids.)
  const waiting = (list) =>
    Array.from(list.querySelectorAll("[data-due]")).some((item) => Number(item.dataset.due) <= Date.now());
  setInterval(() => {
    const list = document.getElementById("reply-delivery-list");
    if (list && waiting(list)) htmx.trigger(list, "reply-delivery-due");
  }, 3000);

  function fillTimeZone(root) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    for (const input of root.querySelectorAll("[data-reply-timezone]")) input.value = zone || "UTC";
  }

  function rememberStatuses() {
    statuses.clear();
    for (const item of document.querySelectorAll("#reply-delivery-list [data-message]")) {
      statuses.set(item.dataset.message, item.dataset.status);
    }
  }

  function announceChanges() {
    const news = document.getElementById("reply-delivery-news");
    const changed = [];
    for (const item of document.querySelectorAll("#reply-delivery-list [data-message]")) {
      const before = statuses.get(item.dataset.message);
      if (before && before !== item.dataset.status) {
        changed.push(item.querySelector(".chip").textContent.trim());
      }
    }
    if (news && changed.length) news.textContent = `Reply delivery: ${changed.join(", ")}.`;
    rememberStatuses();
  }

  // This script may run after htmx announced the composer it came with: start with the page as it is.
  fillTimeZone(document);
  rememberStatuses();
  // (Statuses are remembered only after a refresh is compared: htmx:load comes before htmx:afterSettle.)
  document.addEventListener("htmx:load", (event) => fillTimeZone(event.detail.elt));
  document.addEventListener("htmx:afterSettle", (event) => {
    const list = document.getElementById("reply-delivery-list");
    if (!list || !list.contains(event.detail.elt)) return;
    announceChanges();
    // A Retry button replaced by the refresh: keep the keyboard in the list instead of at the page's top.
    if (document.activeElement === document.body) list.focus();
  });

  document.addEventListener("keydown", (event) => {
    if (event.target.id !== "reply-text" || event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    event.target.form.querySelector("button[name=action][value=send]").click();
  });

  function showLive(live) {
    const state = document.getElementById("reply-live");
    if (!state) return;
    state.dataset.live = live ? "on" : "off";
    state.textContent = live ? "(live)" : "(not live: reconnecting…)";
  }
  document.addEventListener("htmx:wsOpen", (event) => event.target === composer() && showLive(true));
  document.addEventListener("htmx:wsClose", (event) => event.target === composer() && showLive(false));

  function parsed(text) {
    try {
      return JSON.parse(text);
    } catch {
      return null; // not an event of ours
    }
  }

  // The WebSocket speaks JSON, not HTML for htmx to swap: read it here.
  document.addEventListener("htmx:wsBeforeMessage", (event) => {
    const here = composer();
    if (!here || event.target !== here) return;
    event.preventDefault();
    const data = parsed(event.detail.message);
    if (!data || (data.event !== "message.delivery" && data.event !== "message.created")) return;
    const conversation = Number(here.dataset.conversation);
    if ((data.messages || []).some((message) => message.conversation === conversation)) {
      htmx.trigger("#reply-delivery-list", "reply-delivery-changed");
    }
  });
})();
