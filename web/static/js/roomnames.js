// roomnames.js: room names as the server tells them apart. The server finds
// a room by a key of its name, its confusable skeleton (case, width and
// look-alike letters folded: "general", "GENERAL" and "ｇｅｎｅｒａｌ" are
// one room), and answers with the name the room was first given. roomKey
// folds as much of that as the page can tell, so that a name typed finds a
// room the page knows (spellingOf); what it cannot tell, the answer to
// join-room settles (settleName). A room someone creates is announced to
// everyone (room-created): it joins the directory at once, before the next
// list-rooms (onRoomCreated). It owns no state.

import { PAGE } from './config.js';
import { receive } from './history.js';
import { renderTop } from './log.js';
import { request } from './net.js';
import { active, directory, rooms, setActive } from './rooms.js';
import { roomKey } from './text.js';
import { renderRooms } from './view.js';

// spellingOf is the name of the room that name stands for among the rooms
// the page is in and those of the directory, or name itself.
export function spellingOf(name) {
  const key = roomKey(name);
  for (const room of rooms.values()) if (roomKey(room.name) === key) return room.name;
  for (const d of directory) if (roomKey(d.name) === key) return d.name;
  return name;
}

// settleName gives room, which join-room has just entered under the name
// the server answered with, that name; it returns the room of the page that
// stands for it: room, renamed, or another room the page was in already
// under that name (then room is the caller's to drop). A room renamed had
// its history sent under its name before the answer came, when the page
// did not know it by it: that history is asked for again.
export function settleName(room, name) {
  if (typeof name !== 'string' || !name || name === room.name) return room;
  const other = rooms.get(name);
  if (other && other !== room) return other;
  const was = room.name;
  rooms.delete(was);
  room.name = name;
  rooms.set(name, room);
  room.ul.dataset.room = name;
  room.ul.setAttribute('aria-label', `Messages in #${name}`);
  if (active === was) setActive(name);
  renderTop(room);
  if (room.ids.size === 0) reloadRoom(room);
  return room;
}

// reloadRoom shows the newest page of a room's history, as history.
export async function reloadRoom(room) {
  const res = await request('history', { room: room.name, before: 0, limit: PAGE });
  if (rooms.get(room.name) !== room || !res || !res.ok || !Array.isArray(res.messages)) return;
  for (const m of res.messages) receive(room, m, { older: true });
  if (res.messages.length < PAGE) room.atBeginning = true;
  renderTop(room);
}

// onRoomCreated is the server's room-created event: {name}, a room just
// created, listed in the directory until list-rooms says otherwise.
export function onRoomCreated(data) {
  const name = data && typeof data.name === 'string' ? data.name : '';
  if (!name) return;
  const key = roomKey(name);
  if (directory.some((d) => roomKey(d.name) === key)) return;
  directory.push({ name, users: 0, lastId: 0 });
  renderRooms();
}
