// membership.js: the rooms we are in and who is in them. Entering a room
// (join-room, which sends its history first), joining one from the form or
// the list, leaving, switching the room on screen, the directory of other
// rooms (list-rooms, refreshed every few seconds), and the presence events
// (user-connected, user-disconnected). It owns the directory's timer.

import { swapDraft } from './composer.js';
import {
  GENERAL, ROOMS_PAGE, ROOMS_PAGES, ROOMS_REFRESH_MS, USERS_PAGE, USERS_PAGES,
} from './config.js';
import { watching } from './dividers.js';
import { ui } from './dom.js';
import { maybeLoadOlder } from './history.js';
import { limits } from './limits.js';
import { addRoom, isAtBottom, renderJump, system, unwatchRoom } from './log.js';
import { conn, request, socket } from './net.js';
import { abandonRoom } from './outbox.js';
import { known, myName, named } from './phase.js';
import { announce } from './presence.js';
import {
  active, activeRoom, general, pageThrough, roomOf, rooms, setActive, setDirectory,
} from './rooms.js';
import { settleName, spellingOf } from './roomnames.js';
import { saveSession } from './storage.js';
import { errorText, toId, validRoomName } from './text.js';
import { forgetRoomTyping, stopShowingTyping, stopTyping, typingIn } from './typing.js';
import {
  attachLog, closePanels, leaveEnabled, renderHead, renderRooms, renderTyping, renderUsers, setLeaveEnabled,
  showRoomError,
} from './view.js';

let roomsTimer = 0;

// enterRoom asks to be in a room. Its history arrives (as chat-message
// events) before the answer. mode is the join's: "new", "restore" or
// "rejoin". It resolves with the room entered (the one the page knows by
// the name the server answered with: see settleName), or null.
export async function enterRoom(room, mode) {
  room.joining = true;
  const at = conn;
  const res = await request('join-room', { room: room.name, since: room.lastId });
  room.joining = false;
  if (rooms.get(room.name) !== room || at !== conn) return null;
  if (res && res.ok) {
    const same = settleName(room, res.room);
    if (same !== room) {
      // Another spelling of a room we are in.
      if (!room.member) dropRoom(room);
      return same;
    }
    room.member = true;
    room.wanted = false;
    room.users = new Set(Array.isArray(res.users) ? res.users.filter((u) => typeof u === 'string') : []);
    if (myName()) room.users.add(myName());
    if (!room.live) {
      room.live = true;
      system(room, 'You joined', { force: true });
    }
    if (room === activeRoom()) renderUsers();
    moreUsers(room, res);
    return room;
  }
  const why = errorText(res, 'The server did not answer in time.');
  room.why = why;
  if (mode === 'rejoin') {
    system(room, [`Could not rejoin #${room.name}: ${why}`], { tone: 'error' });
  } else if (!room.member) {
    dropRoom(room);
  }
  return null;
}

// joinRoom joins (or creates) a room from the form or the list.
export async function joinRoom(typed) {
  const name = spellingOf(typed);
  const existing = rooms.get(name);
  if (existing && existing.member) {
    switchRoom(name);
    return true;
  }
  if (existing && existing.joining) return false;
  if (!known() || !socket.connected) {
    showRoomError('You are offline; try again once connected.');
    return false;
  }
  const room = existing || addRoom(name);
  const entered = await enterRoom(room, 'new');
  if (!entered) {
    showRoomError(room.why ? `Could not join #${name}. ${room.why}` : 'Could not join that room. Check its name and try again.');
    return false;
  }
  showRoomError('');
  switchRoom(entered.name);
  refreshRooms();
  return true;
}

// submitRoom joins the room typed in the form, and reports whether it did.
export async function submitRoom() {
  const name = ui.roomInput.value.trim().replace(/^#+/, '').trim();
  if (!name) {
    showRoomError('Type the name of a room to join or create.');
    return false;
  }
  if (!validRoomName(name)) {
    showRoomError(`Room names are 1 to ${limits.room} letters, digits, spaces, “-”, “_” or “.”.`);
    return false;
  }
  showRoomError('');
  ui.roomInput.readOnly = true;
  const ok = await joinRoom(name);
  ui.roomInput.readOnly = false;
  if (ok) ui.roomInput.value = '';
  return ok;
}

// leaveRoom leaves the room on screen, and reports whether it did.
export async function leaveRoom() {
  const room = activeRoom();
  if (!room || room.name === GENERAL || !known() || !leaveEnabled()) return false;
  setLeaveEnabled(false);
  const res = await request('leave-room', room.name);
  setLeaveEnabled(socket.connected);
  if (!res || !res.ok) {
    system(room, [`Could not leave #${room.name}: ${errorText(res, 'the server did not answer in time')}`], { tone: 'error' });
    return false;
  }
  abandonRoom(room.name, `Not sent: you left #${room.name}.`);
  if (typingIn() === room.name) stopTyping();
  dropRoom(room);
  switchRoom(GENERAL);
  refreshRooms();
  return true;
}

// dropRoom forgets a room we are no longer in.
export function dropRoom(room) {
  forgetRoomTyping(room);
  rooms.delete(room.name);
  if (active === room.name) {
    swapDraft(null, GENERAL);
    setActive(GENERAL);
    attachLog(general());
  }
  room.ul.remove();
}

// switchRoom shows another of our rooms, where its reader left it.
export function switchRoom(name) {
  const next = rooms.get(name);
  if (!next || (!next.member && name !== GENERAL)) return;
  const prev = activeRoom();
  if (prev !== next || !next.ul.isConnected) {
    if (prev && prev !== next) {
      prev.scrollTop = prev.ul.scrollTop;
      prev.stuck = isAtBottom(prev.ul);
      if (typingIn() === prev.name) stopTyping();
      unwatchRoom(prev);
    }
    swapDraft(prev && prev.name, name);
    setActive(name);
    attachLog(next);
    if (!document.hidden) watching(next);
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

// moreUsers adds the members of a room that came after the first page of
// them, which res, an answer with `users` and maybe `next`, held.
export async function moreUsers(room, res) {
  if (!res || typeof res.next !== 'string' || !res.next) return;
  const at = conn;
  const { all } = await pageThrough(res, usersOf,
    (after) => request('list-users', { room: room.name, limit: USERS_PAGE, after }), USERS_PAGES);
  if (at !== conn || rooms.get(room.name) !== room || !room.member) return;
  for (const name of all) room.users.add(name);
  if (room === activeRoom()) renderUsers();
}

const usersOf = (res) => (Array.isArray(res.users) ? res.users.filter((u) => typeof u === 'string') : []);
const roomsOf = (res) => (Array.isArray(res.rooms) ? res.rooms.filter((r) => r && typeof r.name === 'string') : []);

let roomsAsk = 0; // counts directory refreshes: an older one's answer is dropped

// refreshRooms asks for the directory of rooms now, and again in a while:
// the server's first pages of it (by name), up to ROOMS_PAGES.
export function refreshRooms() {
  clearTimeout(roomsTimer);
  roomsTimer = setTimeout(refreshRooms, ROOMS_REFRESH_MS);
  if (!known() || !socket.connected || document.hidden) return;
  const ask = ++roomsAsk;
  request('list-rooms', { limit: ROOMS_PAGE }).then(async (res) => {
    if (!res || !res.ok || !Array.isArray(res.rooms)) return;
    const { all, more } = await pageThrough(res, roomsOf,
      (after) => request('list-rooms', { limit: ROOMS_PAGE, after }), ROOMS_PAGES);
    if (ask !== roomsAsk) return;
    setDirectory(all.map((r) => ({
      name: r.name, users: typeof r.users === 'number' ? r.users : 0, lastId: toId(r.lastId) || 0,
    })), more);
    renderRooms();
  });
}

// onUserConnected is the server's user-connected event: someone came into
// general (connected) or another of our rooms (joined).
export function onUserConnected(name, roomName) {
  if (!named() || typeof name !== 'string' || name === myName()) return;
  const room = roomOf(roomName);
  if (!room || !room.member || room.users.has(name)) return;
  room.users.add(name);
  if (room === activeRoom()) renderUsers();
  announce(room, name, 'in');
}

// onUserDisconnected is the server's user-disconnected event.
export function onUserDisconnected(name, roomName) {
  if (!named() || typeof name !== 'string' || name === myName()) return;
  const room = roomOf(roomName);
  if (!room || !room.member) return;
  room.users.delete(name);
  stopShowingTyping(room, name);
  if (room === activeRoom()) renderUsers();
  announce(room, name, 'out');
}
