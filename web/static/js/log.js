// log.js: a room's log on screen: its lines (chat bubbles and system lines),
// kept in id order and grouped by author; following the newest line, or
// keeping still what the reader sees while lines arrive above or below;
// the "new messages" button; the top of the log; a bubble's delivery
// state. It owns no state beyond each room's log fields (see rooms.js).

import { BOTTOM_SLACK_PX, GROUP_GAP_MS, MAX_LOG_ITEMS } from './config.js';
import { avatar, h, hueOf, own, timeEl, ui } from './dom.js';
import { clearDivider, markUnread, syncDay, syncFrom, unwatched } from './dividers.js';
import { fold, mentions, parse, render } from './format.js';
import { myName } from './phase.js';
import { activeRoom, isShown, makeRoom } from './rooms.js';

// addRoom makes a room and draws the top of its log.
export function addRoom(name) {
  const room = makeRoom(name);
  renderTop(room);
  return room;
}

export function isAtBottom(ul) {
  return ul.scrollHeight - ul.scrollTop - ul.clientHeight <= BOTTOM_SLACK_PX;
}

export function scrollToBottom(room, smooth) {
  const ul = room.ul;
  if (smooth && typeof ul.scrollTo === 'function') ul.scrollTo({ top: ul.scrollHeight, behavior: 'smooth' });
  else ul.scrollTop = ul.scrollHeight;
  room.stuck = true;
  room.unseen = 0;
  if (room === activeRoom()) ui.jump.hidden = true;
}

// followOnResize keeps the newest message in view when the log area
// changes size (phone keyboard, window resize, composer growing).
export function followOnResize() {
  if (typeof ResizeObserver !== 'function') return;
  new ResizeObserver(() => {
    const room = activeRoom();
    if (room && room.stuck) room.ul.scrollTop = room.ul.scrollHeight;
  }).observe(ui.logWrap);
}

export function renderJump() {
  const room = activeRoom();
  if (!room || room.unseen === 0) {
    ui.jump.hidden = true;
    return;
  }
  ui.jumpText.textContent = room.unseen === 1 ? '1 new message' : `${room.unseen} new messages`;
  ui.jump.hidden = false;
}

// anchor remembers where the first line in view is, so that lines added
// above it do not move what the reader sees (see restoreAnchor). Date
// separators and the divider are no anchor: they move as lines come.
export function anchor(ul) {
  const top = ul.getBoundingClientRect().top;
  for (const el of ul.children) {
    if (el.dataset.kind === undefined || el.dataset.kind === 'top') continue;
    const r = el.getBoundingClientRect();
    if (r.bottom > top) return { el, off: r.top - top };
  }
  return null;
}

export function restoreAnchor(ul, a) {
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
export function regroup(li) {
  if (!li || !li.classList.contains('msg')) return;
  const prev = li.previousElementSibling;
  const cont = !!prev && prev.classList.contains('msg') &&
    prev.dataset.kind === li.dataset.kind &&
    prev.dataset.author === li.dataset.author &&
    prev.dataset.history === li.dataset.history &&
    Math.abs(Number(li.dataset.time) - Number(prev.dataset.time)) < GROUP_GAP_MS;
  li.classList.toggle('cont', cont);
}

// insert puts li in a room's log: in id order when it has an id, else at
// the end, with the date separators it needs; it does not scroll.
export function insert(room, li, id) {
  const oldNext = li.parentNode === room.ul ? li.nextElementSibling : null;
  if (id === null || id === undefined) room.ul.append(li);
  else placeById(room.ul, li, id);
  syncDay(li);
  syncFrom(li.nextElementSibling);
  if (oldNext) syncFrom(oldNext);
  regroup(li);
  regroup(li.nextElementSibling);
  if (oldNext) regroup(oldNext);
}

// noteId records that a room's log shows the message with this id.
export function noteId(room, id) {
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
  syncFrom(room.top.nextElementSibling);
  regroup(room.top.nextElementSibling);
}

// markUnreadAt puts the "New messages" divider before li (dividers.js).
export function markUnreadAt(room, li) {
  markUnread(room, li);
  regroup(li);
}

// clearUnread takes a room's divider away: we sent a message there.
export function clearUnread(room) {
  regroup(clearDivider(room));
}

// unwatchRoom notes that the reader no longer sees the room.
export function unwatchRoom(room) {
  regroup(unwatched(room));
}

// dropLine takes li out of its log, and mends what was around it.
export function dropLine(li) {
  const next = li.nextElementSibling;
  li.remove();
  if (!next) return;
  syncFrom(next);
  regroup(next);
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
export function addLine(room, li, { id = null, force = false, countsAsNew = true } = {}) {
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
export function system(room, parts, { tone = '', force = false } = {}) {
  const li = h('li', 'sys');
  li.dataset.kind = 'system';
  if (tone) li.dataset.tone = tone;
  const text = h('span', 'text');
  for (const part of Array.isArray(parts) ? parts : [parts]) {
    text.append(typeof part === 'string' ? document.createTextNode(part) : own('strong', '', part.strong));
  }
  li.append(text);
  li.dataset.time = String(Date.now());
  li.title = new Date().toLocaleString();
  addLine(room, li, { force, countsAsNew: false });
  return li;
}

// buildMessage makes a chat bubble, its text formatted (format.js), a
// mention of one of room's people whole (names with spaces), of us marked:
// then the bubble is too (class mentions-me). kind is "mine" or "theirs".
export function buildMessage(kind, author, text, time, room) {
  const li = h('li', `msg ${kind}`);
  li.dataset.kind = kind;
  li.dataset.author = author;
  li.dataset.time = String(time);
  li.style.setProperty('--hue', String(hueOf(author)));
  if (kind === 'theirs') li.append(avatar(author));
  const bubble = h('div', 'bubble');
  const meta = h('span', 'meta');
  meta.append(own('span', 'author', kind === 'mine' ? 'You' : author), h('span', 'visually-hidden', ': '));
  const me = myName();
  const tokens = parse(text, { names: room ? [...room.users] : [] });
  const body = own('div', 'text');
  body.append(...render(tokens, document, { me }));
  if (kind === 'theirs' && me && mentions(tokens).some((n) => fold(n) === fold(me))) li.classList.add('mentions-me');
  const foot = h('span', 'foot');
  foot.append(timeEl(time));
  if (kind === 'mine') foot.append(h('span', 'delivery'));
  bubble.append(meta, body, foot);
  li.append(bubble);
  return li;
}

// setDelivery shows where our message is: "pending" (with why) or "sent".
export function setDelivery(li, status, text) {
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

// renderTop shows the top of a log: a way to load older messages (a
// spinner in it while they load), or the beginning of the room. The button
// stays the same element while it loads, so that a keyboard user keeps the
// focus on it; at the beginning, the focus it had goes to the log.
// (history.js handles the button's clicks.)
export function renderTop(room) {
  const st = room.loadingOlder ? 'loading' : room.atBeginning ? 'beginning' : 'more';
  room.ul.dataset.state = st;
  const top = room.top;
  top.dataset.state = st;
  if (st === 'beginning') {
    const hadFocus = top.contains(document.activeElement);
    const icon = h('span', 'top-icon', '#');
    icon.setAttribute('aria-hidden', 'true');
    const words = h('span', 'top-words');
    const title = h('strong', 'top-title', 'Beginning of #');
    title.append(own('span', '', room.name));
    words.append(title,
      h('span', 'top-sub', 'There are no earlier messages.'));
    top.replaceChildren(icon, words);
    if (hadFocus) room.ul.focus({ preventScroll: true });
    return;
  }
  let b = top.querySelector('button.load-older');
  if (!b) {
    b = h('button', 'load-older');
    b.type = 'button';
    b.id = 'load-older';
    top.replaceChildren(b);
  }
  if (st === 'loading') {
    const spin = h('span', 'spinner');
    spin.setAttribute('aria-hidden', 'true');
    b.replaceChildren(spin, h('span', '', 'Loading earlier messages…'));
    b.setAttribute('aria-disabled', 'true');
  } else {
    b.replaceChildren('Load earlier messages');
    b.removeAttribute('aria-disabled');
  }
}
