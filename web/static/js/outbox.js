// outbox.js: our messages until the server has stored them. It owns the
// outbox (what waits to be emitted, in order, within the event budget) and
// the pending messages by clientId. Each message gets a clientId; after a
// drop what was not confirmed goes back in line and is sent again with the
// same clientId, so that the server stores it once. A message is confirmed
// by its ack, or by its own copy arriving (claim).
//
// A message whose answer does not come in time, on a connection still
// open, may well be stored (the connection stalled, the answer is late):
// it stays pending and is sent again, with its clientId, after a growing
// pause, until an answer comes or the connection drops. Only a refusal
// marks a message failed, never a silence. While the browser is offline
// nothing is emitted.

import { ACK_TIMEOUT_MS, RESEND_MAX_MS, RESEND_MS } from './config.js';
import { Code, codeOf, retryable } from './codes.js';
import { h, timeEl, ui } from './dom.js';
import { addLine, buildMessage, clearUnread, dropLine, insert, isAtBottom, noteId, scrollToBottom, setDelivery } from './log.js';
import { budgetWait, socket, take } from './net.js';
import {
  JOINED, known, myName, phase, wantedName,
} from './phase.js';
import { isShown, rooms } from './rooms.js';
import { errorText, randomId, toId } from './text.js';

let outbox = []; // our messages waiting to be emitted, in order
const pending = new Map(); // clientId -> our message not yet confirmed
let seq = 0;
let flushTimer = 0;
let pauseUntil = 0;
let rejoin = () => {};

// bindRejoin sets what to do when the server no longer knows us by our
// name (a not_joined refusal): claim it back.
export function bindRejoin(handler) {
  rejoin = handler;
}

// failed marks item as not sent, saying why. Only what sending again may
// fix offers Retry; a message refused for what it is (too long, holding a
// character that cannot be stored) offers Edit, which takes it back into
// the composer; one for a room left or after signing out, neither.
function failed(item, text, { retry = false, edit = false } = {}) {
  stopResend(item);
  item.inFlight = false;
  item.failed = true;
  item.li.dataset.status = 'failed';
  const d = item.li.querySelector('.delivery');
  const parts = [h('span', 'delivery-error', text)];
  if (retry) {
    const b = h('button', 'retry', 'Retry');
    b.type = 'button';
    b.addEventListener('click', () => resend(item));
    parts.push(b);
  }
  if (edit) {
    const b = h('button', 'edit', 'Edit');
    b.type = 'button';
    b.addEventListener('click', () => editAgain(item));
    parts.push(b);
  }
  d.replaceChildren(...parts);
}

// editAgain takes a refused message back into the composer (after what it
// holds, if anything), and out of the log.
function editAgain(item) {
  pending.delete(item.clientId);
  dropLine(item.li);
  const box = ui.messageInput;
  box.value = box.value ? `${box.value}\n${item.text}` : item.text;
  box.dispatchEvent(new Event('input', { bubbles: true }));
  box.focus();
}

function resend(item) {
  const room = rooms.get(item.room);
  if (!room || !room.member) return;
  item.failed = false;
  // Move the bubble to the end: it will reach everyone else now.
  addLine(room, item.li, { force: true, countsAsNew: false });
  outbox.push(item);
  setDelivery(item.li, 'pending', waitingText());
  flushOutbox();
  ui.messageInput.focus();
}

const canSend = () => phase() === JOINED && socket.connected && navigator.onLine !== false;

// waitingText says why a message waits.
const waitingText = () => (socket.connected && navigator.onLine !== false ? 'Sending' : 'Waiting for connection');

// send shows text as our message in room and sends it when it can.
export function send(room, text) {
  const item = {
    clientId: randomId(12),
    seq: ++seq,
    room: room.name,
    text,
    // While a reload's join is under way, the name asked for is ours.
    li: buildMessage('mine', myName() || wantedName() || 'You', text, Date.now(), room),
    attempt: 0,
    resends: 0, // sent again for want of an answer, on one connection
    resendTimer: 0,
    inFlight: false,
    acked: false,
    failed: false,
  };
  pending.set(item.clientId, item);
  clearUnread(room); // we have caught up
  addLine(room, item.li, { force: true, countsAsNew: false });
  outbox.push(item);
  setDelivery(item.li, 'pending', waitingText());
  flushOutbox();
}

// flushOutbox sends what waits, in order, within the event budget.
export function flushOutbox() {
  clearTimeout(flushTimer);
  flushTimer = 0;
  while (canSend() && outbox.length > 0) {
    const item = outbox[0];
    if (item.acked || item.failed) {
      outbox.shift();
      continue;
    }
    if (!(rooms.get(item.room) || {}).member) {
      outbox.shift();
      failed(item, `Not sent: you are not in #${item.room}.`);
      continue;
    }
    const wait = pauseUntil - Date.now();
    if (wait > 0 || !take(false)) {
      flushTimer = setTimeout(flushOutbox, Math.max(wait, budgetWait()));
      return;
    }
    outbox.shift();
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
      if (!socket.connected) return; // back in line: see requeue
      // No answer yet, on an open connection: it may be stored, its
      // answer late. It stays pending, and goes again.
      setDelivery(item.li, 'pending', 'Waiting for the server');
      resendLater(item);
      return;
    }
    const code = codeOf(res);
    if (code === Code.RATE_LIMITED || code === Code.NOT_JOINED) {
      // Put it back in line; slow down, or claim our name again first.
      outbox.unshift(item);
      setDelivery(item.li, 'pending', 'Sending');
      if (code === Code.RATE_LIMITED) {
        pauseUntil = Date.now() + 1000;
        flushOutbox();
      } else if (known()) {
        rejoin();
      }
      return;
    }
    const why = errorText(res, 'Rejected by the server').replace(/\.$/, '');
    const again = retryable(code);
    const edit = code === Code.MESSAGE_TOO_LONG || code === Code.MESSAGE_INVALID;
    failed(item, `Not sent: ${why.charAt(0).toLowerCase()}${why.slice(1)}.`, { retry: again, edit });
  });
}

// resendLater sends item again, with its clientId, after a pause that
// doubles each time, unless an answer or a drop comes first.
function resendLater(item) {
  stopResend(item);
  const pause = Math.min(RESEND_MAX_MS, RESEND_MS * 2 ** item.resends++);
  item.resendTimer = setTimeout(() => {
    item.resendTimer = 0;
    if (item.acked || item.failed || item.inFlight || !pending.has(item.clientId) || outbox.includes(item)) return;
    outbox.unshift(item);
    flushOutbox();
  }, pause);
}

function stopResend(item) {
  clearTimeout(item.resendTimer);
  item.resendTimer = 0;
}

// confirmed marks our message as stored, under the id the server gave it
// (from the ack, or from its copy in a catch-up).
function confirmed(item, res) {
  if (item.acked) return;
  item.acked = true;
  stopResend(item);
  item.inFlight = false;
  item.failed = false;
  pending.delete(item.clientId);
  const i = outbox.indexOf(item);
  if (i >= 0) outbox.splice(i, 1);
  const room = rooms.get(item.room);
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
      dropLine(item.li);
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

// claim confirms our pending message that data (a chat-message of room)
// is the stored copy of, and reports whether it was one.
export function claim(room, data) {
  const clientId = typeof data.clientId === 'string' ? data.clientId : '';
  if (!clientId) return false;
  const item = pending.get(clientId);
  if (!item || item.room !== room.name) return false;
  confirmed(item, data);
  return true;
}

// requeue puts what was sent but not confirmed back in line, in order, to
// be sent again with the same clientId once connected: the connection
// dropped.
export function requeue() {
  clearTimeout(flushTimer);
  const waiting = [...pending.values()]
    .filter((i) => !i.acked && !i.failed)
    .sort((a, b) => a.seq - b.seq);
  for (const item of waiting) {
    stopResend(item);
    item.resends = 0;
    if (item.inFlight) {
      item.inFlight = false;
      item.attempt++;
    }
    setDelivery(item.li, 'pending', 'Waiting for connection');
  }
  outbox = waiting;
}

// abandon marks every message not yet stored as failed, with text, and
// empties the outbox: we signed out.
export function abandon(text) {
  for (const item of pending.values()) {
    if (!item.acked && !item.failed) failed(item, text);
  }
  outbox = [];
}

// abandonRoom marks the messages for a room we left as failed, with text.
export function abandonRoom(name, text) {
  for (const item of pending.values()) {
    if (item.room === name && !item.acked && !item.failed) failed(item, text);
  }
}
