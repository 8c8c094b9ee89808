// Parley chat page. Plain browser JavaScript, no build step, no third-party
// code. It talks to the server the page came from through the global `io`
// defined by /socket.io/socket.io.js.
//
// Rule: text that came from a user (names, messages, room names, server
// error strings) only ever reaches the DOM through textContent or attribute
// setters, never through innerHTML.
//
// Model: the page is in one or more rooms ("general" always). Each room has
// its own log (a <ul>; the one on screen carries id="messages"), its own
// members, unread count and typing people. Messages are kept in server id
// order and shown once: by room+id, and our own by the clientId we give each
// one, so that a retry after a reconnect is stored and shown once.
//
// Reconnecting: the handshake names the last id we saw in "general", so the
// server sends only what we missed there. When the server recovered the
// session (socket.recovered), it replays what we missed and nothing needs
// re-sending but our unconfirmed messages. Otherwise we claim our name back
// with our tab's token, re-join our rooms since the last id seen in each,
// fill any gap left from history, and re-send unconfirmed messages with
// their clientId.
(() => {
  'use strict';

  const GENERAL = 'general';
  const MAX_NAME = 32;
  const MAX_MESSAGE = 2000;
  const MAX_ROOM = 32;
  const ACK_TIMEOUT_MS = 8000;
  const JOIN_TIMEOUT_MS = 8000;
  const REJOIN_RETRIES = 8;
  const REJOIN_DELAY_MS = 1500;
  const GROUP_GAP_MS = 5 * 60 * 1000;
  const MAX_LOG_ITEMS = 1000;
  const BOTTOM_SLACK_PX = 48;
  const TOP_SLACK_PX = 160; // load older messages this close to the top
  const PAGE = 50; // scrollback page
  const CATCH_UP_PAGE = 200; // the server's largest history page
  const CATCH_UP_PAGES = 10;
  const TYPING_EVERY_MS = 2500; // repeat "typing" at most this often
  const TYPING_AFTER_SEND_MS = 1000; // after sending, start again no sooner
  const TYPING_IDLE_MS = 3000; // stop "typing" after this long without a key
  const TYPING_EXPIRE_MS = 5000; // forget someone's "typing" without a repeat
  const ROOMS_REFRESH_MS = 15000;
  // The server allows 20 events a second per connection, bursts of 60; the
  // page keeps under that so that a burst of messages is paced, not refused.
  const RATE_PER_S = 15;
  const RATE_BURST = 40;
  const NAME_KEY = 'parley.name'; // localStorage: the name to suggest
  const TOKEN_KEY = 'parley.token'; // sessionStorage: this tab's secret
  const SESSION_KEY = 'parley.session'; // sessionStorage: {name, rooms, active}
  const ERR_RATE = 'too many events; slow down';
  const ERR_NOT_JOINED = 'join with new-user first';
  const ERR_ALREADY_JOINED = 'already joined';
  const ROOM_CHARS = /^[\p{L}\p{Nd} ._-]+$/u;

  const $ = (id) => document.getElementById(id);
  const ui = {
    body: document.body,
    status: $('status'),
    statusText: $('status-text'),
    roomsToggle: $('rooms-toggle'),
    roomsBadge: $('rooms-badge'),
    usersToggle: $('users-toggle'),
    onlineCount: $('online-count'),
    joinView: $('join-view'),
    nameForm: $('name-form'),
    nameInput: $('name-input'),
    nameError: $('name-error'),
    joinButton: $('join-button'),
    roomsPanel: $('rooms-panel'),
    roomsClose: $('rooms-close'),
    rooms: $('rooms'),
    roomForm: $('room-form'),
    roomInput: $('room-input'),
    roomError: $('room-error'),
    moreRoomsTitle: $('more-rooms-title'),
    moreRooms: $('more-rooms'),
    chatView: $('chat-view'),
    roomName: $('room-name'),
    roomMeta: $('room-meta'),
    leaveRoom: $('leave-room'),
    logWrap: $('log-wrap'),
    jump: $('new-messages'),
    jumpText: $('new-messages-text'),
    typing: $('typing'),
    messageForm: $('message-form'),
    messageInput: $('message-input'),
    charCount: $('char-count'),
    composerError: $('composer-error'),
    sidebar: $('sidebar'),
    usersCount: $('users-count'),
    usersRoom: $('users-room'),
    users: $('users'),
    usersClose: $('users-close'),
    scrim: $('scrim'),
  };

  const state = {
    name: null, // the name we are (or were, before a reconnect) joined as
    wantedName: null, // name submitted in the form (or restored), not yet joined
    restoring: false, // wantedName came from this tab's session (a reload)
    restoreActive: null,
    joined: false, // the server knows us on the current connection
    everJoined: false,
    joinedAtDrop: false,
    resyncing: false, // re-joining rooms after a reconnect: hold the outbox
    joinToken: 0, // invalidates acks of superseded join attempts
    conn: 0, // counts connections: work for an older one is dropped
    syncPending: false, // a catch-up after a reconnect is not finished
    rejoinTries: 0,
    rejoinTimer: 0,
    rooms: new Map(), // name -> room (see makeRoom)
    active: GENERAL,
    directory: [], // list-rooms: [{name, users, lastId}]
    outbox: [], // our messages waiting to be emitted, in order
    pending: new Map(), // clientId -> our message not yet confirmed
    seq: 0,
    flushTimer: 0,
    pauseUntil: 0,
    roomsTimer: 0,
    unreadTitle: 0,
    serverKicks: 0,
    typingRoom: null, // the room we last told we are typing in
    typingSentAt: 0, // when we last said we are typing
    sentAt: 0, // when we last sent a message from the composer
    typingIdle: 0,
  };

  // ---------- small helpers ----------

  const codePoints = (s) => [...s].length;
  const pad2 = (n) => String(n).padStart(2, '0');
  const hhmm = (d) => `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  const toId = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null);

  function h(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Distinct, readable hues for names and avatars (no yellows: too light).
  const HUES = [4, 28, 145, 172, 195, 215, 245, 275, 300, 330];

  function hueOf(name) {
    let x = 2166136261; // FNV-1a
    for (let i = 0; i < name.length; i++) {
      x ^= name.charCodeAt(i);
      x = Math.imul(x, 16777619);
    }
    x ^= x >>> 16; // finalise (murmur3 fmix32) so similar names spread out
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35);
    x ^= x >>> 16;
    return HUES[(x >>> 0) % HUES.length];
  }

  function initialOf(name) {
    const first = [...name.trim()][0] || '?';
    return first.toUpperCase();
  }

  function avatar(name) {
    const a = h('span', 'avatar', initialOf(name));
    a.setAttribute('aria-hidden', 'true');
    a.style.setProperty('--hue', String(hueOf(name)));
    return a;
  }

  // timeEl shows HH:MM, with the date in front for an earlier day.
  function timeEl(ms) {
    const d = new Date(typeof ms === 'number' && Number.isFinite(ms) ? ms : Date.now());
    const today = new Date();
    let text = hhmm(d);
    if (d.toDateString() !== today.toDateString()) {
      const opts = { month: 'short', day: 'numeric' };
      if (d.getFullYear() !== today.getFullYear()) opts.year = 'numeric';
      text = `${d.toLocaleDateString(undefined, opts)}, ${text}`;
    }
    const t = h('time', 'time', text);
    t.dateTime = d.toISOString();
    t.title = d.toLocaleString();
    return t;
  }

  function errorText(err, fallback) {
    let text = fallback;
    if (typeof err === 'string' && err) text = err;
    else if (err && typeof err.message === 'string' && err.message) text = err.message;
    else if (err && typeof err.error === 'string' && err.error) text = err.error;
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  const storage = {
    get(area, key) {
      try { return window[area].getItem(key); } catch { return null; }
    },
    set(area, key, value) {
      try { window[area].setItem(key, value); } catch { /* storage may be unavailable */ }
    },
    remove(area, key) {
      try { window[area].removeItem(key); } catch { /* storage may be unavailable */ }
    },
  };

  function randomId(bytes) {
    const a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // tabToken is this tab's secret: with it, the server gives our name back
  // to us after a reload or a dropped connection.
  function tabToken(renew) {
    let t = renew ? null : storage.get('sessionStorage', TOKEN_KEY);
    if (!t) {
      t = randomId(16);
      storage.set('sessionStorage', TOKEN_KEY, t);
    }
    return t;
  }

  function validRoomName(name) {
    const n = codePoints(name);
    return n >= 1 && n <= MAX_ROOM && name.trim() === name && ROOM_CHARS.test(name);
  }

  // ---------- rate limit and requests ----------

  const bucket = { tokens: RATE_BURST, at: performance.now() };

  function refill() {
    const now = performance.now();
    bucket.tokens = Math.min(RATE_BURST, bucket.tokens + ((now - bucket.at) * RATE_PER_S) / 1000);
    bucket.at = now;
  }

  // take spends one event from the budget; forced, it may go into debt
  // (which then delays the outbox).
  function take(force) {
    refill();
    if (bucket.tokens < 1 && !force) return false;
    bucket.tokens -= 1;
    return true;
  }

  function budgetWait() {
    refill();
    return Math.max(20, Math.ceil(((1 - bucket.tokens) * 1000) / RATE_PER_S));
  }

  // ---------- connection status ----------

  function setStatus(kind, text) {
    ui.status.dataset.state = kind;
    ui.statusText.textContent = text;
    ui.leaveRoom.disabled = kind !== 'connected';
  }

  // ---------- rooms ----------

  function makeRoom(name) {
    const ul = h('ul', 'messages');
    ul.setAttribute('role', 'log');
    ul.setAttribute('aria-live', 'polite');
    ul.setAttribute('aria-relevant', 'additions');
    ul.setAttribute('aria-label', `Messages in #${name}`);
    ul.tabIndex = 0;
    ul.dataset.room = name;
    const top = h('li', 'log-top');
    top.dataset.kind = 'top';
    ul.append(top);
    const room = {
      name,
      ul,
      top,
      member: false, // we are in it (or will be again after a reconnect)
      wanted: false, // we mean to be in it (restored after a reload)
      joining: false,
      live: false, // joined: what arrives now is new, not history
      users: new Set(),
      ids: new Set(),
      lastId: 0, // newest id seen: the "since" of a catch-up
      dropId: 0, // lastId when the connection dropped
      minId: Infinity, // oldest id in the log: the "before" of scrollback
      atBeginning: false,
      loadingOlder: false,
      unread: 0,
      unseen: 0, // new messages below the reader's view
      stuck: true, // the reader follows the newest message
      scrollTop: 0,
      typing: new Map(), // name -> expiry timer
    };
    ul.addEventListener('scroll', () => onLogScroll(room), { passive: true });
    state.rooms.set(name, room);
    renderTop(room);
    return room;
  }

  function activeRoom() {
    return state.rooms.get(state.active) || state.rooms.get(GENERAL);
  }

  const isShown = (room) => room === activeRoom() && ui.body.dataset.view === 'chat';

  function joinedRooms() {
    return [...state.rooms.values()]
      .filter((r) => r.member)
      .sort((a, b) => (a.name === GENERAL ? -1 : b.name === GENERAL ? 1 : a.name.localeCompare(b.name)));
  }

  function saveSession() {
    if (!state.name) return;
    const rooms = joinedRooms().filter((r) => r.name !== GENERAL).map((r) => r.name);
    storage.set('sessionStorage', SESSION_KEY, JSON.stringify({ name: state.name, rooms, active: state.active }));
  }

  function readSession() {
    try {
      const s = JSON.parse(storage.get('sessionStorage', SESSION_KEY) || 'null');
      if (!s || typeof s.name !== 'string' || !s.name.trim()) return null;
      return {
        name: s.name,
        rooms: Array.isArray(s.rooms) ? s.rooms.filter((r) => typeof r === 'string' && validRoomName(r)) : [],
        active: typeof s.active === 'string' ? s.active : GENERAL,
      };
    } catch {
      return null;
    }
  }

  // ---------- message log ----------

  function isAtBottom(ul) {
    return ul.scrollHeight - ul.scrollTop - ul.clientHeight <= BOTTOM_SLACK_PX;
  }

  function scrollToBottom(room, smooth) {
    const ul = room.ul;
    if (smooth && typeof ul.scrollTo === 'function') ul.scrollTo({ top: ul.scrollHeight, behavior: 'smooth' });
    else ul.scrollTop = ul.scrollHeight;
    room.stuck = true;
    room.unseen = 0;
    if (room === activeRoom()) ui.jump.hidden = true;
  }

  function renderJump() {
    const room = activeRoom();
    if (!room || room.unseen === 0) {
      ui.jump.hidden = true;
      return;
    }
    ui.jumpText.textContent = room.unseen === 1 ? '1 new message' : `${room.unseen} new messages`;
    ui.jump.hidden = false;
  }

  // anchor remembers where the first line in view is, so that lines added
  // above it do not move what the reader sees (see restoreAnchor).
  function anchor(ul) {
    const top = ul.getBoundingClientRect().top;
    for (const el of ul.children) {
      if (el.dataset.kind === 'top') continue;
      const r = el.getBoundingClientRect();
      if (r.bottom > top) return { el, off: r.top - top };
    }
    return null;
  }

  function restoreAnchor(ul, a) {
    if (!a || !a.el.isConnected) return;
    const off = a.el.getBoundingClientRect().top - ul.getBoundingClientRect().top;
    ul.scrollTop += off - a.off;
  }

  // placeById puts li, whose message has the given id, among the room's
  // messages in id order; lines without an id stay where they are.
  function placeById(ul, li, id) {
    let before = null;
    for (let el = ul.lastElementChild; el; el = el.previousElementSibling) {
      if (el === li || el.dataset.id === undefined) continue;
      if (Number(el.dataset.id) > id) before = el;
      else break;
    }
    if (before) {
      ul.insertBefore(li, before);
      return;
    }
    if (!li.parentNode) {
      ul.append(li);
      return;
    }
    // li is shown (our own message, just confirmed): it must come after
    // every message with a smaller id; if it must move, it goes last, as
    // it reached the others only now.
    for (let el = ul.lastElementChild; el && el !== li; el = el.previousElementSibling) {
      if (el.dataset.id !== undefined) {
        ul.append(li);
        return;
      }
    }
  }

  // regroup shows li as a continuation of the message above it when both
  // are by the same person, close in time.
  function regroup(li) {
    if (!li || !li.classList.contains('msg')) return;
    const prev = li.previousElementSibling;
    const cont = !!prev && prev.classList.contains('msg') &&
      prev.dataset.kind === li.dataset.kind &&
      prev.dataset.author === li.dataset.author &&
      prev.dataset.history === li.dataset.history &&
      Math.abs(Number(li.dataset.time) - Number(prev.dataset.time)) < GROUP_GAP_MS;
    li.classList.toggle('cont', cont);
  }

  function insert(room, li, id) {
    const oldNext = li.parentNode === room.ul ? li.nextElementSibling : null;
    if (id === null || id === undefined) room.ul.append(li);
    else placeById(room.ul, li, id);
    regroup(li);
    regroup(li.nextElementSibling);
    if (oldNext) regroup(oldNext);
  }

  function noteId(room, id) {
    room.ids.add(id);
    if (id > room.lastId) room.lastId = id;
    if (id < room.minId) room.minId = id;
    // The store numbers each room's messages from 1.
    if (id === 1 && !room.atBeginning) {
      room.atBeginning = true;
      renderTop(room);
    }
  }

  // trimLog keeps a log from growing without bound, dropping its oldest
  // lines (scrollback can fetch them again).
  function trimLog(room) {
    const ul = room.ul;
    let dropped = false;
    while (ul.childElementCount > MAX_LOG_ITEMS + 1) {
      const el = room.top.nextElementSibling;
      if (el.dataset.id !== undefined) room.ids.delete(Number(el.dataset.id));
      el.remove();
      dropped = true;
    }
    if (!dropped) return;
    const first = ul.querySelector('li[data-id]');
    room.minId = first ? Number(first.dataset.id) : Infinity;
    room.atBeginning = false;
    renderTop(room);
    regroup(room.top.nextElementSibling);
  }

  // goesLast reports whether a line with this id (or none) goes at the end.
  function goesLast(ul, id) {
    if (id === null || id === undefined) return true;
    for (let el = ul.lastElementChild; el; el = el.previousElementSibling) {
      if (el.dataset.id !== undefined) return Number(el.dataset.id) < id;
    }
    return true;
  }

  // addLine shows li in a room's log: in id order when it has an id, else
  // at the end. The view follows the newest line when the reader is at the
  // bottom (or when forced, for our own messages); otherwise it stays put
  // and the "new messages" button counts what arrived below.
  function addLine(room, li, { id = null, force = false, countsAsNew = true } = {}) {
    const shown = isShown(room);
    const follow = force || (shown ? room.stuck || isAtBottom(room.ul) : room.stuck);
    const keep = shown && !follow && !goesLast(room.ul, id) ? anchor(room.ul) : null;
    insert(room, li, id);
    if (follow) {
      trimLog(room);
      if (shown) scrollToBottom(room, false);
      else room.stuck = true;
      return;
    }
    if (keep) restoreAnchor(room.ul, keep);
    if (countsAsNew && li === room.ul.lastElementChild) {
      room.unseen++;
      if (shown) renderJump();
    }
  }

  // system adds a centred line such as "Bob connected". Parts are strings or
  // {strong: string}, so a name can be emphasised without any HTML parsing.
  function system(room, parts, { tone = '', force = false } = {}) {
    const li = h('li', 'sys');
    li.dataset.kind = 'system';
    if (tone) li.dataset.tone = tone;
    const text = h('span', 'text');
    for (const part of Array.isArray(parts) ? parts : [parts]) {
      text.append(typeof part === 'string' ? document.createTextNode(part) : h('strong', '', part.strong));
    }
    li.append(text);
    li.title = new Date().toLocaleString();
    addLine(room, li, { force, countsAsNew: false });
    return li;
  }

  // buildMessage makes a chat bubble. kind is "mine" or "theirs".
  function buildMessage(kind, author, text, time) {
    const li = h('li', `msg ${kind}`);
    li.dataset.kind = kind;
    li.dataset.author = author;
    li.dataset.time = String(time);
    li.style.setProperty('--hue', String(hueOf(author)));
    if (kind === 'theirs') li.append(avatar(author));
    const bubble = h('div', 'bubble');
    const meta = h('span', 'meta');
    meta.append(h('span', 'author', kind === 'mine' ? 'You' : author), h('span', 'visually-hidden', ': '));
    const body = h('p', 'text', text);
    const foot = h('span', 'foot');
    foot.append(timeEl(time));
    if (kind === 'mine') foot.append(h('span', 'delivery'));
    bubble.append(meta, body, foot);
    li.append(bubble);
    return li;
  }

  // renderTop shows the top of a log: a way to load older messages, a
  // spinner while they load, or the beginning of the room.
  function renderTop(room) {
    const st = room.loadingOlder ? 'loading' : room.atBeginning ? 'beginning' : 'more';
    room.ul.dataset.state = st;
    const top = room.top;
    top.dataset.state = st;
    if (st === 'beginning') {
      const icon = h('span', 'top-icon', '#');
      icon.setAttribute('aria-hidden', 'true');
      const words = h('span', 'top-words');
      words.append(h('strong', 'top-title', `Beginning of #${room.name}`),
        h('span', 'top-sub', 'There are no earlier messages.'));
      top.replaceChildren(icon, words);
    } else if (st === 'loading') {
      const spin = h('span', 'spinner');
      spin.setAttribute('aria-hidden', 'true');
      top.replaceChildren(spin, h('span', 'top-sub', 'Loading earlier messages…'));
    } else {
      const b = h('button', 'load-older', 'Load earlier messages');
      b.type = 'button';
      b.id = 'load-older';
      b.addEventListener('click', () => loadOlder(room));
      top.replaceChildren(b);
    }
  }

  function onLogScroll(room) {
    if (room !== activeRoom()) return;
    room.stuck = isAtBottom(room.ul);
    if (room.stuck && room.unseen) {
      room.unseen = 0;
      renderJump();
    }
    if (room.ul.scrollTop < TOP_SLACK_PX) loadOlder(room);
  }

  function maybeLoadOlder() {
    const room = activeRoom();
    if (room && isShown(room) && room.ul.scrollTop < TOP_SLACK_PX) loadOlder(room);
  }

  // loadOlder asks for the page of messages before the oldest shown, and
  // puts it above without moving what the reader sees.
  function loadOlder(room) {
    if (room.loadingOlder || room.atBeginning || !room.member || !state.joined || state.resyncing || !socket.connected) return;
    room.loadingOlder = true;
    const keep = isShown(room) ? anchor(room.ul) : null;
    renderTop(room);
    if (keep) restoreAnchor(room.ul, keep);
    const before = Number.isFinite(room.minId) ? room.minId : 0;
    request('history', { room: room.name, before, limit: PAGE }).then((res) => {
      room.loadingOlder = false;
      if (!state.rooms.has(room.name)) return;
      const shown = isShown(room);
      const keep2 = shown ? anchor(room.ul) : null;
      if (res && res.ok && Array.isArray(res.messages)) {
        for (const m of res.messages) receive(room, m, { older: true });
        if (res.messages.length < PAGE) room.atBeginning = true;
      }
      renderTop(room);
      if (keep2) restoreAnchor(room.ul, keep2);
      if (res && res.ok) {
        // A short log may still not fill the view: keep going.
        if (shown) requestAnimationFrame(maybeLoadOlder);
      }
    });
  }

  // receive shows a chat message of a room, once. older: it is scrollback,
  // placed by the caller.
  function receive(room, data, { older = false } = {}) {
    if (!data || typeof data.message !== 'string') return;
    const id = toId(data.id);
    if (id !== null && room.ids.has(id)) return;
    const clientId = typeof data.clientId === 'string' ? data.clientId : '';
    if (clientId) {
      const item = state.pending.get(clientId);
      if (item && item.room === room.name) {
        confirmed(item, data);
        return;
      }
    }
    const author = typeof data.name === 'string' && data.name ? data.name : 'Someone';
    const me = state.name || state.wantedName;
    const kind = me && author === me ? 'mine' : 'theirs';
    const time = typeof data.time === 'number' ? data.time : Date.now();
    const li = buildMessage(kind, author, data.message, time);
    // History: what was said before we came (or before we scrolled back).
    const early = older || !room.live;
    if (early) li.dataset.history = 'true';
    if (kind === 'mine') setDelivery(li, 'sent');
    if (id !== null) {
      li.dataset.id = String(id);
      noteId(room, id);
    }
    if (older) {
      insert(room, li, id);
      return;
    }
    const news = !early && kind === 'theirs';
    addLine(room, li, { id, countsAsNew: news });
    if (!news) return;
    stopShowingTyping(room, author);
    if (room !== activeRoom() || ui.body.dataset.view !== 'chat') {
      room.unread++;
      renderRooms();
    }
    if (document.hidden) {
      state.unreadTitle++;
      document.title = `(${state.unreadTitle}) Parley`;
    }
  }

  // ---------- views and panels ----------

  function renderRooms() {
    const active = activeRoom();
    let totalUnread = 0;
    const mine = joinedRooms().map((r) => {
      const li = h('li', 'room');
      li.dataset.room = r.name;
      li.dataset.unread = String(r.unread);
      if (r === active) li.classList.add('active');
      const b = h('button', 'room-link');
      b.type = 'button';
      if (r === active) b.setAttribute('aria-current', 'page');
      const hash = h('span', 'hash', '#');
      hash.setAttribute('aria-hidden', 'true');
      b.append(hash, h('span', 'room-label', r.name));
      if (r.unread > 0) {
        totalUnread += r.unread;
        const badge = h('span', 'badge', r.unread > 99 ? '99+' : String(r.unread));
        badge.setAttribute('aria-label', `${r.unread} unread`);
        b.append(badge);
      }
      b.addEventListener('click', () => {
        switchRoom(r.name);
        afterPick();
      });
      li.append(b);
      return li;
    });
    ui.rooms.replaceChildren(...mine);

    const others = state.directory
      .filter((d) => !(state.rooms.get(d.name) || {}).member)
      .sort((a, b) => b.users - a.users || a.name.localeCompare(b.name))
      .map((d) => {
        const li = h('li', 'room other');
        li.dataset.room = d.name;
        const b = h('button', 'room-link');
        b.type = 'button';
        b.title = `Join #${d.name}`;
        const hash = h('span', 'hash', '#');
        hash.setAttribute('aria-hidden', 'true');
        b.append(hash, h('span', 'room-label', d.name), h('span', 'room-users', d.users ? `${d.users} online` : ''));
        b.addEventListener('click', async () => {
          if (await joinRoom(d.name)) afterPick();
        });
        li.append(b);
        return li;
      });
    ui.moreRooms.replaceChildren(...others);
    ui.moreRoomsTitle.hidden = others.length === 0;
    ui.roomsBadge.hidden = totalUnread === 0;
  }

  function renderUsers() {
    const room = activeRoom();
    const set = room ? room.users : new Set();
    const names = [...set].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }));
    if (state.name && set.has(state.name)) {
      names.splice(names.indexOf(state.name), 1);
      names.unshift(state.name);
    }
    const items = names.map((name) => {
      const li = h('li', 'user');
      li.dataset.name = name;
      const label = h('span', 'user-name', name);
      label.title = name;
      li.append(avatar(name), label);
      if (name === state.name) {
        li.classList.add('me');
        li.append(h('span', 'you-tag', 'you'));
      }
      return li;
    });
    ui.users.replaceChildren(...items);
    const n = String(names.length);
    ui.usersCount.textContent = n;
    ui.onlineCount.textContent = n;
    ui.usersRoom.textContent = `in #${room ? room.name : GENERAL}`;
    ui.roomMeta.textContent = names.length === 1 ? '1 online' : `${names.length} online`;
  }

  function renderHead() {
    const room = activeRoom();
    ui.roomName.textContent = room.name;
    ui.leaveRoom.hidden = room.name === GENERAL;
    ui.leaveRoom.title = `Leave #${room.name}`;
    ui.messageInput.placeholder = `Message #${room.name}`;
  }

  function renderTyping() {
    const room = activeRoom();
    const names = room ? [...room.typing.keys()] : [];
    ui.typing.dataset.count = String(names.length);
    if (names.length === 0) {
      ui.typing.replaceChildren();
      return;
    }
    const dots = h('span', 'typing-dots');
    dots.setAttribute('aria-hidden', 'true');
    dots.append(h('i'), h('i'), h('i'));
    const text = h('span', 'typing-text');
    if (names.length === 1) text.append(h('strong', '', names[0]), ' is typing…');
    else if (names.length === 2) text.append(h('strong', '', names[0]), ' and ', h('strong', '', names[1]), ' are typing…');
    else text.append('Several people are typing…');
    ui.typing.replaceChildren(dots, text);
  }

  // afterPick moves the focus on once a room was picked from the list: to
  // the composer, or on a phone back to the rooms button (no keyboard
  // popping up).
  function afterPick() {
    if (window.matchMedia('(max-width: 760px)').matches) ui.roomsToggle.focus();
    else ui.messageInput.focus();
  }

  // switchRoom shows another of our rooms, where its reader left it.
  function switchRoom(name) {
    const next = state.rooms.get(name);
    if (!next || (!next.member && name !== GENERAL)) return;
    const prev = activeRoom();
    if (prev !== next || !next.ul.isConnected) {
      if (prev && prev !== next) {
        prev.scrollTop = prev.ul.scrollTop;
        prev.stuck = isAtBottom(prev.ul);
        if (state.typingRoom === prev.name) stopTyping();
      }
      state.active = name;
      attachLog(next);
    }
    next.unread = 0;
    renderHead();
    renderRooms();
    renderUsers();
    renderTyping();
    renderJump();
    saveSession();
    closePanels(false);
    requestAnimationFrame(maybeLoadOlder);
  }

  // attachLog puts a room's log on screen, where its reader left it.
  function attachLog(room) {
    for (const ul of ui.logWrap.querySelectorAll('ul.messages')) {
      if (ul === room.ul) continue;
      ul.removeAttribute('id');
      ul.remove();
    }
    room.ul.id = 'messages';
    if (!room.ul.isConnected) ui.logWrap.prepend(room.ul);
    if (room.stuck) scrollToBottom(room, false);
    else room.ul.scrollTop = room.scrollTop;
  }

  function openPanel(kind) {
    closePanels(false);
    const open = kind === 'rooms' ? 'rooms-open' : 'users-open';
    ui.body.classList.add(open);
    (kind === 'rooms' ? ui.roomsToggle : ui.usersToggle).setAttribute('aria-expanded', 'true');
    ui.scrim.hidden = false;
    (kind === 'rooms' ? ui.roomsClose : ui.usersClose).focus();
    if (kind === 'rooms') refreshRooms();
  }

  function closePanels(returnFocus) {
    const wasRooms = ui.body.classList.contains('rooms-open');
    const wasUsers = ui.body.classList.contains('users-open');
    if (!wasRooms && !wasUsers) return;
    ui.body.classList.remove('rooms-open', 'users-open');
    ui.roomsToggle.setAttribute('aria-expanded', 'false');
    ui.usersToggle.setAttribute('aria-expanded', 'false');
    ui.scrim.hidden = true;
    if (returnFocus) (wasRooms ? ui.roomsToggle : ui.usersToggle).focus();
  }

  function showJoin(errorMessage) {
    ui.body.dataset.view = 'join';
    ui.joinView.hidden = false;
    ui.chatView.hidden = true;
    ui.sidebar.hidden = true;
    ui.roomsPanel.hidden = true;
    closePanels(false);
    setJoinBusy(false);
    if (errorMessage) showNameError(errorMessage);
    ui.nameInput.focus();
    ui.nameInput.select();
  }

  function showChat() {
    ui.body.dataset.view = 'chat';
    ui.joinView.hidden = true;
    ui.chatView.hidden = false;
    ui.sidebar.hidden = false;
    ui.roomsPanel.hidden = false;
    renderHead();
    renderRooms();
    renderUsers();
    ui.messageInput.focus();
    scrollToBottom(activeRoom(), false);
  }

  function setJoinBusy(busy, label) {
    ui.joinButton.disabled = busy;
    ui.nameInput.readOnly = busy;
    ui.joinButton.textContent = busy ? label || 'Joining…' : 'Join chat';
  }

  function showNameError(text) {
    ui.nameError.textContent = text;
    ui.nameError.hidden = false;
    ui.nameInput.setAttribute('aria-invalid', 'true');
  }

  function clearNameError() {
    ui.nameError.textContent = '';
    ui.nameError.hidden = true;
    ui.nameInput.removeAttribute('aria-invalid');
  }

  function validateName(raw) {
    const name = raw.trim();
    if (name === '') return { error: 'Please enter a name.' };
    if (codePoints(name) > MAX_NAME) return { error: `That name is too long: at most ${MAX_NAME} characters.` };
    return { name };
  }

  function showRoomError(text) {
    ui.roomError.textContent = text || '';
    ui.roomError.hidden = !text;
    if (text) ui.roomInput.setAttribute('aria-invalid', 'true');
    else ui.roomInput.removeAttribute('aria-invalid');
  }

  // ---------- socket ----------

  if (typeof window.io !== 'function') {
    setStatus('offline', 'Offline');
    showNameError('The chat client could not be loaded. Check your connection and reload the page.');
    ui.joinButton.disabled = true;
    return;
  }

  makeRoom(GENERAL);
  const general = state.rooms.get(GENERAL);
  general.ul.id = 'messages';
  $('messages').replaceWith(general.ul);

  // The handshake says what we saw of "general", so that a reconnection
  // (or a new connection after a server restart) sends only what we missed.
  const socket = window.io({
    auth: (cb) => cb(general.lastId > 0 ? { since: general.lastId } : {}),
  });
  // A handle for tests and debugging.
  window.parley = { socket };

  // request emits an event that expects an answer, and resolves with it,
  // or with null when none came.
  function request(event, ...args) {
    take(true);
    return new Promise((resolve) => {
      socket.timeout(ACK_TIMEOUT_MS).emit(event, ...args, (err, res) => resolve(err ? null : res));
    });
  }

  // join asks the server for a name. mode: "new" from the form, "restore"
  // after a reload, "rejoin" after a reconnection the server did not
  // recover.
  function join(name, mode) {
    const token = ++state.joinToken;
    if (mode === 'new') setJoinBusy(true);
    take(true);
    socket.timeout(JOIN_TIMEOUT_MS).emit('new-user', name, { token: tabToken() }, (err, res) => {
      if (token !== state.joinToken) return; // superseded or disconnected since
      if (!err && res && res.ok) {
        joined(typeof res.name === 'string' && res.name ? res.name : name, res.users, mode);
        return;
      }
      if (res && res.error === ERR_ALREADY_JOINED) {
        // An earlier new-user got through, but not its answer (the session
        // was recovered since): we are in.
        request('list-users', GENERAL).then((r) => {
          if (token === state.joinToken) joined(name, r && r.ok ? r.users : [...general.users], mode);
        });
        return;
      }
      const why = err ? 'The server did not answer in time.' : errorText(res, 'The server refused that name.');
      if (mode === 'new') {
        setJoinBusy(false);
        state.wantedName = null;
        showNameError(why);
        ui.nameInput.focus();
        ui.nameInput.select();
        return;
      }
      // When the server did not answer (or asked us to slow down), try
      // again for a while; a refusal is final: our token would have given
      // us our name back.
      const transient = err || (res && res.error === ERR_RATE);
      if (transient && state.rejoinTries++ < REJOIN_RETRIES && socket.connected) {
        clearTimeout(state.rejoinTimer);
        state.rejoinTimer = setTimeout(() => {
          if (socket.connected && !state.joined) join(name, mode);
        }, REJOIN_DELAY_MS);
        return;
      }
      if (mode === 'rejoin') system(activeRoom(), [`Could not rejoin as ${name}: ${why}`], { tone: 'error' });
      signOut(name, `Could not rejoin as ${name}: ${why}`);
    });
  }

  // signOut forgets who we were and shows the name form again.
  function signOut(name, why) {
    for (const item of state.pending.values()) {
      if (!item.acked && !item.failed) failed(item, 'Not sent: you are no longer in the chat.');
    }
    state.outbox = [];
    state.name = null;
    state.wantedName = null;
    state.restoring = false;
    state.everJoined = false;
    state.joined = false;
    state.resyncing = false;
    storage.remove('sessionStorage', SESSION_KEY);
    for (const room of [...state.rooms.values()]) {
      if (room.name !== GENERAL) dropRoom(room);
    }
    general.member = false;
    general.live = false;
    general.users.clear();
    switchRoom(GENERAL);
    if (name) ui.nameInput.value = name;
    showJoin(why);
  }

  function dropRoom(room) {
    for (const t of room.typing.values()) clearTimeout(t);
    state.rooms.delete(room.name);
    if (state.active === room.name) {
      state.active = GENERAL;
      attachLog(general);
    }
    room.ul.remove();
  }

  function joined(name, users, mode) {
    const first = mode !== 'rejoin' || state.name !== name;
    state.name = name;
    state.wantedName = null;
    state.joined = true;
    state.everJoined = true;
    state.rejoinTries = 0;
    state.serverKicks = 0;
    general.member = true;
    general.users = new Set(Array.isArray(users) ? users.filter((u) => typeof u === 'string') : []);
    general.users.add(name);
    ui.sidebar.classList.remove('stale');
    storage.set('localStorage', NAME_KEY, name);
    if (first) {
      general.live = true;
      clearNameError();
      setJoinBusy(false);
      showChat();
      system(general, 'You joined', { force: true });
    } else {
      for (const room of joinedRooms()) system(room, 'Reconnected', { tone: 'ok' });
    }
    renderUsers();
    renderRooms();
    saveSession();
    resync(mode);
  }

  // resync (re-)joins our other rooms, catches up on what we missed, then
  // sends what is waiting.
  async function resync(mode) {
    state.resyncing = true;
    state.syncPending = true;
    const conn = state.conn;
    const rooms = [...state.rooms.values()].filter((r) => r.name !== GENERAL && (r.member || r.wanted));
    await Promise.all(rooms.map((r) => enterRoom(r, mode)));
    if (conn !== state.conn) return;
    if (mode === 'restore' && state.restoreActive) {
      const want = state.restoreActive;
      state.restoreActive = null;
      if ((state.rooms.get(want) || {}).member) switchRoom(want);
    }
    if (mode === 'rejoin') {
      await Promise.all(joinedRooms().map(catchUp));
      if (conn !== state.conn) return;
    }
    for (const room of state.rooms.values()) room.dropId = 0;
    state.syncPending = false;
    state.restoring = false;
    state.resyncing = false;
    renderRooms();
    flushOutbox();
    refreshRooms();
    requestAnimationFrame(maybeLoadOlder);
  }

  // enterRoom asks to be in a room. Its history arrives (as chat-message
  // events) before the answer.
  async function enterRoom(room, mode) {
    room.joining = true;
    const conn = state.conn;
    const res = await request('join-room', { room: room.name, since: room.lastId });
    room.joining = false;
    if (state.rooms.get(room.name) !== room || conn !== state.conn) return false;
    if (res && res.ok) {
      room.member = true;
      room.wanted = false;
      room.users = new Set(Array.isArray(res.users) ? res.users.filter((u) => typeof u === 'string') : []);
      if (state.name) room.users.add(state.name);
      if (!room.live) {
        room.live = true;
        system(room, 'You joined', { force: true });
      }
      if (room === activeRoom()) renderUsers();
      return true;
    }
    const why = errorText(res, 'The server did not answer in time.');
    if (mode === 'rejoin') {
      system(room, [`Could not rejoin #${room.name}: ${why}`], { tone: 'error' });
    } else if (!room.member) {
      dropRoom(room);
    }
    return false;
  }

  // catchUp fills what a room may have missed while we were away beyond
  // what its re-join sent, from its history, newest pages first.
  async function catchUp(room) {
    const floor = room.dropId;
    if (!floor) return;
    let before = 0;
    let limit = PAGE;
    for (let i = 0; i < CATCH_UP_PAGES; i++) {
      const res = await request('history', { room: room.name, before, limit });
      if (!res || !res.ok || !Array.isArray(res.messages) || state.rooms.get(room.name) !== room) return;
      if (!socket.connected) return;
      const msgs = res.messages;
      for (const m of msgs) {
        const id = toId(m.id);
        if (id !== null && id > floor) receive(room, { ...m, history: false });
      }
      const oldest = msgs.length ? toId(msgs[0].id) : null;
      if (msgs.length < limit || oldest === null || oldest <= floor + 1) return;
      before = oldest;
      limit = CATCH_UP_PAGE;
    }
  }

  // joinRoom joins (or creates) a room from the form or the list.
  async function joinRoom(name) {
    const existing = state.rooms.get(name);
    if (existing && existing.member) {
      switchRoom(name);
      return true;
    }
    if (existing && existing.joining) return false;
    if (!state.joined || !socket.connected) {
      showRoomError('You are offline; try again once connected.');
      return false;
    }
    const room = existing || makeRoom(name);
    const ok = await enterRoom(room, 'new');
    if (!ok) {
      showRoomError('Could not join that room. Check its name and try again.');
      return false;
    }
    showRoomError('');
    switchRoom(name);
    refreshRooms();
    return true;
  }

  async function leaveRoom() {
    const room = activeRoom();
    if (!room || room.name === GENERAL || !state.joined) return;
    ui.leaveRoom.disabled = true;
    const res = await request('leave-room', room.name);
    ui.leaveRoom.disabled = !socket.connected;
    if (!res || !res.ok) {
      system(room, [`Could not leave #${room.name}: ${errorText(res, 'the server did not answer in time')}`], { tone: 'error' });
      return;
    }
    for (const item of state.pending.values()) {
      if (item.room === room.name && !item.acked && !item.failed) failed(item, `Not sent: you left #${room.name}.`);
    }
    if (state.typingRoom === room.name) stopTyping();
    dropRoom(room);
    switchRoom(GENERAL);
    refreshRooms();
  }

  function refreshRooms() {
    clearTimeout(state.roomsTimer);
    state.roomsTimer = setTimeout(refreshRooms, ROOMS_REFRESH_MS);
    if (!state.joined || !socket.connected || document.hidden) return;
    request('list-rooms').then((res) => {
      if (!res || !res.ok || !Array.isArray(res.rooms)) return;
      state.directory = res.rooms
        .filter((r) => r && typeof r.name === 'string')
        .map((r) => ({ name: r.name, users: typeof r.users === 'number' ? r.users : 0, lastId: toId(r.lastId) || 0 }));
      renderRooms();
    });
  }

  socket.on('connect', () => {
    state.rejoinTries = 0;
    setStatus('connected', 'Connected');
    if (socket.recovered && state.everJoined && state.joinedAtDrop) {
      // The server kept our session and replayed what we missed.
      state.joined = true;
      ui.sidebar.classList.remove('stale');
      for (const room of joinedRooms()) system(room, 'Reconnected', { tone: 'ok' });
      if (state.syncPending) {
        resync(state.restoring ? 'restore' : 'rejoin'); // it was cut short
        return;
      }
      for (const room of state.rooms.values()) room.dropId = 0;
      flushOutbox();
      refreshRooms();
      return;
    }
    if (state.everJoined) {
      join(state.name, 'rejoin');
    } else if (state.wantedName && state.restoring) {
      const conn = state.conn;
      duplicateProbe.then((duplicate) => {
        if (conn !== state.conn || !state.restoring) return;
        if (!duplicate) {
          join(state.wantedName, 'restore');
          return;
        }
        // This tab is a copy of another one, which holds our name and
        // token: start afresh here.
        tabToken(true);
        signOut(state.wantedName, 'This chat is open in another tab. Join here under another name, or go back to that tab.');
      });
    } else if (state.wantedName) {
      join(state.wantedName, 'new');
    }
  });

  socket.on('disconnect', (reason) => {
    const wasJoined = state.joined;
    state.conn++;
    state.joinedAtDrop = wasJoined;
    state.joined = false;
    state.resyncing = false;
    state.joinToken++;
    clearTimeout(state.rejoinTimer);
    clearTimeout(state.flushTimer);
    // What was sent but not confirmed goes back in line, in order, to be
    // sent again with the same clientId: the server stores it once.
    const waiting = [...state.pending.values()]
      .filter((i) => !i.acked && !i.failed)
      .sort((a, b) => a.seq - b.seq);
    for (const item of waiting) {
      if (item.inFlight) {
        item.inFlight = false;
        item.attempt++;
      }
      setDelivery(item.li, 'pending', 'Waiting for connection');
    }
    state.outbox = waiting;
    state.typingRoom = null;
    clearTimeout(state.typingIdle);
    for (const room of state.rooms.values()) {
      if (!room.dropId) room.dropId = room.lastId;
      room.loadingOlder = false;
      renderTop(room);
      for (const t of room.typing.values()) clearTimeout(t);
      room.typing.clear();
    }
    renderTyping();
    if (wasJoined) {
      ui.sidebar.classList.add('stale');
      for (const room of joinedRooms()) system(room, 'Connection lost. Reconnecting…', { tone: 'warn' });
    } else if (state.wantedName && !state.restoring) {
      setJoinBusy(true, 'Waiting for connection…');
    }
    if (navigator.onLine === false) setStatus('offline', 'Offline');
    else setStatus('reconnecting', 'Reconnecting…');
    if (reason === 'io server disconnect') {
      if (wasJoined) {
        // Someone with our name and token came in: this tab was duplicated
        // or our place was taken over elsewhere. Do not fight over it.
        setStatus('offline', 'Signed out');
        tabToken(true);
        signOut(state.name, 'You joined from another tab or window. Join again here with another name, or close this tab.');
        return;
      }
      // The client does not reconnect by itself after a server-side
      // disconnect; try again with a growing delay.
      const delay = Math.min(30000, 1000 * 2 ** state.serverKicks++);
      setTimeout(() => { if (!socket.connected) socket.connect(); }, delay);
    }
  });

  socket.on('connect_error', () => {
    if (navigator.onLine === false) setStatus('offline', 'Offline');
    else if (ui.status.dataset.state !== 'reconnecting') setStatus('reconnecting', 'Reconnecting…');
  });

  if (socket.io && typeof socket.io.on === 'function') {
    socket.io.on('reconnect_attempt', (attempt) => {
      if (navigator.onLine === false) setStatus('offline', `Offline (attempt ${attempt})`);
      else setStatus('reconnecting', `Reconnecting (attempt ${attempt})…`);
    });
    socket.io.on('reconnect_failed', () => setStatus('offline', 'Offline'));
  }

  window.addEventListener('offline', () => {
    if (!socket.connected) setStatus('offline', 'Offline');
  });
  window.addEventListener('online', () => {
    if (socket.connected) return;
    setStatus('reconnecting', 'Reconnecting…');
    // Back online: try now rather than at the next step of the backoff.
    // (The socket keeps its session id, so the server can still recover
    // the session.)
    if (socket.active) {
      socket.disconnect();
      socket.connect();
    }
  });

  const roomOf = (name) => state.rooms.get(typeof name === 'string' && name ? name : GENERAL);

  socket.on('user-connected', (name, roomName) => {
    if (!state.everJoined || typeof name !== 'string' || name === state.name) return;
    const room = roomOf(roomName);
    if (!room || !room.member || room.users.has(name)) return;
    room.users.add(name);
    if (room === activeRoom()) renderUsers();
    system(room, [{ strong: name }, room.name === GENERAL ? ' connected' : ' joined']);
  });

  socket.on('user-disconnected', (name, roomName) => {
    if (!state.everJoined || typeof name !== 'string' || name === state.name) return;
    const room = roomOf(roomName);
    if (!room || !room.member) return;
    room.users.delete(name);
    stopShowingTyping(room, name);
    if (room === activeRoom()) renderUsers();
    system(room, [{ strong: name }, room.name === GENERAL ? ' disconnected' : ' left']);
  });

  socket.on('chat-message', (data) => {
    if (!data || typeof data !== 'object') return;
    const room = roomOf(data.room);
    if (room) receive(room, data);
  });

  socket.on('typing', (data) => {
    if (!data || typeof data.name !== 'string' || data.name === state.name) return;
    const room = roomOf(data.room);
    if (!room || !room.member) return;
    clearTimeout(room.typing.get(data.name));
    if (data.typing === false) {
      room.typing.delete(data.name);
    } else {
      room.typing.set(data.name, setTimeout(() => stopShowingTyping(room, data.name), TYPING_EXPIRE_MS));
    }
    if (room === activeRoom()) renderTyping();
  });

  function stopShowingTyping(room, name) {
    if (!room.typing.has(name)) return;
    clearTimeout(room.typing.get(name));
    room.typing.delete(name);
    if (room === activeRoom()) renderTyping();
  }

  socket.on('error', (data) => {
    const text = errorText(data, 'Something went wrong.');
    if (state.everJoined) system(activeRoom(), [`Server: ${text}`], { tone: 'error' });
    else showNameError(text);
  });

  // ---------- sending ----------

  function setDelivery(li, status, text) {
    li.dataset.status = status;
    const d = li.querySelector('.delivery');
    if (!d) return;
    d.replaceChildren();
    if (status === 'pending') {
      d.append(h('span', 'delivery-icon pending-icon'), h('span', 'visually-hidden', text || 'Sending'));
    } else if (status === 'sent') {
      d.append(h('span', 'delivery-icon sent-icon'), h('span', 'visually-hidden', 'Sent'));
    }
  }

  function failed(item, text) {
    item.inFlight = false;
    item.failed = true;
    item.li.dataset.status = 'failed';
    const d = item.li.querySelector('.delivery');
    const msg = h('span', 'delivery-error', text);
    const retry = h('button', 'retry', 'Retry');
    retry.type = 'button';
    retry.addEventListener('click', () => resend(item));
    d.replaceChildren(msg, retry);
  }

  function resend(item) {
    const room = state.rooms.get(item.room);
    if (!room || !room.member) return;
    item.failed = false;
    // Move the bubble to the end: it will reach everyone else now.
    addLine(room, item.li, { force: true, countsAsNew: false });
    state.outbox.push(item);
    setDelivery(item.li, 'pending', socket.connected ? 'Sending' : 'Waiting for connection');
    flushOutbox();
    ui.messageInput.focus();
  }

  const canSend = () => state.joined && socket.connected && !state.resyncing;

  // flushOutbox sends what waits, in order, within the event budget.
  function flushOutbox() {
    clearTimeout(state.flushTimer);
    state.flushTimer = 0;
    while (canSend() && state.outbox.length > 0) {
      const item = state.outbox[0];
      if (item.acked || item.failed) {
        state.outbox.shift();
        continue;
      }
      if (!(state.rooms.get(item.room) || {}).member) {
        state.outbox.shift();
        failed(item, `Not sent: you are not in #${item.room}.`);
        continue;
      }
      const wait = state.pauseUntil - Date.now();
      if (wait > 0 || !take(false)) {
        state.flushTimer = setTimeout(flushOutbox, Math.max(wait, budgetWait()));
        return;
      }
      state.outbox.shift();
      emitMessage(item);
    }
  }

  function emitMessage(item) {
    item.inFlight = true;
    const attempt = ++item.attempt;
    setDelivery(item.li, 'pending', 'Sending');
    socket.timeout(ACK_TIMEOUT_MS).emit('send-chat-message', item.text, { room: item.room, clientId: item.clientId }, (err, res) => {
      if (item.acked) return;
      if (!err && res && res.ok) {
        confirmed(item, res);
        return;
      }
      if (attempt !== item.attempt) return; // a newer attempt is under way
      item.inFlight = false;
      if (err) {
        if (!socket.connected) return; // back in line: see "disconnect"
        failed(item, 'Not sent: the server did not confirm it.');
        return;
      }
      const code = res && typeof res.error === 'string' ? res.error : '';
      if (code === ERR_RATE || code === ERR_NOT_JOINED) {
        // Put it back in line; slow down, or claim our name again first.
        state.outbox.unshift(item);
        setDelivery(item.li, 'pending', 'Sending');
        if (code === ERR_RATE) {
          state.pauseUntil = Date.now() + 1000;
          flushOutbox();
        } else if (state.joined) {
          state.joined = false;
          join(state.name, 'rejoin');
        }
        return;
      }
      const why = errorText(res, 'Rejected by the server').replace(/\.$/, '');
      failed(item, `Not sent: ${why.charAt(0).toLowerCase()}${why.slice(1)}.`);
    });
  }

  // confirmed marks our message as stored, under the id the server gave it
  // (from the ack, or from its copy in a catch-up).
  function confirmed(item, res) {
    if (item.acked) return;
    item.acked = true;
    item.inFlight = false;
    item.failed = false;
    state.pending.delete(item.clientId);
    const i = state.outbox.indexOf(item);
    if (i >= 0) state.outbox.splice(i, 1);
    const room = state.rooms.get(item.room);
    const id = toId(res.id);
    if (typeof res.time === 'number') {
      item.li.querySelector('time').replaceWith(timeEl(res.time));
      item.li.dataset.time = String(res.time);
    }
    setDelivery(item.li, 'sent');
    if (!room || id === null) return;
    if (room.ids.has(id)) {
      // Already shown (without our clientId): keep a single copy.
      const other = room.ul.querySelector(`li[data-id="${id}"]`);
      if (other && other !== item.li) {
        const next = item.li.nextElementSibling;
        item.li.remove();
        regroup(next);
        return;
      }
    }
    item.li.dataset.id = String(id);
    noteId(room, id);
    const shown = isShown(room);
    const follow = shown && (room.stuck || isAtBottom(room.ul));
    insert(room, item.li, id);
    if (follow) scrollToBottom(room, false);
  }

  function showComposerError(text) {
    ui.composerError.textContent = text;
    ui.composerError.hidden = !text;
  }

  function updateComposer() {
    const ta = ui.messageInput;
    ta.style.height = 'auto';
    ta.style.height = `${Math.min(ta.scrollHeight, 168)}px`;
    const n = codePoints(ta.value);
    if (n > MAX_MESSAGE - 200) {
      ui.charCount.textContent = ` · ${n}/${MAX_MESSAGE}`;
      ui.charCount.hidden = false;
    } else {
      ui.charCount.hidden = true;
    }
    if (!ui.composerError.hidden && n <= MAX_MESSAGE) showComposerError('');
  }

  function sendFromComposer() {
    const text = ui.messageInput.value;
    if (text.trim() === '') {
      ui.messageInput.focus();
      return;
    }
    if (codePoints(text) > MAX_MESSAGE) {
      showComposerError(`That message is too long: at most ${MAX_MESSAGE} characters.`);
      return;
    }
    showComposerError('');
    stopTyping();
    state.sentAt = Date.now();
    const room = activeRoom();
    const item = {
      clientId: randomId(12),
      seq: ++state.seq,
      room: room.name,
      text,
      li: buildMessage('mine', state.name || 'You', text, Date.now()),
      attempt: 0,
      inFlight: false,
      acked: false,
      failed: false,
    };
    state.pending.set(item.clientId, item);
    addLine(room, item.li, { force: true, countsAsNew: false });
    state.outbox.push(item);
    setDelivery(item.li, 'pending', socket.connected ? 'Sending' : 'Waiting for connection');
    flushOutbox();
    ui.messageInput.value = '';
    updateComposer();
    ui.messageInput.focus();
  }

  // ---------- typing ----------

  function emitTyping(room, typing) {
    if (!state.joined || !socket.connected || !take(false)) return false;
    socket.timeout(ACK_TIMEOUT_MS).emit('typing', { room, typing }, () => {});
    return true;
  }

  function onComposerInput() {
    updateComposer();
    if (!state.joined) return;
    if (ui.messageInput.value.trim() === '') {
      stopTyping();
      return;
    }
    const room = state.active;
    const now = Date.now();
    if (state.typingRoom !== room && state.typingRoom !== null) stopTyping();
    // While typing, say so again every few seconds; on starting, say it at
    // once, unless we have just sent a message (a burst of sends, pasted
    // one after the other, is not typing).
    const due = state.typingRoom === null
      ? now - state.sentAt >= TYPING_AFTER_SEND_MS
      : now - state.typingSentAt >= TYPING_EVERY_MS;
    if (due) {
      if (emitTyping(room, true)) {
        state.typingRoom = room;
        state.typingSentAt = now;
      }
    }
    clearTimeout(state.typingIdle);
    state.typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(state.typingIdle);
    if (state.typingRoom === null) return;
    const room = state.typingRoom;
    state.typingRoom = null;
    emitTyping(room, false);
  }

  // ---------- DOM events ----------

  ui.nameForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (ui.joinButton.disabled) return;
    const v = validateName(ui.nameInput.value);
    if (v.error) {
      showNameError(v.error);
      ui.nameInput.focus();
      return;
    }
    clearNameError();
    state.wantedName = v.name;
    state.restoring = false;
    if (socket.connected) join(v.name, 'new');
    else {
      setJoinBusy(true, 'Waiting for connection…');
      if (!socket.active) socket.connect();
    }
  });

  ui.nameInput.addEventListener('input', () => {
    if (!ui.nameError.hidden) clearNameError();
  });

  ui.messageForm.addEventListener('submit', (e) => {
    e.preventDefault();
    sendFromComposer();
  });

  ui.messageInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      sendFromComposer();
    }
  });
  ui.messageInput.addEventListener('input', onComposerInput);
  ui.messageInput.addEventListener('blur', stopTyping);

  ui.roomForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = ui.roomInput.value.trim().replace(/^#+/, '').trim();
    if (!name) {
      showRoomError('Type the name of a room to join or create.');
      return;
    }
    if (!validRoomName(name)) {
      showRoomError(`Room names are 1 to ${MAX_ROOM} letters, digits, spaces, “-”, “_” or “.”.`);
      return;
    }
    showRoomError('');
    ui.roomInput.readOnly = true;
    const ok = await joinRoom(name);
    ui.roomInput.readOnly = false;
    if (ok) {
      ui.roomInput.value = '';
      afterPick();
    }
  });
  ui.roomInput.addEventListener('input', () => {
    if (!ui.roomError.hidden) showRoomError('');
  });

  ui.leaveRoom.addEventListener('click', leaveRoom);

  ui.jump.addEventListener('click', () => {
    scrollToBottom(activeRoom(), true);
    ui.messageInput.focus();
  });

  // Keep the newest message in view when the log area changes size (phone
  // keyboard, window resize, composer growing).
  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(() => {
      const room = activeRoom();
      if (room && room.stuck) room.ul.scrollTop = room.ul.scrollHeight;
    }).observe(ui.logWrap);
  }

  ui.roomsToggle.addEventListener('click', () => {
    if (ui.body.classList.contains('rooms-open')) closePanels(true);
    else openPanel('rooms');
  });
  ui.usersToggle.addEventListener('click', () => {
    if (ui.body.classList.contains('users-open')) closePanels(true);
    else openPanel('users');
  });
  ui.roomsClose.addEventListener('click', () => closePanels(true));
  ui.usersClose.addEventListener('click', () => closePanels(true));
  ui.scrim.addEventListener('click', () => closePanels(true));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closePanels(true);
  });

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) {
      state.unreadTitle = 0;
      document.title = 'Parley';
      if (state.joined) refreshRooms();
    }
  });

  // ---------- tabs ----------

  // A duplicated tab inherits this tab's session storage, token included.
  // Tabs answer a probe for their token, so that a copy does not take over
  // the name of the tab it was copied from.
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('parley.tabs') : null;
  if (channel) {
    channel.addEventListener('message', (e) => {
      const d = e.data;
      if (d && typeof d.probe === 'string' && state.everJoined && d.probe === storage.get('sessionStorage', TOKEN_KEY)) {
        channel.postMessage({ taken: d.probe });
      }
    });
  }

  function probeToken() {
    if (!channel) return Promise.resolve(false);
    const token = tabToken();
    return new Promise((resolve) => {
      const onMessage = (e) => {
        if (e.data && e.data.taken === token) done(true);
      };
      const done = (v) => {
        channel.removeEventListener('message', onMessage);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => done(false), 150);
      channel.addEventListener('message', onMessage);
      channel.postMessage({ probe: token });
    });
  }

  // ---------- start ----------

  const saved = storage.get('localStorage', NAME_KEY);
  if (saved && !ui.nameInput.value) ui.nameInput.value = saved;
  renderHead();
  renderUsers();
  let duplicateProbe = Promise.resolve(false);
  const session = readSession();
  if (session && !validateName(session.name).error) {
    // A reload: come back as we were, in the same rooms.
    state.wantedName = session.name.trim();
    state.restoring = true;
    state.restoreActive = session.active;
    duplicateProbe = probeToken();
    for (const name of session.rooms) makeRoom(name).wanted = true;
    ui.nameInput.value = state.wantedName;
    setJoinBusy(true, 'Rejoining…');
    showChat();
  } else {
    showJoin('');
  }
})();
