// rooms.js: the rooms the page knows, as data. It owns the map of rooms
// (each with its log element, members, the ids it has shown, its unread
// count and who is typing there), which room is on screen (active), and the
// server's directory of rooms. Drawing is in log.js and view.js; entering
// and leaving in membership.js.
//
// The page is in one or more rooms ("general" always). Messages are kept in
// server id order and shown once: by room+id, and our own by the clientId
// we give each one.
//
// The server answers its lists (list-rooms, list-users, the members in
// join-room's and new-user's answers) in pages, each with `next` when more
// follow: pageThrough gathers them, up to a number of pages.

import { GENERAL } from './config.js';
import { h, ui } from './dom.js';

export const rooms = new Map(); // name -> room (see makeRoom)
export let active = GENERAL; // the room on screen
export let directory = []; // list-rooms: [{name, users, lastId}]
export let directoryMore = false; // the server lists more rooms than directory holds

export function setActive(name) {
  active = name;
}

export function setDirectory(list, more = false) {
  directory = list;
  directoryMore = more;
}

// pageThrough gathers the items of a paged list: first is the first
// page's answer, items(answer) its items, and ask(next) resolves with the
// page after the one whose `next` it is given (null when none came). It
// stops after `most` pages, and resolves with the items and whether more
// were left.
export async function pageThrough(first, items, ask, most) {
  const all = [...items(first)];
  let res = first;
  for (let pages = 1; typeof res.next === 'string' && res.next; pages++) {
    if (pages >= most) return { all, more: true };
    const next = await ask(res.next);
    if (!next || !next.ok) return { all, more: true };
    all.push(...items(next));
    res = next;
  }
  return { all, more: false };
}

// makeRoom adds a room, with an empty log (its top line drawn by
// log.js's renderTop).
export function makeRoom(name) {
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
    divider: null, // the "New messages" line (dividers.js)
    dividerSeen: false, // the reader saw the room with it
    typing: new Map(), // name -> expiry timer
  };
  rooms.set(name, room);
  return room;
}

export const general = () => rooms.get(GENERAL);

export function activeRoom() {
  return rooms.get(active) || rooms.get(GENERAL);
}

// roomOf is the room an event names, general when it names none.
export const roomOf = (name) => rooms.get(typeof name === 'string' && name ? name : GENERAL);

// roomOfLog is the room whose log el is, if any.
export function roomOfLog(el) {
  const room = el && el.dataset ? rooms.get(el.dataset.room) : undefined;
  return room && room.ul === el ? room : null;
}

export const isShown = (room) => room === activeRoom() && ui.body.dataset.view === 'chat';

// joinedRooms are the rooms we are in, general first, then by name.
export function joinedRooms() {
  return [...rooms.values()]
    .filter((r) => r.member)
    .sort((a, b) => (a.name === GENERAL ? -1 : b.name === GENERAL ? 1 : a.name.localeCompare(b.name)));
}
