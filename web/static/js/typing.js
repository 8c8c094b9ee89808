// typing.js: "typing" both ways. Ours: said when we start, repeated while we
// type, stopped when we send, pause, leave the box or the room. It owns the
// room we last said we type in and when. Theirs: who types in each room
// (each room's typing map, see rooms.js), forgotten without a repeat.

import { ACK_TIMEOUT_MS, TYPING_AFTER_SEND_MS, TYPING_EVERY_MS, TYPING_EXPIRE_MS, TYPING_IDLE_MS } from './config.js';
import { ui } from './dom.js';
import { budgetWait, socket, take } from './net.js';
import { known, myName } from './phase.js';
import { active, activeRoom, roomOf, rooms } from './rooms.js';
import { renderTyping } from './view.js';

let typingRoom = null; // the room we last told we are typing in
let typingSentAt = 0; // when we last said we are typing
let sentAt = 0; // when we last sent a message from the composer
let typingIdle = 0;
let typingRetry = 0; // a "typing" the event budget held back, tried again

// typingIn is the room we said we are typing in, or null.
export const typingIn = () => typingRoom;

function emitTyping(room, typing) {
  if (!known() || !socket.connected || !take(false)) return false;
  socket.timeout(ACK_TIMEOUT_MS).emit('typing', { room, typing }, () => {});
  return true;
}

// onComposerInput tells the room on screen that we type, or stopped.
export function onComposerInput() {
  if (!known()) return;
  if (ui.messageInput.value.trim() === '') {
    stopTyping();
    return;
  }
  const room = active;
  const now = Date.now();
  if (typingRoom !== room && typingRoom !== null) stopTyping();
  // While typing, say so again every few seconds; on starting, say it at
  // once, unless we have just sent a message (a burst of sends, pasted
  // one after the other, is not typing).
  const due = typingRoom === null
    ? now - sentAt >= TYPING_AFTER_SEND_MS
    : now - typingSentAt >= TYPING_EVERY_MS;
  if (due) {
    clearTimeout(typingRetry);
    if (emitTyping(room, true)) {
      typingRoom = room;
      typingSentAt = now;
    } else if (known() && socket.connected) {
      // The budget is spent (the page's own requests, say, after people
      // came in): say it as soon as it allows, not at the next key, which
      // may never come.
      typingRetry = setTimeout(onComposerInput, budgetWait());
    }
  } else if (typingRoom === null) {
    // Just after a send: if the composer still holds text once the pause
    // is over, that is typing, though no key comes then.
    clearTimeout(typingRetry);
    typingRetry = setTimeout(onComposerInput, TYPING_AFTER_SEND_MS - (now - sentAt));
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

export function stopTyping() {
  clearTimeout(typingIdle);
  clearTimeout(typingRetry);
  if (typingRoom === null) return;
  const room = typingRoom;
  typingRoom = null;
  emitTyping(room, false);
}

// stopTypingToSend stops "typing" as a message leaves the composer.
export function stopTypingToSend() {
  stopTyping();
  sentAt = Date.now();
}

// onTyping is the server's "typing" event: someone else types, or stopped.
export function onTyping(data) {
  if (!data || typeof data.name !== 'string' || data.name === myName()) return;
  const room = roomOf(data.room);
  if (!room || !room.member) return;
  clearTimeout(room.typing.get(data.name));
  if (data.typing === false) {
    room.typing.delete(data.name);
  } else {
    room.typing.set(data.name, setTimeout(() => stopShowingTyping(room, data.name), TYPING_EXPIRE_MS));
  }
  if (room === activeRoom()) renderTyping();
}

export function stopShowingTyping(room, name) {
  if (!room.typing.has(name)) return;
  clearTimeout(room.typing.get(name));
  room.typing.delete(name);
  if (room === activeRoom()) renderTyping();
}

// forgetTyping forgets who types where, ourselves included, when the
// connection drops.
export function forgetTyping() {
  typingRoom = null;
  clearTimeout(typingIdle);
  for (const room of rooms.values()) forgetRoomTyping(room);
  renderTyping();
}

// forgetRoomTyping drops a room's typing timers.
export function forgetRoomTyping(room) {
  for (const t of room.typing.values()) clearTimeout(t);
  room.typing.clear();
}
