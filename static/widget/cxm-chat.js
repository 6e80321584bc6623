/*! CXM live-chat widget. Plain ES2017, no dependencies, no build step.
 *
 * Embed:  <script src="https://cxm.example/static/widget/cxm-chat.js"
 *                 data-cxm-channel="CHANNEL_TOKEN" async></script>
 * Optional attributes:
 *   data-cxm-visitor-token  a token the brand's site signs for its logged-in user (see the live-chat README)
 *   data-cxm-server         the CXM origin, when the script is served from elsewhere (a CDN)
 * Page API: window.CXMChat.open(), .close(), .toggle(), .reset() (forget this browser's visitor: on logout)
 *
 * Message text is only ever rendered with textContent.
 */
(function () {
  'use strict';

  var script = document.currentScript || document.querySelector('script[data-cxm-channel]');
  if (!script) return;
  var channelToken = script.getAttribute('data-cxm-channel') || '';
  if (!channelToken || (window.CXMChat && window.CXMChat.loaded)) return;

  var visitorToken = script.getAttribute('data-cxm-visitor-token') || '';
  var server = script.getAttribute('data-cxm-server') || new URL(script.src, window.location.href).origin;
  var socketUrl = server.replace(/^http/, 'ws') + '/ws/livechat/' + encodeURIComponent(channelToken) + '/';

  var MAX_CHARS = 5000;
  var PING_MS = 25000;
  var MAX_BACKOFF_MS = 30000;
  var GIVE_UP_NOTICE_AFTER = 5;
  var PERMANENT_CLOSE = { 4403: true, 4404: true };
  var KEY = 'cxm-chat:' + channelToken + ':';

  // Storage that survives a browser refusing localStorage (private modes, blocked cookies).
  var memory = {};
  function load(name, fallback) {
    var raw = null;
    try { raw = window.localStorage.getItem(KEY + name); } catch (e) { raw = memory[name] || null; }
    if (raw === null) return fallback;
    try { return JSON.parse(raw); } catch (e) { return fallback; }
  }
  function save(name, value) {
    var raw = JSON.stringify(value);
    try { window.localStorage.setItem(KEY + name, raw); } catch (e) { memory[name] = raw; }
  }

  function randomHex(bytes) {
    var data = new Uint8Array(bytes);
    window.crypto.getRandomValues(data);
    return Array.prototype.map.call(data, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  // The site user a visitor token names ('' without one). Only read here, to tell users apart in one
  // browser: CXM itself trusts the token only after checking its signature.
  function tokenUser(token) {
    try {
      var part = token.split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
      var claims = JSON.parse(window.atob(part + '==='.slice((part.length + 3) % 4)));
      return claims && claims.user_id !== undefined ? String(claims.user_id) : '';
    } catch (e) { return ''; }
  }
  var currentUser = visitorToken ? tokenUser(visitorToken) : '';

  var visitorId = load('visitor', null);
  if (typeof visitorId !== 'string' || !/^[0-9a-f]{32}$/.test(visitorId)) visitorId = null;
  var outbox = load('outbox', []);  // messages sent but not acknowledged: resent (idempotently) on reconnect
  if (!Array.isArray(outbox)) outbox = [];
  // A conversation held by a logged-in user is not shown to whoever uses the browser after they log out
  // (or to another user). An anonymous conversation does carry on when its visitor logs in.
  var owner = load('owner', '');
  if (visitorId && owner && owner !== currentUser) {
    visitorId = null;
    outbox = [];
    owner = '';
    save('visitor', null);
    save('outbox', []);
    save('owner', '');
  }

  // ---- DOM (in a shadow root: the host page's styles and ours never mix) -----------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === 'hidden') node.hidden = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function icon() {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '28');
    svg.setAttribute('height', '28');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-4.5 3.6A.9.9 0 0 1 2 20.9V5a2 2 0 0 1 2-2z');
    svg.appendChild(path);
    return svg;
  }

  var CSS = [
    ':host { all: initial; position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;',
    '  font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827;',
    '  --cxm-accent: #1d4ed8; }',
    '.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);',
    '  white-space: nowrap; }',
    '.bubble { width: 60px; height: 60px; border-radius: 50%; border: 0; cursor: pointer; float: right;',
    '  background: var(--cxm-accent); color: #fff; display: flex; align-items: center; justify-content: center;',
    '  box-shadow: 0 4px 14px rgba(0,0,0,.25); position: relative; }',
    '.bubble:focus-visible, button:focus-visible, textarea:focus-visible, .log:focus-visible {',
    '  outline: 3px solid #f59e0b; outline-offset: 2px; }',
    '.badge { position: absolute; top: -4px; right: -4px; min-width: 20px; height: 20px; border-radius: 10px;',
    '  background: #dc2626; color: #fff; font-size: 12px; line-height: 20px; text-align: center; }',
    '.panel { position: absolute; right: 0; bottom: 72px; width: min(360px, calc(100vw - 40px));',
    '  height: min(520px, calc(100vh - 120px)); background: #fff; border-radius: 12px;',
    '  box-shadow: 0 10px 30px rgba(0,0,0,.3); display: flex; flex-direction: column; overflow: hidden; }',
    '.panel[hidden] { display: none; }',
    'header { background: var(--cxm-accent); color: #fff; padding: 10px 12px; display: flex;',
    '  align-items: center; justify-content: space-between; }',
    'h2 { font-size: 16px; margin: 0; }',
    '.close { background: transparent; color: #fff; border: 0; font-size: 22px; cursor: pointer;',
    '  width: 36px; height: 36px; border-radius: 6px; }',
    '.status { margin: 0; padding: 4px 12px; font-size: 13px; background: #fef3c7; color: #78350f; }',
    '.status:empty { display: none; }',
    '.log { list-style: none; margin: 0; padding: 12px; flex: 1; overflow-y: auto; background: #f9fafb; }',
    '.msg { margin: 0 0 10px; max-width: 85%; clear: both; }',
    '.msg .text { margin: 0; padding: 8px 10px; border-radius: 10px; white-space: pre-wrap;',
    '  overflow-wrap: anywhere; }',
    '.msg.visitor { float: right; text-align: right; }',
    '.msg.visitor .text { background: var(--cxm-accent); color: #fff; text-align: left; }',
    '.msg.agent, .msg.greeting { float: left; }',
    '.msg.agent .text, .msg.greeting .text { background: #e5e7eb; color: #111827; }',
    '.meta { display: block; font-size: 12px; color: #4b5563; margin-top: 2px; }',
    '.msg.failed .meta { color: #b91c1c; }',
    'form { display: flex; gap: 8px; padding: 8px; border-top: 1px solid #e5e7eb; }',
    'textarea { flex: 1; resize: none; font: inherit; padding: 6px 8px; border: 1px solid #9ca3af;',
    '  border-radius: 8px; min-height: 40px; max-height: 120px; }',
    '.send { background: var(--cxm-accent); color: #fff; border: 0; border-radius: 8px; padding: 0 14px;',
    '  font: inherit; cursor: pointer; }',
    '@media (prefers-reduced-motion: no-preference) { .panel { transition: opacity .15s; } }'
  ].join('\n');

  var host = el('div', { 'data-cxm-chat': '' });
  var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
  var style = el('style', {}, CSS);
  var bubble = el('button', {
    type: 'button', class: 'bubble', 'aria-label': 'Open chat', 'aria-expanded': 'false',
    'aria-controls': 'cxm-chat-panel', 'aria-haspopup': 'dialog'
  });
  bubble.appendChild(icon());
  var badge = el('span', { class: 'badge', hidden: true, 'aria-hidden': 'true' });
  bubble.appendChild(badge);

  var panel = el('section', {
    id: 'cxm-chat-panel', class: 'panel', role: 'dialog', 'aria-modal': 'false',
    'aria-labelledby': 'cxm-chat-title', hidden: true
  });
  var header = el('header');
  var title = el('h2', { id: 'cxm-chat-title' }, 'Chat with us');
  var closeButton = el('button', { type: 'button', class: 'close', 'aria-label': 'Close chat' }, '\u00d7');
  header.appendChild(title);
  header.appendChild(closeButton);
  var status = el('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  var log = el('ol', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: '0' });
  var form = el('form', { class: 'composer', novalidate: '' });
  var label = el('label', { for: 'cxm-chat-input', class: 'sr' }, 'Your message');
  var input = el('textarea', {
    id: 'cxm-chat-input', rows: '2', maxlength: String(MAX_CHARS), placeholder: 'Write a message…',
    'aria-describedby': 'cxm-chat-hint', autocomplete: 'off'
  });
  var hint = el('span', { id: 'cxm-chat-hint', class: 'sr' }, 'Enter sends; Shift and Enter starts a new line.');
  var send = el('button', { type: 'submit', class: 'send' }, 'Send');
  [label, input, hint, send].forEach(function (node) { form.appendChild(node); });
  [header, status, log, form].forEach(function (node) { panel.appendChild(node); });
  [style, panel, bubble].forEach(function (node) { root.appendChild(node); });

  function mount() { (document.body || document.documentElement).appendChild(host); }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);

  // ---- Messages ----------------------------------------------------------------------------------------
  var greeting = '';
  var unread = 0;
  var rendered = {};  // message id -> its <li>

  function timeLabel(iso) {
    var date = iso ? new Date(iso) : new Date();
    if (isNaN(date.getTime())) return '';
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function setMeta(item, text) {
    item.querySelector('.meta').textContent = (item.getAttribute('data-who') || '') + text;
  }

  function render(message, state) {
    var existing = message.id && rendered[message.id];
    if (existing) {
      if (state !== 'pending') {
        existing.classList.remove('failed');
        setMeta(existing, timeLabel(message.sent_at));
      }
      return existing;
    }
    var fromVisitor = message.from === 'visitor';
    var item = el('li', { class: 'msg ' + (fromVisitor ? 'visitor' : 'agent') });
    var who = fromVisitor ? 'You' : (message.name || 'Support');
    item.appendChild(el('span', { class: 'sr' }, who + ' said:'));
    item.appendChild(el('p', { class: 'text' }, String(message.text || '')));
    if (!fromVisitor) item.setAttribute('data-who', who + ' · ');
    item.appendChild(el('span', { class: 'meta' }));
    setMeta(item, state === 'pending' ? 'Sending…' : timeLabel(message.sent_at));
    place(item, Date.parse(message.sent_at) || Date.now());
    if (message.id) rendered[message.id] = item;
    log.scrollTop = log.scrollHeight;
    return item;
  }

  // Messages stay in time order whatever order they arrive in (history after a pending message...).
  function place(item, at) {
    item.setAttribute('data-at', String(at));
    var before = null;
    for (var i = log.children.length - 1; i >= 0; i--) {
      if (Number(log.children[i].getAttribute('data-at')) <= at) break;
      before = log.children[i];
    }
    log.insertBefore(item, before);
  }

  // Only what is missing is added: a reconnect does not make screen readers read the whole log again.
  function renderAll(history) {
    if (greeting && !log.querySelector('.greeting')) {
      var item = el('li', { class: 'msg greeting' });
      item.appendChild(el('p', { class: 'text' }, greeting));
      place(item, 0);
    }
    history.forEach(function (message) { render(message, 'stored'); });
    outbox.forEach(function (message) { render(message, 'pending'); });
  }

  function fail(id, reason) {
    outbox = outbox.filter(function (message) { return message.id !== id; });
    save('outbox', outbox);
    var item = rendered[id];
    if (item) {
      item.classList.add('failed');
      setMeta(item, 'Not sent: ' + reason);
    }
  }

  function showUnread() {
    badge.hidden = unread === 0;
    badge.textContent = unread > 9 ? '9+' : String(unread);
    bubble.setAttribute('aria-label', unread ? 'Open chat, ' + unread + ' new message' + (unread > 1 ? 's' : '') : 'Open chat');
  }

  // ---- Connection --------------------------------------------------------------------------------------
  var socket = null;
  var ready = false;
  var attempts = 0;
  var failuresWithoutReady = 0;
  var reconnectTimer = null;
  var pingTimer = null;
  var stopped = false;

  function setStatus(text) { status.textContent = text; }

  function transmit(payload) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(payload));
  }

  function flush() {
    if (!ready) return;
    outbox.forEach(function (message) { transmit({ type: 'message', id: message.id, text: message.text }); });
  }

  function connect() {
    if (stopped || socket) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (attempts > 0) setStatus('Connecting…');
    var ws;
    try { ws = new WebSocket(socketUrl); } catch (e) { scheduleReconnect(); return; }
    socket = ws;
    ws.onopen = function () {
      var hello = { type: 'hello', visitor: visitorId, page: { url: window.location.href, title: document.title } };
      if (visitorToken) hello.visitor_token = visitorToken;
      ws.send(JSON.stringify(hello));
      clearInterval(pingTimer);
      pingTimer = setInterval(function () { transmit({ type: 'ping' }); }, PING_MS);
    };
    ws.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data && typeof data.type === 'string') handle(data);
    };
    ws.onclose = function (event) {
      if (socket === ws) socket = null;
      ready = false;
      clearInterval(pingTimer);
      if (PERMANENT_CLOSE[event.code]) {
        stopped = true;
        setStatus('Chat is not available right now.');
        return;
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (stopped || reconnectTimer) return;
    attempts += 1;
    failuresWithoutReady += 1;
    var delay = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, attempts - 1));
    delay = Math.round(delay * (0.5 + Math.random() / 2));
    setStatus(failuresWithoutReady >= GIVE_UP_NOTICE_AFTER
      ? 'Chat is not available right now; retrying…' : 'Connection lost; reconnecting…');
    reconnectTimer = setTimeout(function () { reconnectTimer = null; connect(); }, delay);
  }

  function handle(data) {
    if (data.type === 'ready') {
      ready = true;
      attempts = 0;
      failuresWithoutReady = 0;
      setStatus('');
      visitorId = data.visitor;
      save('visitor', visitorId);
      if (data.identified && currentUser) {
        owner = currentUser;
        save('owner', owner);
      }
      var look = data.widget || {};
      if (look.title) title.textContent = look.title;
      if (look.greeting) greeting = look.greeting;
      if (look.color) host.style.setProperty('--cxm-accent', look.color);
      if (data.limits && data.limits.max_chars) MAX_CHARS = data.limits.max_chars;
      renderAll(Array.isArray(data.history) ? data.history : []);
      flush();
    } else if (data.type === 'ack') {
      outbox = outbox.filter(function (message) { return message.id !== data.id; });
      save('outbox', outbox);
      var item = rendered[data.id];
      if (item) setMeta(item, timeLabel());
    } else if (data.type === 'message' && data.message) {
      var isNew = !(data.message.id && rendered[data.message.id]);
      render(data.message, 'stored');
      if (isNew && data.message.from === 'agent' && panel.hidden) {
        unread += 1;
        showUnread();
      }
    } else if (data.type === 'error') {
      if (data.id && data.code === 'rate_limited') {
        var wait = Math.max(1, Number(data.retry_after) || 2) * 1000;
        setStatus('You are sending messages quickly; sending again shortly.');
        setTimeout(function () {
          setStatus('');
          outbox.forEach(function (message) {
            if (message.id === data.id) transmit({ type: 'message', id: message.id, text: message.text });
          });
        }, wait);
      } else if (data.id) {
        fail(data.id, data.detail || data.code);
      } else if (data.detail) {
        setStatus(data.detail);
      }
    } else if (data.type === 'warning') {
      if (window.console) window.console.warn('[cxm-chat] ' + (data.detail || data.code));
    }
  }

  function submit() {
    var text = input.value.trim();
    if (!text) return;
    if (text.length > MAX_CHARS) {
      setStatus('Your message is too long (at most ' + MAX_CHARS + ' characters).');
      return;
    }
    var message = { id: randomHex(16), from: 'visitor', text: text, sent_at: new Date().toISOString() };
    outbox.push(message);
    save('outbox', outbox);
    render(message, 'pending');
    input.value = '';
    if (ready) transmit({ type: 'message', id: message.id, text: message.text });
    else connect();
  }

  // ---- Open / close, keyboard --------------------------------------------------------------------------
  function open() {
    panel.hidden = false;
    bubble.setAttribute('aria-expanded', 'true');
    unread = 0;
    showUnread();
    connect();
    input.focus();
    log.scrollTop = log.scrollHeight;
  }
  function close() {
    panel.hidden = true;
    bubble.setAttribute('aria-expanded', 'false');
    bubble.focus();
  }
  function toggle() { if (panel.hidden) open(); else close(); }

  // Forget this browser's visitor (call it when the user logs out of the brand's site): the next chat
  // starts a new conversation, and this one's history is no longer shown here.
  function reset() {
    var ws = socket;
    socket = null;
    ready = false;
    if (ws) { ws.onclose = null; ws.close(); }
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    clearInterval(pingTimer);
    visitorId = null;
    outbox = [];
    owner = '';
    save('visitor', null);
    save('outbox', []);
    save('owner', '');
    while (log.firstChild) log.removeChild(log.firstChild);
    rendered = {};
    unread = 0;
    showUnread();
    setStatus('');
    if (!panel.hidden) close();
  }

  bubble.addEventListener('click', toggle);
  closeButton.addEventListener('click', close);
  panel.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') { event.preventDefault(); close(); }
  });
  input.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
  });
  form.addEventListener('submit', function (event) { event.preventDefault(); submit(); });
  window.addEventListener('online', function () {
    if (!socket && !stopped && (visitorId || !panel.hidden)) { attempts = 0; connect(); }
  });

  // A returning visitor (or one with unsent messages) reconnects at once, so replies arrive live;
  // a first-time visitor opens no socket until they open the chat.
  if (visitorId || outbox.length) connect();

  window.CXMChat = { loaded: true, open: open, close: close, toggle: toggle, reset: reset };
})();
