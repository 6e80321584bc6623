// Saved replies and macros in the reply composer (replies/composer_shelf.html).
// Typing `/` at the start of the reply or after a space opens a picker of saved replies; the letters typed
// after it narrow it (the server searches); ↑/↓ choose, Enter or Tab inserts the reply with its variables
// filled for this conversation (in place of the `/` and the letters), Esc closes. A macro run that inserts a
// saved reply puts it in the composer the same way.
(() => {
  if (window.cxmShelfLoaded) return; // loaded again by a swap of the composer
  window.cxmShelfLoaded = true;

  const textarea = () => document.getElementById("reply-text");
  const tools = () => document.querySelector("[data-shelf-tools]");
  const picker = () => document.getElementById("shelf-picker");
  let slashAt = -1; // index of the `/` that opened the picker; -1: closed
  let timer = null;
  let asked = 0; // the latest request: answers to older ones are dropped

  function news(text) {
    const element = document.getElementById("shelf-news");
    if (element) element.textContent = text;
  }

  function options() {
    return Array.from(picker()?.querySelectorAll("[role=option]") || []);
  }

  function selected() {
    return options().find((option) => option.getAttribute("aria-selected") === "true");
  }

  function select(option) {
    for (const other of options()) other.setAttribute("aria-selected", String(other === option));
    const area = textarea();
    if (option && area) {
      area.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  }

  function close() {
    slashAt = -1;
    const box = picker();
    if (box) {
      box.hidden = true;
      box.replaceChildren();
    }
    const area = textarea();
    if (area) {
      area.setAttribute("aria-expanded", "false");
      area.removeAttribute("aria-activedescendant");
    }
  }

  function query() {
    const area = textarea();
    return area.value.slice(slashAt + 1, area.selectionStart);
  }

  async function search() {
    const box = picker();
    const here = tools();
    if (!box || !here || slashAt < 0) return;
    const ask = ++asked;
    const url = `${here.dataset.pickerUrl}?q=${encodeURIComponent(query())}`;
    const response = await fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
    if (ask !== asked || slashAt < 0 || !response.ok) return;
    // The server's own partial (its text escaped there), parsed inert before it goes in.
    const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
    box.replaceChildren(...parsed.body.childNodes);
    box.hidden = false;
    const area = textarea();
    area.setAttribute("aria-expanded", "true");
    area.setAttribute("aria-controls", "shelf-options");
    select(selected());
    for (const option of options()) option.addEventListener("mousedown", (event) => {
      event.preventDefault(); // keep the focus in the textarea
      insert(option);
    });
  }

  function csrfToken() {
    const input = textarea()?.form?.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function put(text, from, to) {
    const area = textarea();
    area.setRangeText(text, from, to, "end");
    area.focus();
    area.dispatchEvent(new Event("input", { bubbles: true })); // the composer checks the limits again
  }

  async function insert(option) {
    const here = tools();
    if (!option || !here) return;
    const from = slashAt;
    const to = textarea().selectionStart;
    close();
    const url = here.dataset.useUrl.replace(/\/0\/use\/$/, `/${option.dataset.savedReply}/use/`);
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      credentials: "same-origin",
    });
    if (!response.ok) {
      news("That saved reply could not be inserted.");
      return;
    }
    const data = await response.json();
    put(data.text, from, to);
    news([`Inserted “${data.title}”.`, ...data.notes].join(" "));
  }

  document.addEventListener("input", (event) => {
    const area = event.target;
    if (area.id !== "reply-text") return;
    const caret = area.selectionStart;
    if (slashAt < 0) {
      const typed = area.value[caret - 1];
      const before = caret >= 2 ? area.value[caret - 2] : "";
      if (typed === "/" && (caret === 1 || /\s/.test(before)) && event.inputType !== "insertFromPaste") {
        slashAt = caret - 1;
      } else {
        return;
      }
    }
    if (caret <= slashAt || area.value[slashAt] !== "/" || /\n/.test(query())) {
      close();
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(search, 120);
  });

  document.addEventListener("keydown", (event) => {
    if (event.target.id !== "reply-text" || slashAt < 0) return;
    const all = options();
    const index = all.indexOf(selected());
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      select(all[(index + step + all.length) % all.length]);
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && !event.metaKey) {
      if (!all.length) return;
      event.preventDefault();
      insert(selected() || all[0]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });

  document.addEventListener("focusout", (event) => {
    if (event.target.id === "reply-text") setTimeout(() => document.activeElement !== textarea() && close(), 150);
  });

  // A macro that inserts a saved reply: its text goes where the caret is (the end of the reply by default).
  document.addEventListener("htmx:afterSwap", (event) => {
    const done = event.detail.target?.querySelector?.("[data-insert-text]");
    const area = textarea();
    if (!done || !area) return;
    const text = done.dataset.insertText;
    done.removeAttribute("data-insert-text");
    if (area.value.trim()) put(`\n\n${text}`, area.value.length, area.value.length);
    else put(text, 0, area.value.length);
  });
})();
