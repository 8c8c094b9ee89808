// storage.js: what the page keeps in the browser. localStorage: the name to
// suggest next time, and our identity, {id, token}, as the server gave it
// in new-user's ack: every tab of this browser sends the token with
// new-user, and is the same person, whose name it is. sessionStorage, this
// tab's only: a token of the tab's own, which tells a copy of the tab
// (tabs.js), and the session to come back to after a reload (our name, our
// rooms, the room on screen). It owns nothing else.

import { GENERAL, NAME_KEY, SESSION_KEY, TOKEN_KEY } from './config.js';
import { myName } from './phase.js';
import { active, joinedRooms } from './rooms.js';
import { randomId, validRoomName } from './text.js';

const storage = {
  get(area, key) {
    try { return window[area].getItem(key); } catch { return null; }
  },
  set(area, key, value) {
    try { window[area].setItem(key, value); } catch { /* storage may be unavailable */ }
  },
  remove(area, key) {
    try { window[area].removeItem(key); } catch { /* storage may be unavailable */ }
  },
};

// IDENTITY_KEY is where localStorage keeps our identity.
const IDENTITY_KEY = 'parley.identity';

// identity returns who the server knows this browser as, {id, token}, or
// empty strings before it told us.
export function identity() {
  try {
    const v = JSON.parse(storage.get('localStorage', IDENTITY_KEY) || 'null');
    if (v && typeof v.id === 'string' && typeof v.token === 'string') return v;
  } catch { /* not ours */ }
  return { id: '', token: '' };
}

// keepIdentity keeps what new-user's ack said we are. An ack without a
// token (app mode: the host application proves us) keeps the id alone.
export function keepIdentity(id, token) {
  if (typeof id !== 'string' || !id) return;
  storage.set('localStorage', IDENTITY_KEY, JSON.stringify({ id, token: typeof token === 'string' ? token : '' }));
}

// myId is our identity's id: messages that carry it are ours, whatever
// their name.
export const myId = () => identity().id;

// tabToken is this tab's own mark, which a copy of the tab inherits (see
// tabs.js). renew makes a new one.
export function tabToken(renew) {
  let t = renew ? null : storage.get('sessionStorage', TOKEN_KEY);
  if (!t) {
    t = randomId(16);
    storage.set('sessionStorage', TOKEN_KEY, t);
  }
  return t;
}

// storedToken is this tab's token, or null if it has none yet.
export const storedToken = () => storage.get('sessionStorage', TOKEN_KEY);

export const suggestedName = () => storage.get('localStorage', NAME_KEY);

export function rememberName(name) {
  storage.set('localStorage', NAME_KEY, name);
}

// saveSession keeps who we are and where, for a reload.
export function saveSession() {
  const name = myName();
  if (!name) return;
  const rooms = joinedRooms().filter((r) => r.name !== GENERAL).map((r) => r.name);
  storage.set('sessionStorage', SESSION_KEY, JSON.stringify({ name, rooms, active }));
}

export function forgetSession() {
  storage.remove('sessionStorage', SESSION_KEY);
}

// readSession returns the session saved before a reload, or null.
export function readSession() {
  try {
    const s = JSON.parse(storage.get('sessionStorage', SESSION_KEY) || 'null');
    if (!s || typeof s.name !== 'string' || !s.name.trim()) return null;
    return {
      name: s.name,
      rooms: Array.isArray(s.rooms) ? s.rooms.filter((r) => typeof r === 'string' && validRoomName(r)) : [],
      active: typeof s.active === 'string' ? s.active : GENERAL,
    };
  } catch {
    return null;
  }
}
