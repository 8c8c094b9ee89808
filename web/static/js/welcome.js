// welcome.js: what the server says first on every connection (welcome):
// its limits, which limits.js keeps, and its store's epoch, which names the
// history the ids of messages count in. A server whose store started over
// (a memory store's restart, an SQLite file deleted) has a new epoch and
// numbers its messages from 1 again: the page, which would drop them as
// seen, forgets the ids it knew, keeps what it showed as a record of the
// history that is gone, and takes the new history as it comes (the
// handshake names the epoch of its since, which the server then
// disregards; the rooms are entered again from id 0). It owns the epoch.

import { ui } from './dom.js';
import { renderTop, system } from './log.js';
import { setLimits } from './limits.js';
import { rooms } from './rooms.js';
import { renderNameHint } from './view.js';

let epoch = null; // the epoch of the ids the page knows; null before the first welcome

// storeEpoch is the epoch of the ids the page knows, or null.
export const storeEpoch = () => epoch;

// onWelcome is the server's welcome event: {epoch, limits}.
export function onWelcome(data) {
  if (!data || typeof data !== 'object') return;
  setLimits(data.limits);
  if (ui.body.dataset.view === 'join') renderNameHint();
  if (typeof data.epoch !== 'string' || !data.epoch || data.epoch === epoch) return;
  const before = epoch;
  epoch = data.epoch;
  if (before !== null) startOver();
}

// startOver forgets, in every room, the ids of the history that is gone:
// the messages shown stay, with no id, above a line that says so, and what
// the new history holds comes after them, in its own order.
function startOver() {
  for (const room of rooms.values()) {
    for (const li of room.ul.querySelectorAll('li[data-id]')) delete li.dataset.id;
    room.ids.clear();
    room.lastId = 0;
    room.dropId = 0;
    room.minId = Infinity;
    room.atBeginning = false;
    room.loadingOlder = false;
    room.unseen = 0;
    if (room.ul.querySelector('li.msg')) {
      system(room, 'The server’s history started over: the messages above are no longer on it.', { tone: 'warn' });
    }
    renderTop(room);
  }
}
