// dom.js: the page's elements (ui) and the small builders every view uses:
// h, avatars with a hue per name, and times. It owns no state.
//
// Rule: text that came from a user (names, messages, room names, server
// error strings) only ever reaches the DOM through textContent or attribute
// setters, never through innerHTML; names, messages and room names go in
// an element of their own direction (own).

const $ = (id) => document.getElementById(id);

export const ui = {
  body: document.body,
  status: $('status'),
  statusText: $('status-text'),
  notifyToggle: $('notify-toggle'),
  roomsToggle: $('rooms-toggle'),
  roomsBadge: $('rooms-badge'),
  usersToggle: $('users-toggle'),
  onlineCount: $('online-count'),
  joinView: $('join-view'),
  nameForm: $('name-form'),
  nameInput: $('name-input'),
  nameHint: $('name-hint'),
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
  messages: $('messages'), // the placeholder log, replaced by general's
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

// h makes an element, with a class and text when given.
export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// own makes an element (as h does) whose text takes its own direction,
// isolated from what surrounds it (dir="auto"): a name, a message or a room
// name in Arabic or Hebrew keeps its punctuation, and what follows it, on
// the right side.
export function own(tag, className, text) {
  const node = h(tag, className, text);
  node.dir = 'auto';
  return node;
}

// Distinct, readable hues for names and avatars (no yellows: too light).
const HUES = [4, 28, 145, 172, 195, 215, 245, 275, 300, 330];

export function hueOf(name) {
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

export function avatar(name) {
  const a = h('span', 'avatar', initialOf(name));
  a.setAttribute('aria-hidden', 'true');
  a.style.setProperty('--hue', String(hueOf(name)));
  return a;
}

const pad2 = (n) => String(n).padStart(2, '0');

// timeEl shows HH:MM (the day is the log's date separator's), the date
// and time in full on hover.
export function timeEl(ms) {
  const d = new Date(typeof ms === 'number' && Number.isFinite(ms) ? ms : Date.now());
  const t = h('time', 'time', `${pad2(d.getHours())}:${pad2(d.getMinutes())}`);
  t.dateTime = d.toISOString();
  t.title = d.toLocaleString();
  return t;
}
