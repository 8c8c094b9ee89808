// drafts.js: what was typed in each room and not sent yet. Switching rooms
// puts the composer's text aside for the room left and gives the room
// shown its own back; the drafts are kept in this tab's session storage,
// so that they survive a reload. It owns the drafts, by room name.

const KEY = 'parley.drafts'; // sessionStorage: {room: text}

const drafts = load();

function load() {
  try {
    const saved = JSON.parse(window.sessionStorage.getItem(KEY) || '{}');
    return new Map(Object.entries(saved).filter(([, v]) => typeof v === 'string' && v !== ''));
  } catch {
    return new Map();
  }
}

function save() {
  try {
    if (drafts.size === 0) window.sessionStorage.removeItem(KEY);
    else window.sessionStorage.setItem(KEY, JSON.stringify(Object.fromEntries(drafts)));
  } catch { /* storage may be unavailable or full: the drafts live on in memory */ }
}

// keepDraft sets the draft of room (none when text is empty).
export function keepDraft(room, text) {
  if ((drafts.get(room) || '') === text) return;
  if (text === '') drafts.delete(room);
  else drafts.set(room, text);
  save();
}

export const draftOf = (room) => drafts.get(room) || '';

// forgetDrafts forgets every draft: we signed out.
export function forgetDrafts() {
  drafts.clear();
  save();
}
