// text.js: checks and wording of the values the page handles: lengths in
// code points, message ids, names (as long as limits.js allows), room
// names, random ids, and the text of an error. It owns no state.

import { ROOM_CHARS } from './config.js';
import { limits } from './limits.js';

export const codePoints = (s) => [...s].length;

// toId returns a message id (a number, or a string of digits) as a number,
// or null.
export const toId = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null);

// errorText returns what to show for a failure: the text of err (a string,
// an Error, or a refusal {error} from the server), or fallback, capitalised.
export function errorText(err, fallback) {
  let text = fallback;
  if (typeof err === 'string' && err) text = err;
  else if (err && typeof err.message === 'string' && err.message) text = err.message;
  else if (err && typeof err.error === 'string' && err.error) text = err.error;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function randomId(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function validRoomName(name) {
  const n = codePoints(name);
  return n >= 1 && n <= limits.room && name.trim() === name && ROOM_CHARS.test(name);
}

// validateName returns {name} (trimmed) or {error}.
export function validateName(raw) {
  const name = raw.trim();
  if (name === '') return { error: 'Please enter a name.' };
  if (codePoints(name) > limits.name) return { error: `That name is too long: at most ${limits.name} characters.` };
  return { name };
}

// roomKey is a room name folded as the server folds names of rooms (its
// confusable skeleton), as far as the page can: NFKC, lower case, white
// space trimmed and collapsed, and the look-alikes among ASCII letters and
// digits ("0" is "o"; "1", "i" and "|" are "l"; "rn" is "m", "vv" is "w").
// Two names of one roomKey are one room on the server; for names of ASCII
// letters, digits and spaces, two names of one room have one roomKey.
export function roomKey(name) {
  return String(name).normalize('NFKC').toLowerCase().trim().replace(/\s+/gu, ' ')
    .replace(/0/g, 'o').replace(/[1i|]/g, 'l')
    .replace(/rn|vv/g, (p) => (p === 'rn' ? 'm' : 'w'));
}
