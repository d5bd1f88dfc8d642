// kefu live inbox (issue 17): plain JavaScript, no build step, progressive enhancement — every page
// works without it as server-rendered forms. On the inbox and ticket pages it
//   - follows the live feed (GET /console/inbox/events, server-sent events): the inbox refetches itself
//     and marks new and changed rows and the view counts; the ticket page appends new conversation
//     items (GET /console/tickets/{no}/messages?after=…) and refreshes its header, clocks and audit;
//     a "signout" event (account disabled, session ended) goes to the sign-in page;
//   - sends presence heartbeats from the ticket page and shows "X is viewing / replying" in #collision;
//   - adds keyboard shortcuts (j/k, Enter/o, r, n, c, e, u, ? for the help overlay, Esc);
//   - inserts a picked canned reply into the reply box without a round trip.
(function () {
  'use strict';
  var main = document.querySelector('main[data-page]');
  if (!main) { return; }
  var pageKind = main.getAttribute('data-page');
  var ticketNo = main.getAttribute('data-ticket') || '';
  var help = document.getElementById('shortcuts-help');
  var csrfInput = document.querySelector('input[name="csrf"]');
  var csrf = csrfInput ? csrfInput.value : '';

  var style = document.createElement('link');
  style.rel = 'stylesheet';
  style.href = '/console/assets/live.css';
  document.head.appendChild(style);

  function toLogin() { window.location.href = '/console/login'; }

  function parse(html) { return new DOMParser().parseFromString(html, 'text/html'); }

  function get(url) {
    return fetch(url, { credentials: 'same-origin', headers: { 'X-Requested-With': 'live.js' } }).then(function (r) {
      if (r.redirected && /\/console\/(login|password)$/.test(new URL(r.url).pathname)) { toLogin(); throw new Error('signed out'); }
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.text();
    });
  }

  // ---- inbox page ---------------------------------------------------------------------------------
  var changed = {}; // ticket numbers the feed named since the last refresh
  var refreshTimer = null;
  var selected = null; // data-ticket of the selected row

  function rows() { return Array.prototype.slice.call(document.querySelectorAll('tr.ticket-row')); }

  function select(row) {
    rows().forEach(function (r) { r.classList.remove('selected'); r.removeAttribute('aria-selected'); });
    if (!row) { selected = null; return; }
    row.classList.add('selected');
    row.setAttribute('aria-selected', 'true');
    selected = row.getAttribute('data-ticket');
    if (row.scrollIntoView) { row.scrollIntoView({ block: 'nearest' }); }
  }

  function refreshInbox() {
    refreshTimer = null;
    var names = changed;
    changed = {};
    get(window.location.href).then(function (html) {
      var doc = parse(html);
      var fresh = doc.querySelector('#inbox-table tbody');
      var cur = document.querySelector('#inbox-table tbody');
      if (!fresh || !cur) { return; }
      var before = {};
      rows().forEach(function (r) { before[r.getAttribute('data-ticket')] = true; });
      cur.parentNode.replaceChild(document.importNode(fresh, true), cur);
      rows().forEach(function (r) {
        var no = r.getAttribute('data-ticket');
        if (!before[no]) { r.classList.add('live-new'); } else if (names[no]) { r.classList.add('live-changed'); }
        if (no === selected) { r.classList.add('selected'); }
      });
      doc.querySelectorAll('.view-count[data-view]').forEach(function (n) {
        var mine = document.querySelector('.view-count[data-view="' + n.getAttribute('data-view') + '"]');
        if (mine && mine.textContent !== n.textContent) {
          mine.textContent = n.textContent;
          mine.classList.add('live-changed');
        }
      });
    }).catch(function () {});
  }

  // ---- ticket page --------------------------------------------------------------------------------
  var appending = false;
  var again = false;

  function lastAt() {
    var at = 0;
    document.querySelectorAll('#conversation li[data-at]').forEach(function (li) {
      at = Math.max(at, parseInt(li.getAttribute('data-at'), 10) || 0);
    });
    return at;
  }

  function refreshTicket() {
    if (appending) { again = true; return; }
    appending = true;
    var conv = document.getElementById('conversation');
    var done = function () {
      appending = false;
      if (again) { again = false; refreshTicket(); }
    };
    var msgs = conv ? get('/console/tickets/' + encodeURIComponent(ticketNo) + '/messages?after=' + lastAt()).then(function (html) {
      var tmp = document.createElement('ol');
      tmp.innerHTML = html; // our own server-rendered, escaped fragment
      var items = tmp.querySelectorAll('li[data-at]');
      if (!items.length) { return; }
      var none = conv.querySelector('li.hint');
      if (none) { none.parentNode.removeChild(none); }
      var seen = lastAt();
      items.forEach(function (li) {
        if ((parseInt(li.getAttribute('data-at'), 10) || 0) <= seen) { return; }
        li.classList.add('live-new');
        conv.appendChild(li);
      });
    }) : Promise.resolve();
    // the header, clocks, intake and audit trail as the server renders them now (never the forms)
    var parts = get(window.location.pathname).then(function (html) {
      var doc = parse(html);
      ['ticket-title', 'sla', 'intake', 'audit'].forEach(function (id) {
        var fresh = doc.getElementById(id);
        var cur = document.getElementById(id);
        if (fresh && cur && fresh.innerHTML !== cur.innerHTML) { cur.innerHTML = fresh.innerHTML; }
      });
    });
    Promise.all([msgs, parts]).then(done, done);
  }

  // ---- presence (collision notice) ----------------------------------------------------------------
  var collision = document.getElementById('collision');
  var presenceEvery = help ? parseInt(help.getAttribute('data-presence-ms'), 10) || 5000 : 5000;

  function presenceState() {
    var reply = document.getElementById('reply-text');
    if (reply && (document.activeElement === reply || reply.value.trim() !== '')) { return 'replying'; }
    return 'viewing';
  }

  function heartbeat() {
    var body = new URLSearchParams();
    body.set('csrf', csrf);
    body.set('state', presenceState());
    fetch('/console/tickets/' + encodeURIComponent(ticketNo) + '/presence', {
      method: 'POST', credentials: 'same-origin', body: body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }
    }).then(function (r) {
      if (r.redirected || r.status === 401) { toLogin(); return null; }
      return r.ok ? r.json() : null;
    }).then(function (d) {
      if (!d || !collision) { return; }
      collision.textContent = d.notice || '';
      collision.hidden = !d.notice;
      collision.classList.toggle('collision', !!d.notice);
    }).catch(function () {});
  }

  if (pageKind === 'ticket' && ticketNo && csrf) {
    heartbeat();
    setInterval(heartbeat, presenceEvery);
    var reply = document.getElementById('reply-text');
    if (reply) { reply.addEventListener('focus', heartbeat); }
    window.addEventListener('pagehide', function () {
      if (!navigator.sendBeacon) { return; }
      var f = new FormData();
      f.set('csrf', csrf);
      f.set('state', 'left');
      navigator.sendBeacon('/console/tickets/' + encodeURIComponent(ticketNo) + '/presence', f);
    });
  }

  // ---- the live feed ------------------------------------------------------------------------------
  var state = document.getElementById('live-state');

  function setState(key) {
    if (!state) { return; }
    state.textContent = key ? state.getAttribute('data-' + key) || '' : '';
  }

  if ((pageKind === 'inbox' || pageKind === 'ticket') && window.EventSource) {
    var es = new EventSource('/console/inbox/events');
    var onEvent = function (e) {
      var d;
      try { d = JSON.parse(e.data); } catch (err) { return; }
      setState('');
      if (pageKind === 'inbox') {
        changed[d.ticket] = true;
        if (!refreshTimer) { refreshTimer = setTimeout(refreshInbox, 150); }
      } else if (d.ticket === ticketNo) {
        refreshTicket();
      }
    };
    es.addEventListener('ticket', onEvent);
    es.addEventListener('gone', onEvent);
    es.addEventListener('signout', function () { es.close(); setState('signedout'); toLogin(); });
    es.addEventListener('reset', function () { es.close(); window.location.reload(); });
    es.addEventListener('open', function () { setState(''); main.setAttribute('data-live', 'open'); });
    es.addEventListener('error', function () {
      setState('offline');
      main.setAttribute('data-live', 'offline');
      if (es.readyState === EventSource.CLOSED) { // the server refused the stream: signed out?
        get('/console/password').catch(function () {});
      }
    });
  }

  // ---- canned replies -----------------------------------------------------------------------------
  var pick = document.getElementById('macro-pick');
  var macroForm = document.getElementById('form-macro');
  if (pick && macroForm) {
    macroForm.addEventListener('submit', function (e) {
      var box = document.getElementById('reply-text');
      var opt = pick.options[pick.selectedIndex];
      if (!box || !opt) { return; } // the server fills the box instead
      e.preventDefault();
      var text = opt.getAttribute('data-text') || '';
      var start = box.selectionStart, end = box.selectionEnd;
      if (typeof start !== 'number' || document.activeElement !== box) { start = end = box.value.length; }
      var before = box.value.slice(0, start);
      if (before && !/\n$/.test(before)) { before += '\n'; }
      box.value = before + text + box.value.slice(end);
      box.focus();
      var at = before.length + text.length;
      box.setSelectionRange(at, at);
      box.dispatchEvent(new Event('input', { bubbles: true }));
    });
  }

  // ---- keyboard shortcuts -------------------------------------------------------------------------
  function toggleHelp(show) {
    if (!help) { return; }
    help.hidden = show === undefined ? !help.hidden : !show;
  }

  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
  }

  function submit(form) {
    if (!form) { return; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (e.key === 'Escape') {
      if (help && !help.hidden) { toggleHelp(false); e.preventDefault(); return; }
      if (typing(document.activeElement)) { document.activeElement.blur(); }
      return;
    }
    if (typing(e.target)) { return; }
    var rs = rows();
    var idx = rs.findIndex(function (r) { return r.getAttribute('data-ticket') === selected; });
    switch (e.key) {
    case '?':
      toggleHelp();
      break;
    case 'j':
      if (!rs.length) { return; }
      select(rs[Math.min(idx + 1, rs.length - 1)]);
      break;
    case 'k':
      if (!rs.length) { return; }
      select(rs[Math.max(idx - 1, 0)]);
      break;
    case 'Enter':
    case 'o':
      if (idx < 0) { return; }
      var a = rs[idx].querySelector('a[href]');
      if (!a) { return; }
      window.location.href = a.href;
      break;
    case 'r':
      var reply = document.getElementById('reply-text');
      if (!reply) { return; }
      reply.focus();
      break;
    case 'n':
      var note = document.getElementById('note-text');
      if (!note) { return; }
      note.focus();
      break;
    case 'c':
      var claim = document.getElementById('form-claim');
      if (!claim) { return; }
      submit(claim);
      break;
    case 'e':
      var resolve = document.getElementById('form-resolve');
      if (!resolve) { return; }
      var summary = resolve.querySelector('input[name="text"], textarea');
      if (summary) { summary.focus(); } else { submit(resolve); }
      break;
    case 'u':
      if (pageKind === 'inbox') { return; }
      window.location.href = '/console/inbox';
      break;
    default:
      return;
    }
    e.preventDefault();
  });
  if (help) {
    help.addEventListener('click', function (e) { if (e.target === help) { toggleHelp(false); } });
  }
})();
