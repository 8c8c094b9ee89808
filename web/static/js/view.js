// view.js: the page around the logs: the join form and the chat view, the
// connection status, the list of rooms, the people online, the room's head
// and who is typing, the panels of a narrow screen, and the count of unread
// messages in the title. It owns that count; what it draws comes from
// rooms.js and phase.js. Clicks in the lists are handled by app.js.

import { GENERAL } from './config.js';
import { dividerTop, relabelDays } from './dividers.js';
import { avatar, h, own, ui } from './dom.js';
import { limits } from './limits.js';
import { isAtBottom, scrollToBottom } from './log.js';
import { myName } from './phase.js';
import {
  activeRoom, directory, directoryMore, joinedRooms, rooms,
} from './rooms.js';

let unreadTitle = 0;

export function setStatus(kind, text) {
  ui.status.dataset.state = kind;
  ui.statusText.textContent = text;
  setLeaveEnabled(kind === 'connected');
}

// setLeaveEnabled allows or stops Leave. It stays focusable (aria-disabled,
// not disabled), so that a keyboard user pressing it keeps the focus.
export function setLeaveEnabled(on) {
  if (on) ui.leaveRoom.removeAttribute('aria-disabled');
  else ui.leaveRoom.setAttribute('aria-disabled', 'true');
}

export const leaveEnabled = () => ui.leaveRoom.getAttribute('aria-disabled') !== 'true';

// countUnreadInTitle counts a message that came while the tab was hidden.
export function countUnreadInTitle() {
  unreadTitle++;
  document.title = `(${unreadTitle}) Parley`;
}

export function clearUnreadTitle() {
  unreadTitle = 0;
  document.title = 'Parley';
}

// focusedRoom is the room whose button in a list of rooms has the focus,
// or undefined.
function focusedRoom() {
  const el = document.activeElement;
  if (!(el instanceof Element) || !el.closest('#rooms, #more-rooms')) return undefined;
  const li = el.closest('li.room');
  return li ? li.dataset.room : undefined;
}

// renderRooms draws the lists of rooms. A button that had the focus is
// drawn anew: the focus moves to the new one (the same room, in either
// list), so that a keyboard user does not lose it when a message arrives.
export function renderRooms() {
  const hadFocus = focusedRoom();
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
    b.append(hash, own('span', 'room-label', r.name));
    if (r.unread > 0) {
      totalUnread += r.unread;
      const badge = h('span', 'badge', r.unread > 99 ? '99+' : String(r.unread));
      badge.setAttribute('aria-label', `${r.unread} unread`);
      b.append(badge);
    }
    li.append(b);
    return li;
  });
  ui.rooms.replaceChildren(...mine);

  const others = directory
    .filter((d) => !(rooms.get(d.name) || {}).member)
    .sort((a, b) => b.users - a.users || a.name.localeCompare(b.name))
    .map((d) => {
      const li = h('li', 'room other');
      li.dataset.room = d.name;
      const b = h('button', 'room-link');
      b.type = 'button';
      b.title = `Join #${d.name}`;
      const hash = h('span', 'hash', '#');
      hash.setAttribute('aria-hidden', 'true');
      b.append(hash, own('span', 'room-label', d.name), h('span', 'room-users', d.users ? `${d.users} online` : ''));
      li.append(b);
      return li;
    });
  if (directoryMore) {
    others.push(h('li', 'rooms-more hint', 'More rooms than shown: type the name of one above to join it.'));
  }
  ui.moreRooms.replaceChildren(...others);
  ui.moreRoomsTitle.hidden = others.length === 0;
  ui.roomsBadge.hidden = totalUnread === 0;
  if (hadFocus !== undefined && focusedRoom() !== hadFocus) {
    const li = [...ui.rooms.children, ...ui.moreRooms.children].find((el) => el.dataset.room === hadFocus);
    if (li) li.querySelector('button').focus({ preventScroll: true });
  }
}

// pickedRoom is the room whose button in a list of rooms was clicked, or
// undefined.
export function pickedRoom(e) {
  const b = e.target instanceof Element ? e.target.closest('button.room-link') : null;
  const li = b && b.closest('li.room');
  return li ? li.dataset.room : undefined;
}

export function renderUsers() {
  const room = activeRoom();
  const me = myName();
  const set = room ? room.users : new Set();
  const names = [...set].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }));
  if (me && set.has(me)) {
    names.splice(names.indexOf(me), 1);
    names.unshift(me);
  }
  const items = names.map((name) => {
    const li = h('li', 'user');
    li.dataset.name = name;
    const label = own('span', 'user-name', name);
    label.title = name;
    li.append(avatar(name), label);
    if (name === me) {
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

export function renderHead() {
  const room = activeRoom();
  ui.roomName.textContent = room.name;
  ui.leaveRoom.hidden = room.name === GENERAL;
  ui.leaveRoom.title = `Leave #${room.name}`;
  ui.messageInput.placeholder = `Message #${room.name}`;
}

export function renderTyping() {
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
  if (names.length === 1) text.append(own('strong', '', names[0]), ' is typing…');
  else if (names.length === 2) text.append(own('strong', '', names[0]), ' and ', own('strong', '', names[1]), ' are typing…');
  else text.append('Several people are typing…');
  ui.typing.replaceChildren(dots, text);
}

// afterPick moves the focus on once a room was picked from the list: to
// the composer, or on a phone back to the rooms button (no keyboard
// popping up).
export function afterPick() {
  if (window.matchMedia('(max-width: 760px)').matches) ui.roomsToggle.focus();
  else ui.messageInput.focus();
}

// attachLog puts a room's log on screen, where its reader left it, or at
// its "New messages" divider when what is unread starts above the view. A
// focus in the log taken away goes to the new one.
export function attachLog(room) {
  const hadFocus = document.activeElement instanceof Element &&
    !!document.activeElement.closest('ul.messages') && !room.ul.contains(document.activeElement);
  for (const ul of ui.logWrap.querySelectorAll('ul.messages')) {
    if (ul === room.ul) continue;
    ul.removeAttribute('id');
    ul.remove();
  }
  room.ul.id = 'messages';
  if (!room.ul.isConnected) ui.logWrap.prepend(room.ul);
  relabelDays(room.ul);
  if (room.stuck) scrollToBottom(room, false);
  else room.ul.scrollTop = room.scrollTop;
  // Unread above the view: open at the divider, the rest below.
  const top = dividerTop(room);
  if (top !== null && top < room.ul.scrollTop) {
    room.ul.scrollTop = top;
    room.stuck = isAtBottom(room.ul);
    if (!room.stuck) room.unseen = [...room.ul.querySelectorAll('li.divider ~ li.msg')].length;
  }
  if (hadFocus) room.ul.focus({ preventScroll: true });
}

export function openPanel(kind) {
  closePanels(false);
  const open = kind === 'rooms' ? 'rooms-open' : 'users-open';
  ui.body.classList.add(open);
  (kind === 'rooms' ? ui.roomsToggle : ui.usersToggle).setAttribute('aria-expanded', 'true');
  ui.scrim.hidden = false;
  (kind === 'rooms' ? ui.roomsClose : ui.usersClose).focus();
}

export function closePanels(returnFocus) {
  const wasRooms = ui.body.classList.contains('rooms-open');
  const wasUsers = ui.body.classList.contains('users-open');
  if (!wasRooms && !wasUsers) return;
  ui.body.classList.remove('rooms-open', 'users-open');
  ui.roomsToggle.setAttribute('aria-expanded', 'false');
  ui.usersToggle.setAttribute('aria-expanded', 'false');
  ui.scrim.hidden = true;
  if (returnFocus) (wasRooms ? ui.roomsToggle : ui.usersToggle).focus();
}

// renderNameHint says how long a name may be, as the server has it.
export function renderNameHint() {
  ui.nameHint.textContent = `1 to ${limits.name} characters.`;
}

export function showJoin(errorMessage) {
  ui.body.dataset.view = 'join';
  renderNameHint();
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

export function showChat() {
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

export function setJoinBusy(busy, label) {
  ui.joinButton.disabled = busy;
  ui.nameInput.readOnly = busy;
  ui.joinButton.textContent = busy ? label || 'Joining…' : 'Join chat';
}

export function showNameError(text) {
  ui.nameError.textContent = text;
  ui.nameError.hidden = false;
  ui.nameInput.setAttribute('aria-invalid', 'true');
}

export function clearNameError() {
  ui.nameError.textContent = '';
  ui.nameError.hidden = true;
  ui.nameInput.removeAttribute('aria-invalid');
}

export function showRoomError(text) {
  ui.roomError.textContent = text || '';
  ui.roomError.hidden = !text;
  if (text) ui.roomInput.setAttribute('aria-invalid', 'true');
  else ui.roomInput.removeAttribute('aria-invalid');
}
