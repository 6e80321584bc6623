// Behaviour every page shares, kept out of the markup: the Content-Security-Policy runs no inline handler
// (onsubmit=…) and no evaluated hx-trigger filter.
(() => {
  // <form data-confirm="Question?">: submitted only once the user confirms.
  document.addEventListener("submit", (event) => {
    const question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // A live "notification.created" event on any of the page's WebSockets refreshes the header's count.
  document.addEventListener("htmx:wsBeforeMessage", (event) => {
    const message = event.detail && event.detail.message;
    if (typeof message === "string" && message.includes("notification.created")) {
      htmx.trigger(document.body, "notifications-changed");
    }
  });

  // The header's availability (apps/routing): an online agent who touches nothing for data-idle-minutes
  // is set away (auto=1), and online again on their next input after such an idle away.
  let idleTimer = null;
  const availability = () => document.getElementById("availability");
  const postAvailability = (status) => {
    const form = availability();
    if (!form || form.tagName !== "FORM") return;
    htmx.ajax("POST", form.getAttribute("action"), {
      source: form, target: form, swap: "outerHTML", values: { status, auto: "1" },
    });
  };
  // The idle countdown of an online agent, from their last input (a control swapped in by the periodic
  // refresh keeps the countdown it had).
  let lastInput = Date.now();
  const arm = () => {
    const form = availability();
    clearTimeout(idleTimer);
    if (!form || form.tagName !== "FORM") return;
    const minutes = parseFloat(form.dataset.idleMinutes || "0");
    if (minutes > 0 && form.dataset.status === "online") {
      const left = Math.max(0, lastInput + minutes * 60000 - Date.now());
      idleTimer = setTimeout(() => postAvailability("away"), left);
    }
  };
  const activity = () => {
    lastInput = Date.now();
    const form = availability();
    if (!form || form.tagName !== "FORM") return;
    if (form.dataset.status === "away" && form.dataset.autoAway === "1") {
      form.dataset.autoAway = "";
      postAvailability("online");
      return;
    }
    arm();
  };
  ["keydown", "pointerdown", "pointermove", "scroll"].forEach((name) =>
    document.addEventListener(name, activity, { passive: true, capture: true }));
  // A swapped-in control (its first load, a change of status) starts its own countdown.
  let armedFor = null;
  document.addEventListener("htmx:afterSettle", () => {
    const form = availability();
    if (form && form !== armedFor) {
      armedFor = form;
      arm();
    }
  });
})();
