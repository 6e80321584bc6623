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
})();
