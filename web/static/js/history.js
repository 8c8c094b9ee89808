// history.js: what the logs hold. Shows each chat message once (receive),
// loads older pages at the top of a log as the reader scrolls up
// (scrollback), and after a reconnection fills what a room missed from its
// history (catchUp). It owns no state beyond each room's ids, the id seen
// last before a drop, and whether older messages are loading (rooms.js).

import { CATCH_UP_PAGE, CATCH_UP_PAGES, PAGE, TOP_SLACK_PX } from './config.js';
import { watching } from './dividers.js';
import { ui } from './dom.js';
import {
  addLine, anchor, buildMessage, insert, isAtBottom, markUnreadAt, noteId, renderJump, renderTop, restoreAnchor, scrollToBottom,
  setDelivery,
} from './log.js';
import { request, socket } from './net.js';
import { notifyMention } from './notify.js';
import { claim } from './outbox.js';
import { JOINED, myName, phase, wantedName } from './phase.js';
import { activeRoom, isShown, roomOf, roomOfLog, rooms } from './rooms.js';
import { myId } from './storage.js';
import { toId } from './text.js';
import { stopShowingTyping } from './typing.js';
import { countUnreadInTitle, renderRooms } from './view.js';

// watchLogs follows the reader's scrolling in the log on screen, and the
// "Load earlier messages" button at its top.
export function watchLogs() {
  // Scroll events do not bubble, but reach the log's ancestors' capturing
  // listeners.
  ui.logWrap.addEventListener('scroll', (e) => {
    const room = roomOfLog(e.target);
    if (room) onLogScroll(room);
  }, { capture: true, passive: true });
  ui.logWrap.addEventListener('click', (e) => {
    const b = e.target instanceof Element ? e.target.closest('button.load-older') : null;
    const room = b && roomOfLog(b.closest('ul.messages'));
    if (room) loadOlder(room);
  });
}

function onLogScroll(room) {
  if (room !== activeRoom()) return;
  room.stuck = isAtBottom(room.ul);
  if (room.stuck && !document.hidden) watching(room);
  if (room.stuck && room.unseen) {
    room.unseen = 0;
    renderJump();
  }
  if (room.ul.scrollTop < TOP_SLACK_PX) loadOlder(room);
}

export function maybeLoadOlder() {
  const room = activeRoom();
  if (room && isShown(room) && room.ul.scrollTop < TOP_SLACK_PX) loadOlder(room);
}

// loadOlder asks for the page of messages before the oldest shown, and
// puts it above without moving what the reader sees.
function loadOlder(room) {
  if (room.loadingOlder || room.atBeginning || !room.member || phase() !== JOINED || !socket.connected) return;
  room.loadingOlder = true;
  const keep = isShown(room) ? anchor(room.ul) : null;
  renderTop(room);
  if (keep) restoreAnchor(room.ul, keep);
  const before = Number.isFinite(room.minId) ? room.minId : 0;
  request('history', { room: room.name, before, limit: PAGE }).then((res) => {
    room.loadingOlder = false;
    if (!rooms.has(room.name)) return;
    const shown = isShown(room);
    const keep2 = shown ? anchor(room.ul) : null;
    if (res && res.ok && Array.isArray(res.messages)) {
      for (const m of res.messages) receive(room, m, { older: true });
      // A short page is the beginning, unless the server cut it short to
      // keep its answer small (more): then there is more before it.
      if (res.messages.length < PAGE && !res.more) room.atBeginning = true;
    }
    renderTop(room);
    if (keep2) restoreAnchor(room.ul, keep2);
    if (res && res.ok) {
      // A short log may still not fill the view: keep going.
      if (shown) requestAnimationFrame(maybeLoadOlder);
    }
  });
}

// onChatMessage is the server's chat-message event.
export function onChatMessage(data) {
  if (!data || typeof data !== 'object') return;
  const room = roomOf(data.room);
  if (room) receive(room, data);
}

// receive shows a chat message of a room, once. older: it is scrollback,
// placed by the caller.
export function receive(room, data, { older = false } = {}) {
  if (!data || typeof data.message !== 'string') return;
  const id = toId(data.id);
  if (id !== null && room.ids.has(id)) return;
  if (claim(room, data)) return;
  const author = typeof data.name === 'string' && data.name ? data.name : 'Someone';
  // Ours by identity; by name only for messages older than identities.
  const me = myName() || wantedName();
  const mine = typeof data.userId === 'string' && data.userId ? data.userId === myId() : me && author === me;
  const kind = mine ? 'mine' : 'theirs';
  const time = typeof data.time === 'number' ? data.time : Date.now();
  const li = buildMessage(kind, author, data.message, time, room);
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
  // Whether the reader is there, and sees it come.
  const present = isShown(room) && !document.hidden;
  const watched = present && (room.stuck || isAtBottom(room.ul));
  addLine(room, li, { id, countsAsNew: news });
  if (!news) return;
  // The unread part starts here, unless the reader is reading up to it.
  if (!watched && !(present && room.divider)) {
    markUnreadAt(room, li);
    // The divider made the log longer: a reader at the bottom stays there.
    if (room.stuck && isShown(room)) scrollToBottom(room, false);
  }
  stopShowingTyping(room, author);
  if (li.classList.contains('mentions-me')) notifyMention(room.name, author, data.message);
  if (room !== activeRoom() || ui.body.dataset.view !== 'chat') {
    room.unread++;
    renderRooms();
  }
  if (document.hidden) countUnreadInTitle();
}

// markDrop notes, in each room, the last id seen before the connection
// dropped (unless an earlier drop was not caught up yet), and stops
// waiting for older messages.
export function markDrop() {
  for (const room of rooms.values()) {
    if (!room.dropId) room.dropId = room.lastId;
    room.loadingOlder = false;
    renderTop(room);
  }
}

// caughtUp forgets the drop marks: nothing is missing.
export function caughtUp() {
  for (const room of rooms.values()) room.dropId = 0;
}

// catchUp fills what a room may have missed while we were away beyond
// what its re-join sent, from its history, newest pages first.
export async function catchUp(room) {
  const floor = room.dropId;
  if (!floor) return;
  let before = 0;
  let limit = PAGE;
  // At most CATCH_UP_PAGES pages' worth of messages: a page of long
  // messages comes cut short (more), and does not count as a whole one.
  for (let got = 0; got < CATCH_UP_PAGES * CATCH_UP_PAGE;) {
    const res = await request('history', { room: room.name, before, limit });
    if (!res || !res.ok || !Array.isArray(res.messages) || rooms.get(room.name) !== room) return;
    if (!socket.connected) return;
    const msgs = res.messages;
    for (const m of msgs) {
      const id = toId(m.id);
      if (id !== null && id > floor) receive(room, { ...m, history: false });
    }
    const oldest = msgs.length ? toId(msgs[0].id) : null;
    if ((msgs.length < limit && !res.more) || oldest === null || oldest <= floor + 1) return;
    got += msgs.length;
    before = oldest;
    limit = CATCH_UP_PAGE;
  }
}
