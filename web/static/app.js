// Parley chat page. Plain browser JavaScript, no build step, no third-party
// code. It talks to the server the page came from through the global `io`
// defined by /socket.io/socket.io.js.
//
// Rule: text that came from a user (names, messages, server error strings)
// only ever reaches the DOM through textContent or attribute setters, never
// through innerHTML.
(() => {
  'use strict';

  const MAX_NAME = 32;
  const MAX_MESSAGE = 2000;
  const ACK_TIMEOUT_MS = 8000;
  const JOIN_TIMEOUT_MS = 8000;
  const REJOIN_RETRIES = 8; // our stale session may still hold the name for a moment
  const REJOIN_DELAY_MS = 1500;
  const GROUP_GAP_MS = 5 * 60 * 1000;
  const MAX_LOG_ITEMS = 1000;
  const BOTTOM_SLACK_PX = 48;
  const NAME_KEY = 'parley.name';

  const $ = (id) => document.getElementById(id);
  const ui = {
    body: document.body,
    status: $('status'),
    statusText: $('status-text'),
    usersToggle: $('users-toggle'),
    onlineCount: $('online-count'),
    joinView: $('join-view'),
    nameForm: $('name-form'),
    nameInput: $('name-input'),
    nameError: $('name-error'),
    joinButton: $('join-button'),
    chatView: $('chat-view'),
    messages: $('messages'),
    jump: $('new-messages'),
    jumpText: $('new-messages-text'),
    messageForm: $('message-form'),
    messageInput: $('message-input'),
    charCount: $('char-count'),
    composerError: $('composer-error'),
    sidebar: $('sidebar'),
    usersCount: $('users-count'),
    users: $('users'),
    usersClose: $('users-close'),
    scrim: $('scrim'),
  };

  const state = {
    name: null, // the name we are (or were, before a reconnect) joined as
    wantedName: null, // name submitted in the form, waiting for a connection
    joined: false, // the server knows us on the current connection
    everJoined: false,
    joinToken: 0, // invalidates acks of superseded join attempts
    rejoinTries: 0,
    rejoinTimer: 0,
    users: new Set(),
    outbox: [], // pending messages not yet emitted, in order
    seenIds: new Set(),
    stuckToBottom: true,
    unseen: 0,
    unreadTitle: 0,
    lastGroup: null, // {kind, author, time, li}
    serverKicks: 0,
  };

  // ---------- small helpers ----------

  const codePoints = (s) => [...s].length;
  const pad2 = (n) => String(n).padStart(2, '0');
  const hhmm = (d) => `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;

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

  function timeEl(ms) {
    const d = new Date(typeof ms === 'number' && Number.isFinite(ms) ? ms : Date.now());
    const t = h('time', 'time', hhmm(d));
    t.dateTime = d.toISOString();
    t.title = d.toLocaleString();
    return t;
  }

  function errorText(err, fallback) {
    let text = fallback;
    if (typeof err === 'string' && err) text = err;
    else if (err && typeof err.error === 'string' && err.error) text = err.error;
    else if (err && typeof err.message === 'string' && err.message) text = err.message;
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // ---------- connection status ----------

  function setStatus(kind, text) {
    ui.status.dataset.state = kind;
    ui.statusText.textContent = text;
  }

  // ---------- message log ----------

  function isAtBottom() {
    const m = ui.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight <= BOTTOM_SLACK_PX;
  }

  function scrollToBottom(smooth) {
    const m = ui.messages;
    if (smooth && typeof m.scrollTo === 'function') m.scrollTo({ top: m.scrollHeight, behavior: 'smooth' });
    else m.scrollTop = m.scrollHeight;
    state.stuckToBottom = true;
    hideJump();
  }

  function hideJump() {
    state.unseen = 0;
    ui.jump.hidden = true;
  }

  function showJump() {
    ui.jumpText.textContent = state.unseen === 1 ? '1 new message' : `${state.unseen} new messages`;
    ui.jump.hidden = false;
  }

  function trimLog() {
    while (ui.messages.childElementCount > MAX_LOG_ITEMS) ui.messages.firstElementChild.remove();
  }

  // append adds li to the log, following the newest message only when the
  // reader is already at the bottom (or when forced, for our own messages).
  function append(li, { force = false, countsAsNew = true } = {}) {
    const follow = force || state.stuckToBottom || isAtBottom();
    ui.messages.append(li);
    trimLog();
    if (follow) {
      scrollToBottom(false);
    } else if (countsAsNew) {
      state.unseen++;
      showJump();
    }
    if (countsAsNew && document.hidden) {
      state.unreadTitle++;
      document.title = `(${state.unreadTitle}) Parley`;
    }
  }

  // system adds a centred line such as "Bob connected". Parts are strings or
  // {strong: string}, so a name can be emphasised without any HTML parsing.
  function system(parts, { tone = '', force = false } = {}) {
    const li = h('li', 'sys');
    li.dataset.kind = 'system';
    if (tone) li.dataset.tone = tone;
    const text = h('span', 'text');
    for (const part of Array.isArray(parts) ? parts : [parts]) {
      text.append(typeof part === 'string' ? document.createTextNode(part) : h('strong', '', part.strong));
    }
    li.append(text);
    li.title = hhmm(new Date());
    state.lastGroup = null;
    append(li, { force, countsAsNew: false });
    return li;
  }

  // message builds a chat bubble. kind is "mine" or "theirs".
  function message(kind, author, text, time) {
    const li = h('li', `msg ${kind}`);
    li.dataset.kind = kind;
    li.dataset.author = author;
    li.style.setProperty('--hue', String(hueOf(author)));
    const shownName = kind === 'mine' ? 'You' : author;

    const prev = state.lastGroup;
    if (prev && prev.kind === kind && prev.author === author && time - prev.time < GROUP_GAP_MS &&
        prev.li === ui.messages.lastElementChild) {
      li.classList.add('cont');
    }
    state.lastGroup = { kind, author, time, li };

    if (kind === 'theirs') li.append(avatar(author));
    const bubble = h('div', 'bubble');
    const meta = h('span', 'meta');
    meta.append(h('span', 'author', shownName), h('span', 'visually-hidden', ': '));
    const body = h('p', 'text', text);
    const foot = h('span', 'foot');
    foot.append(timeEl(time));
    if (kind === 'mine') foot.append(h('span', 'delivery'));
    bubble.append(meta, body, foot);
    li.append(bubble);
    return li;
  }

  // ---------- online list ----------

  function renderUsers() {
    const names = [...state.users].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }));
    if (state.name && state.users.has(state.name)) {
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
  }

  function openUsers() {
    ui.body.classList.add('users-open');
    ui.usersToggle.setAttribute('aria-expanded', 'true');
    ui.scrim.hidden = false;
    ui.usersClose.focus();
  }

  function closeUsers(returnFocus) {
    if (!ui.body.classList.contains('users-open')) return;
    ui.body.classList.remove('users-open');
    ui.usersToggle.setAttribute('aria-expanded', 'false');
    ui.scrim.hidden = true;
    if (returnFocus) ui.usersToggle.focus();
  }

  // ---------- views ----------

  function showJoin(errorMessage) {
    ui.body.dataset.view = 'join';
    ui.joinView.hidden = false;
    ui.chatView.hidden = true;
    ui.sidebar.hidden = true;
    closeUsers(false);
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
    ui.messageInput.focus();
    scrollToBottom(false);
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

  // ---------- socket ----------

  if (typeof window.io !== 'function') {
    setStatus('offline', 'Offline');
    showNameError('The chat client could not be loaded. Check your connection and reload the page.');
    ui.joinButton.disabled = true;
    return;
  }

  const socket = window.io();

  // join asks the server for a name. rejoin is true after a reconnect, when
  // we re-claim the name we had.
  function join(name, rejoin) {
    const token = ++state.joinToken;
    if (!rejoin) setJoinBusy(true);
    socket.timeout(JOIN_TIMEOUT_MS).emit('new-user', name, (err, res) => {
      if (token !== state.joinToken) return; // superseded or disconnected since
      if (!err && res && res.ok) {
        joined(typeof res.name === 'string' && res.name ? res.name : name, res.users, rejoin);
        return;
      }
      const why = err ? 'The server did not answer in time.' : errorText(res, 'The server refused that name.');
      if (!rejoin) {
        setJoinBusy(false);
        state.wantedName = null;
        showNameError(why);
        ui.nameInput.focus();
        ui.nameInput.select();
        return;
      }
      // Our previous session may still hold the name until the server notices
      // it is gone, so retry for a while before giving up.
      if (state.rejoinTries++ < REJOIN_RETRIES && socket.connected) {
        clearTimeout(state.rejoinTimer);
        state.rejoinTimer = setTimeout(() => {
          if (socket.connected && !state.joined) join(name, true);
        }, REJOIN_DELAY_MS);
        return;
      }
      system([`Could not rejoin as ${name}: ${why}`], { tone: 'error' });
      const lost = state.outbox.splice(0);
      for (const item of lost) failed(item, 'Not sent: you are no longer in the chat.');
      state.name = null;
      state.everJoined = false;
      state.users.clear();
      renderUsers();
      ui.nameInput.value = name;
      showJoin(`Could not rejoin as ${name}: ${why}`);
    });
  }

  function joined(name, users, rejoin) {
    const first = !state.everJoined || state.name !== name;
    state.name = name;
    state.wantedName = null;
    state.joined = true;
    state.everJoined = true;
    state.rejoinTries = 0;
    state.serverKicks = 0;
    state.users = new Set(Array.isArray(users) ? users.filter((u) => typeof u === 'string') : []);
    state.users.add(name);
    ui.sidebar.classList.remove('stale');
    renderUsers();
    try { localStorage.setItem(NAME_KEY, name); } catch { /* storage may be unavailable */ }
    if (first) {
      clearNameError();
      setJoinBusy(false);
      showChat();
      system('You joined', { force: true });
    } else if (rejoin) {
      system('Reconnected', { tone: 'ok' });
    }
    flushOutbox();
  }

  socket.on('connect', () => {
    state.rejoinTries = 0;
    setStatus('connected', 'Connected');
    const name = state.everJoined ? state.name : state.wantedName;
    if (name) join(name, state.everJoined);
  });

  socket.on('disconnect', (reason) => {
    const wasJoined = state.joined;
    state.joined = false;
    state.joinToken++;
    clearTimeout(state.rejoinTimer);
    if (wasJoined) {
      ui.sidebar.classList.add('stale');
      system('Connection lost. Reconnecting…', { tone: 'warn' });
    } else if (state.wantedName) {
      setJoinBusy(true, 'Waiting for connection…');
    }
    if (navigator.onLine === false) {
      setStatus('offline', 'Offline');
    } else {
      setStatus('reconnecting', 'Reconnecting…');
    }
    // The client does not reconnect by itself after a server-side
    // disconnect; try again with a growing delay.
    if (reason === 'io server disconnect' && typeof socket.connect === 'function') {
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
    if (!socket.connected) setStatus('reconnecting', 'Reconnecting…');
  });

  socket.on('user-connected', (name) => {
    if (!state.everJoined || typeof name !== 'string' || name === state.name) return;
    if (state.users.has(name)) return; // already listed (e.g. from the join ack)
    state.users.add(name);
    renderUsers();
    system([{ strong: name }, ' connected']);
  });

  socket.on('user-disconnected', (name) => {
    if (!state.everJoined || typeof name !== 'string' || name === state.name) return;
    state.users.delete(name);
    renderUsers();
    system([{ strong: name }, ' disconnected']);
  });

  socket.on('chat-message', (data) => {
    if (!state.everJoined || !data || typeof data.message !== 'string') return;
    const id = data.id === undefined || data.id === null ? null : String(data.id);
    if (id !== null) {
      if (state.seenIds.has(id)) return;
      state.seenIds.add(id);
    }
    const author = typeof data.name === 'string' ? data.name : 'Someone';
    const time = typeof data.time === 'number' ? data.time : Date.now();
    const li = message('theirs', author, data.message, time);
    if (id !== null) li.dataset.id = id;
    append(li);
  });

  socket.on('error', (data) => {
    const text = errorText(data, 'Something went wrong.');
    if (state.everJoined) system([`Server: ${text}`], { tone: 'error' });
    else showNameError(text);
  });

  // ---------- sending ----------

  function setDelivery(item, status, text) {
    item.li.dataset.status = status;
    const d = item.li.querySelector('.delivery');
    d.replaceChildren();
    if (status === 'pending') {
      d.append(h('span', 'delivery-icon pending-icon'), h('span', 'visually-hidden', text || 'Sending'));
    } else if (status === 'sent') {
      d.append(h('span', 'delivery-icon sent-icon'), h('span', 'visually-hidden', 'Sent'));
    } else if (status === 'failed') {
      const msg = h('span', 'delivery-error', text);
      const retry = h('button', 'retry', 'Retry');
      retry.type = 'button';
      retry.addEventListener('click', () => resend(item));
      d.append(msg, retry);
    }
  }

  function failed(item, text) {
    item.inFlight = false;
    setDelivery(item, 'failed', text);
  }

  function queue(item) {
    state.outbox.push(item);
    setDelivery(item, 'pending', socket.connected ? 'Sending' : 'Waiting for connection');
    flushOutbox();
  }

  function resend(item) {
    // Move the bubble to the end: it will reach everyone else now.
    state.lastGroup = null;
    item.li.classList.remove('cont');
    append(item.li, { force: true, countsAsNew: false });
    queue(item);
    ui.messageInput.focus();
  }

  function flushOutbox() {
    while (state.joined && socket.connected && state.outbox.length > 0) {
      emitMessage(state.outbox.shift());
    }
  }

  function emitMessage(item) {
    item.inFlight = true;
    setDelivery(item, 'pending', 'Sending');
    socket.timeout(ACK_TIMEOUT_MS).emit('send-chat-message', item.text, (err, res) => {
      if (!item.inFlight) return;
      item.inFlight = false;
      if (err) {
        failed(item, 'Not sent: the server did not confirm it.');
      } else if (!res || !res.ok) {
        const why = errorText(res, 'Rejected by the server').replace(/\.$/, '');
        failed(item, `Not sent: ${why.charAt(0).toLowerCase()}${why.slice(1)}.`);
      } else {
        if (res.id !== undefined && res.id !== null) {
          item.li.dataset.id = String(res.id);
          state.seenIds.add(String(res.id));
        }
        if (typeof res.time === 'number') {
          item.li.querySelector('time').replaceWith(timeEl(res.time));
        }
        setDelivery(item, 'sent');
      }
    });
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
    const item = { text, li: null, inFlight: false };
    item.li = message('mine', state.name || 'You', text, Date.now());
    append(item.li, { force: true, countsAsNew: false });
    queue(item);
    ui.messageInput.value = '';
    updateComposer();
    ui.messageInput.focus();
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
    if (socket.connected) join(v.name, false);
    else setJoinBusy(true, 'Waiting for connection…');
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
  ui.messageInput.addEventListener('input', updateComposer);

  ui.messages.addEventListener('scroll', () => {
    state.stuckToBottom = isAtBottom();
    if (state.stuckToBottom) hideJump();
  }, { passive: true });

  ui.jump.addEventListener('click', () => {
    scrollToBottom(true);
    ui.messageInput.focus();
  });

  // Keep the newest message in view when the log area changes size (phone
  // keyboard, window resize, composer growing).
  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(() => {
      if (state.stuckToBottom) ui.messages.scrollTop = ui.messages.scrollHeight;
    }).observe(ui.messages);
  }

  ui.usersToggle.addEventListener('click', () => {
    if (ui.body.classList.contains('users-open')) closeUsers(true);
    else openUsers();
  });
  ui.usersClose.addEventListener('click', () => closeUsers(true));
  ui.scrim.addEventListener('click', () => closeUsers(true));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeUsers(true);
  });

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) {
      state.unreadTitle = 0;
      document.title = 'Parley';
    }
  });

  // ---------- start ----------

  try {
    const saved = localStorage.getItem(NAME_KEY);
    if (saved && !ui.nameInput.value) ui.nameInput.value = saved;
  } catch { /* storage may be unavailable */ }
  renderUsers();
  showJoin('');
})();
