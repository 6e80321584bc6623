// The inbox list: keyboard shortcuts, the help dialog, the selection (kept while the list refreshes), live
// events from the WebSocket turned into a debounced refresh of #inbox-results (see index.html), the open
// conversation's row (j/k open the next and previous one beside the list), and the filters' fold.
(() => {
  "use strict";

  // Events of the inbox WebSocket after which the list and its counts may have changed.
  const LIVE_EVENTS = new Set(["message.created", "message.classified", "conversation.updated"]);
  const selected = new Set(); // conversation ids, as strings
  let currentId = null; // the row j/k is on
  let focusWasInList = false;

  const results = () => document.getElementById("inbox-results");
  const rows = () => Array.from(document.querySelectorAll("#inbox-results tr[data-conversation]"));
  const rowOf = (id) => rows().find((row) => row.dataset.conversation === id) || null;
  const checkbox = (row) => row.querySelector("input[name=conversation]");

  function markCurrent(row) {
    currentId = row ? row.dataset.conversation : null;
    for (const each of rows()) each.classList.toggle("current", each === row);
  }

  function focusRow(row) {
    if (!row) return;
    markCurrent(row);
    row.querySelector("[data-open]").focus();
  }

  // The conversation open beside the list, if any (conversation.js handles its own keys: a, c, r, n, u, ?).
  const openView = () => document.querySelector("[data-conversation-page]");

  function markOpen() {
    const view = openView();
    const id = view ? view.dataset.conversation : null;
    for (const row of rows()) {
      const open = row.dataset.conversation === id;
      row.classList.toggle("open", open);
      if (open) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    }
    if (id && rowOf(id)) markCurrent(rowOf(id));
  }

  // j/k with a conversation open: the next or previous row's conversation opens in its place.
  function openNext(step) {
    const list = rows();
    if (!list.length) return;
    const at = list.indexOf(rowOf(openView().dataset.conversation));
    const next = at < 0 ? list[0] : list[at + step];
    if (next) next.querySelector("[data-open]").click();
  }

  function move(step) {
    const list = rows();
    if (!list.length) return;
    const at = list.indexOf(rowOf(currentId));
    focusRow(at < 0 ? list[0] : list[Math.min(Math.max(at + step, 0), list.length - 1)]);
  }

  function showSelection() {
    const count = document.querySelector("[data-selected-count]");
    if (count) count.textContent = selected.size ? `${selected.size} selected` : "None selected";
    const all = document.querySelector("[data-select-page]");
    if (all) {
      const boxes = rows().map(checkbox);
      all.checked = boxes.length > 0 && boxes.every((box) => box.checked);
      all.indeterminate = !all.checked && boxes.some((box) => box.checked);
    }
  }

  function setChecked(box, checked) {
    box.checked = checked;
    if (checked) selected.add(box.value);
    else selected.delete(box.value);
  }

  // "a" and "c" act on the selection, or on the current row when nothing is selected. Clicking the bulk
  // bar's own button sends exactly what a mouse user would (htmx reads the clicked button's value).
  function act(action) {
    const button = document.querySelector(`#inbox-bulk button[value="${action}"]`);
    if (!button) return;
    if (!selected.size) {
      const row = rowOf(currentId);
      if (!row) return;
      setChecked(checkbox(row), true);
      showSelection();
    }
    button.click();
  }

  function isTyping(element) {
    if (element.closest("select, textarea, [contenteditable=true]")) return true;
    return element.matches("input") && !["checkbox", "radio", "button", "submit"].includes(element.type);
  }

  document.addEventListener("keydown", (event) => {
    if (!results() || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    const help = document.getElementById("inbox-help");
    if (help.open) return; // the dialog keeps its own keys (Esc closes it)
    const row = rowOf(currentId);
    if (openView()) {
      if (event.key === "j" || event.key === "k") {
        event.preventDefault();
        openNext(event.key === "j" ? 1 : -1);
      }
      if (["a", "c", "?"].includes(event.key)) return; // the open conversation's own keys
    }
    switch (event.key) {
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "o":
        if (row) row.querySelector("[data-open]").click();
        break;
      case "Enter":
        // On a link or button Enter already does its job; elsewhere in a row it opens the conversation.
        if (!row || event.target.closest("a, button")) return;
        row.querySelector("[data-open]").click();
        break;
      case "x":
        if (!row) return;
        setChecked(checkbox(row), !checkbox(row).checked);
        showSelection();
        break;
      case "a":
        act("assign_me");
        break;
      case "c":
        act("close");
        break;
      case "?":
        help.showModal();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.addEventListener("focusin", (event) => {
    const row = event.target.closest && event.target.closest("#inbox-results tr[data-conversation]");
    if (row) markCurrent(row);
  });

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box.matches("input[name=conversation]")) {
      setChecked(box, box.checked);
    } else if (box.matches("[data-select-page]")) {
      for (const row of rows()) setChecked(checkbox(row), box.checked);
    } else {
      return;
    }
    showSelection();
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-inbox-help]")) document.getElementById("inbox-help").showModal();
    // On phones and beside an open conversation, the filters and saved views are folded behind a button.
    const toggle = event.target.closest("[data-toggle-tools]");
    if (toggle) {
      const tools = document.getElementById(toggle.getAttribute("aria-controls"));
      const open = !tools.classList.contains("open");
      tools.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", String(open));
    }
  });

  // The list is replaced by tabs, filters, pages and live refreshes: keep the ticks and the keyboard's
  // place on the rows that are still there.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (!target) return;
    if (target === results()) focusWasInList = target.contains(document.activeElement);
    // The bulk bar's refusals (HTTP 400) carry the reason, its conflicts (HTTP 409) who changed what: show them.
    if (target.id === "inbox-action-status" && [400, 409].includes(event.detail.xhr.status)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (!target) return; // a restore from htmx's history
    if (target.id === "conversation-pane") {
      markOpen();
      // The conversation opened (a click, j/k): the keyboard goes to it, and on phones its screen shows.
      const title = document.getElementById("conversation-title");
      if (title) {
        title.setAttribute("tabindex", "-1");
        title.focus({ preventScroll: true });
        title.scrollIntoView({ block: "nearest" });
      }
      return;
    }
    if (target !== results()) return;
    const present = new Set(rows().map((row) => row.dataset.conversation));
    for (const id of Array.from(selected)) if (!present.has(id)) selected.delete(id);
    for (const row of rows()) checkbox(row).checked = selected.has(row.dataset.conversation);
    const row = rowOf(currentId);
    markCurrent(row);
    if (focusWasInList) {
      // The row the keyboard was on may have left the list (closed by someone): go on from the top.
      const next = row || rows()[0];
      if (next) focusRow(next);
      else results().querySelector("a")?.focus();
    }
    showSelection();
    markOpen();
  });

  document.addEventListener("DOMContentLoaded", markOpen);

  // After a bulk action succeeds, its conversations are no longer "selected for it".
  document.addEventListener("inbox-acted", () => selected.clear());

  // Says whether the list is live (the ws extension reconnects by itself after a drop).
  function showLive(live) {
    const state = document.getElementById("inbox-live");
    if (!state) return;
    state.dataset.live = live ? "on" : "off";
    state.textContent = live ? "Live" : "Not live: reconnecting…";
  }
  document.addEventListener("htmx:wsOpen", () => showLive(true));
  document.addEventListener("htmx:wsClose", () => showLive(false));

  // The WebSocket speaks JSON, not HTML for htmx to swap: read it here and ask for a refresh (the
  // list's hx-trigger debounces a burst of events into one request).
  document.addEventListener("htmx:wsBeforeMessage", (event) => {
    let data;
    try {
      data = JSON.parse(event.detail.message);
    } catch {
      return;
    }
    event.preventDefault();
    if (LIVE_EVENTS.has(data.event)) htmx.trigger(document.body, "inbox-changed");
  });
})();
