// kefu web chat. Plain JavaScript, no dependencies; served from the same origin (CSP: 'self' only).
'use strict';
(function () {
  const cfg = JSON.parse(document.getElementById('kefu-config').textContent || '{}');
  const $ = (id) => document.getElementById(id);
  const app = $('app'), logEl = $('log'), input = $('input'), form = $('composer');
  const sendBtn = $('send'), toastEl = $('toast'), statusEl = $('status-text');

  const API = 'api/webchat/';
  const K_SESSION = 'kefu.web.session', K_LANG = 'kefu.web.lang', K_LOG = 'kefu.web.log.';
  const MAX_ITEMS = 200;
  const store = {
    get(k) { try { return localStorage.getItem(k); } catch (e) { return null; } },
    set(k, v) { try { localStorage.setItem(k, v); } catch (e) { /* private mode, quota */ } },
    del(k) { try { localStorage.removeItem(k); } catch (e) { /* ignore */ } },
  };

  let lang = cfg.langs.indexOf(store.get(K_LANG)) >= 0 ? store.get(K_LANG) : cfg.lang;
  let session = store.get(K_SESSION) || '';
  let after = 0; // id of the newest bot message shown
  let items = []; // transcript: {k: 'me'|'bot', id, text, buttons, chosen, used, at, state}
  let seen = new Set();
  let queue = Promise.resolve(); // messages are sent one at a time, in order
  let inflight = 0, failures = 0, pollTimer = 0, polling = false, typingEl = null, toastTimer = 0;

  // ---- strings -------------------------------------------------------------------------------
  function t(key) {
    const m = cfg.i18n[lang] || {}, d = cfg.i18n[cfg.lang] || {};
    return m[key] || d[key] || '';
  }
  function applyLang() {
    document.documentElement.lang = lang;
    document.title = t('web.title');
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll('[data-i18n-label]').forEach((el) => {
      el.setAttribute('aria-label', t(el.dataset.i18nLabel));
      if (el.hasAttribute('title')) el.title = t(el.dataset.i18nLabel);
    });
    document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.querySelectorAll('.lang').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.lang === lang)));
    setStatus(app.dataset.status);
  }
  function setStatus(s) {
    app.dataset.status = s;
    const key = { online: 'web.powered', reconnecting: 'web.reconnecting', offline: 'web.offline' }[s] || 'web.connecting';
    statusEl.textContent = t(key);
  }
  function showError(msg) {
    toastEl.textContent = msg || t('error.internal');
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastEl.hidden = true; }, 6000);
  }

  // ---- API -----------------------------------------------------------------------------------
  async function api(method, path, body) {
    let res;
    try {
      res = await fetch(API + path, {
        method,
        headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
        cache: 'no-store',
        credentials: 'same-origin',
      });
    } catch (e) {
      throw apiError(0, 'network', t(navigator.onLine === false ? 'web.offline' : 'web.reconnecting'));
    }
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON: a proxy error page */ }
    if (!res.ok) throw apiError(res.status, (data && data.error) || 'http_' + res.status, (data && data.message) || t('error.internal'));
    return data || {};
  }
  function apiError(status, code, message) {
    const e = new Error(message);
    e.status = status; e.code = code;
    return e;
  }
  const transient = (e) => e.status === 0 || e.status >= 500; // network or server trouble
  const retryable = (e) => transient(e) || e.status === 429;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  function randomID() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  async function createSession() {
    const res = await api('POST', 'sessions', { lang });
    session = res.session;
    store.set(K_SESSION, session);
    store.set(K_LANG, lang); // the page keeps the language the conversation started in
    after = 0; // a new session's messages; the transcript on screen stays
    save();
  }

  // post sends one message; network and server errors are retried with the same client_id, so the
  // server stores it once.
  async function post(body) {
    const msg = Object.assign({ session, lang, client_id: randomID() }, body);
    for (let attempt = 0; ; attempt++) {
      try {
        return await api('POST', 'messages', msg);
      } catch (e) {
        if (!retryable(e) || attempt >= 2) throw e;
        await sleep(700 * (attempt + 1));
      }
    }
  }

  // deliver posts body (text or action) and shows the replies. item is the customer's bubble, or
  // null for commands the page sends by itself (/start, /lang).
  function deliver(body, item) {
    queue = queue.then(async () => {
      inflight++;
      showTyping(true);
      try {
        if (!session) await createSession();
        let res;
        try {
          res = await post(body);
        } catch (e) {
          if (e.code !== 'unknown_session') throw e;
          await createSession(); // the chat expired on the server: start over and send again
          res = await post(body);
        }
        if (item) setItemState(item, '');
        addBotMessages(res.replies || [], false);
        setStatus('online');
        failures = 0;
      } catch (e) {
        if (item) setItemState(item, 'failed', retryable(e) ? body : null);
        if (transient(e)) { failures++; setStatus(navigator.onLine === false ? 'offline' : 'reconnecting'); }
        showError(e.message);
      } finally {
        inflight--;
        showTyping(false);
      }
    });
    return queue;
  }

  async function poll() {
    clearTimeout(pollTimer);
    if (polling) return;
    if (inflight > 0) { schedule(); return; } // the POST brings its own replies
    if (!session) { // the first session could not be made yet (server starting, offline): try again
      deliver({ text: '/start' }, null).then(save);
      schedule();
      return;
    }
    polling = true;
    let more = false;
    try {
      const res = await api('GET', 'messages?session=' + encodeURIComponent(session) + '&after=' + after + '&lang=' + encodeURIComponent(lang));
      addBotMessages(res.messages || [], true);
      more = !!res.more;
      failures = 0;
      setStatus('online');
    } catch (e) {
      if (e.code === 'unknown_session') {
        session = '';
        store.del(K_SESSION);
        deliver({ text: '/start' }, null).catch(() => {});
      } else {
        failures++;
        if (transient(e)) setStatus(navigator.onLine === false ? 'offline' : 'reconnecting');
      }
    } finally {
      polling = false;
    }
    schedule(more ? 0 : undefined);
  }
  function schedule(delay) {
    clearTimeout(pollTimer);
    if (delay === undefined) {
      const base = document.hidden ? Math.max(cfg.poll_ms * 5, 8000) : cfg.poll_ms;
      delay = failures ? Math.min(base * Math.pow(2, failures), 15000) : base;
    }
    pollTimer = setTimeout(poll, delay);
  }

  // ---- transcript ----------------------------------------------------------------------------
  function save() {
    if (!session) return;
    const keep = items.slice(-MAX_ITEMS).map((it) => ({
      k: it.k, id: it.id, text: it.text, buttons: it.buttons, chosen: it.chosen, used: it.used, at: it.at,
      state: it.state === 'pending' ? 'failed' : it.state,
    }));
    store.set(K_LOG + session, JSON.stringify({ after, items: keep }));
  }
  function restore() {
    try {
      const saved = JSON.parse(store.get(K_LOG + session) || 'null');
      if (!saved) return;
      after = saved.after || 0;
      (saved.items || []).forEach((it) => {
        if (it.id) seen.add(it.id);
        addItem(it, true);
      });
    } catch (e) { /* a corrupt transcript only costs the history */ }
  }

  // addBotMessages shows msgs not seen yet. Only the GET poll (advance) moves the cursor: a POST's
  // replies are its own, and an agent's message with a smaller id may not have been fetched yet.
  function addBotMessages(msgs, advance) {
    let fresh = false;
    msgs.forEach((m) => {
      if (advance && m.id > after) after = m.id;
      if (seen.has(m.id)) return;
      seen.add(m.id);
      const buttons = (m.buttons || []).map((b) => ({ label: b.label, action: b.action }));
      if (buttons.length) retireKeyboards();
      addItem({ k: 'bot', id: m.id, text: m.text, buttons, at: Date.now() }, false);
      fresh = true;
    });
    if (fresh) save();
  }

  // retireKeyboards disables the buttons of older messages once a newer keyboard arrives.
  function retireKeyboards() {
    items.forEach((it) => {
      if (it.k === 'bot' && it.buttons && it.buttons.length && !it.used) {
        it.used = true;
        if (it.keysEl) it.keysEl.classList.add('used');
        if (it.keysEl) it.keysEl.querySelectorAll('button').forEach((b) => { b.disabled = true; });
      }
    });
  }

  function addItem(it, restoring) {
    const prev = items[items.length - 1];
    items.push(it);
    const nearBottom = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 80;
    if (!prev || it.at - prev.at > 10 * 60 * 1000) {
      const d = document.createElement('div');
      d.className = 'divider';
      d.textContent = formatTime(it.at);
      insert(d);
    }
    const row = document.createElement('div');
    row.className = 'row ' + it.k;
    if (prev && prev.k === it.k && it.at - prev.at < 2 * 60 * 1000) row.classList.add('cont');
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    bubble.setAttribute('aria-label', t(it.k === 'me' ? 'web.you' : 'web.bot'));
    appendLinkified(bubble, it.text || '');
    row.appendChild(bubble);
    if (it.k === 'bot' && it.buttons && it.buttons.length) row.appendChild(keyboard(it));
    it.el = row;
    insert(row);
    if (it.state) setItemState(it, it.state === 'pending' ? 'failed' : it.state, null);
    if (restoring || nearBottom || it.k === 'me') scrollDown();
    return it;
  }
  function insert(el) {
    if (typingEl && typingEl.parentNode === logEl) logEl.insertBefore(el, typingEl);
    else logEl.appendChild(el);
  }

  function keyboard(it) {
    const keys = document.createElement('div');
    keys.className = 'keys';
    keys.setAttribute('role', 'group');
    it.buttons.forEach((b) => {
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'key';
      btn.textContent = b.label;
      if (it.used) {
        btn.disabled = true;
        if (it.chosen === b.action) btn.classList.add('chosen');
      }
      btn.addEventListener('click', () => press(it, b, btn));
      keys.appendChild(btn);
    });
    if (it.used) keys.classList.add('used');
    it.keysEl = keys;
    return keys;
  }

  function press(it, b, btn) {
    if (it.used) return;
    it.used = true;
    it.chosen = b.action;
    it.keysEl.classList.add('used');
    it.keysEl.querySelectorAll('button').forEach((x) => { x.disabled = true; });
    btn.classList.add('chosen');
    const me = addItem({ k: 'me', text: b.label, at: Date.now(), state: 'pending' }, false);
    save();
    deliver({ action: b.action }, me).then(save);
  }

  function setItemState(it, state, retryBody) {
    it.state = state;
    if (!it.el) return;
    it.el.classList.toggle('pending', state === 'pending');
    it.el.classList.toggle('failed', state === 'failed');
    const old = it.el.querySelector('.meta');
    if (old) old.remove();
    if (state === 'failed') {
      const meta = document.createElement('div');
      meta.className = 'meta';
      const span = document.createElement('span');
      span.textContent = t('web.send_failed');
      meta.appendChild(span);
      if (retryBody) {
        const r = document.createElement('button');
        r.type = 'button';
        r.textContent = t('web.retry');
        r.addEventListener('click', () => {
          setItemState(it, 'pending');
          deliver(retryBody, it).then(save);
        });
        meta.appendChild(r);
      }
      it.el.appendChild(meta);
    }
  }

  function showTyping(on) {
    if (on && !typingEl) {
      typingEl = document.createElement('div');
      typingEl.className = 'row bot typing';
      typingEl.setAttribute('aria-label', t('web.typing'));
      typingEl.innerHTML = '<div class="bubble"><i></i><i></i><i></i></div>';
      logEl.appendChild(typingEl);
      scrollDown();
    } else if (!on && typingEl && inflight === 0) {
      typingEl.remove();
      typingEl = null;
    }
  }

  const URL_RE = /https?:\/\/[^\s<>"'，。、；！？）】]+/g;
  function appendLinkified(el, text) {
    let last = 0;
    text.replace(URL_RE, (url, at) => {
      let href = url.replace(/[.,;:!?)\]]+$/, '');
      if (at > last) el.appendChild(document.createTextNode(text.slice(last, at)));
      const a = document.createElement('a');
      a.href = href;
      a.textContent = href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer nofollow';
      el.appendChild(a);
      last = at + href.length;
      return url;
    });
    if (last < text.length) el.appendChild(document.createTextNode(text.slice(last)));
  }

  function formatTime(ms) {
    try {
      return new Date(ms).toLocaleString(lang, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    } catch (e) {
      return new Date(ms).toLocaleString();
    }
  }
  function scrollDown() {
    requestAnimationFrame(() => { logEl.scrollTop = logEl.scrollHeight; });
  }

  // ---- composer ------------------------------------------------------------------------------
  function autosize() {
    input.style.height = 'auto';
    const h = input.scrollHeight + (input.offsetHeight - input.clientHeight); // content + borders
    input.style.height = Math.min(h, 140) + 'px';
    input.style.overflowY = h > 140 ? 'auto' : 'hidden';
    sendBtn.disabled = input.value.trim() === '';
  }
  input.addEventListener('input', autosize);
  input.addEventListener('keydown', (e) => {
    // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition (pinyin) does not send.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event('submit', { cancelable: true }));
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (new TextEncoder().encode(text).length > cfg.max_text) {
      showError(t('web.too_long'));
      return;
    }
    input.value = '';
    autosize();
    const me = addItem({ k: 'me', text, at: Date.now(), state: 'pending' }, false);
    save();
    deliver({ text }, me).then(save);
    input.focus();
  });

  document.querySelectorAll('.lang').forEach((b) => b.addEventListener('click', () => {
    if (b.dataset.lang === lang) return;
    lang = b.dataset.lang;
    store.set(K_LANG, lang);
    applyLang();
    if (session) deliver({ text: '/lang ' + lang }, null).then(save); // the bot switches too
  }));

  $('new-chat').addEventListener('click', () => {
    const old = session;
    session = '';
    store.del(K_SESSION);
    if (old) store.del(K_LOG + old);
    logEl.textContent = '';
    items = []; seen = new Set(); after = 0;
    toastEl.hidden = true;
    deliver({ text: '/start' }, null).then(save);
    input.focus();
  });

  document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); else schedule(); });
  window.addEventListener('offline', () => setStatus('offline'));
  window.addEventListener('online', () => { failures = 0; poll(); });

  // ---- start ---------------------------------------------------------------------------------
  applyLang();
  autosize();
  if (session) {
    restore();
    poll();
  } else {
    deliver({ text: '/start' }, null).then(() => { save(); schedule(); });
  }
})();
