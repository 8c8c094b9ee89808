// dividers.js: the lines of a log that are not said by anyone: a date
// separator before the first line of each day, and the "New messages"
// divider where the unread part of a room starts. It owns no state beyond
// each room's divider fields (see rooms.js: divider, dividerSeen).
//
// A line with a time (data-time: messages and system lines) belongs to the
// local day of that time; a separator sits just before the first line of
// its day, and before the divider when both are there.
//
// The divider comes before the first message that arrives while its room
// is not watched (not on screen, the tab hidden, or the reader scrolled up
// from the newest line). Once the room is watched, the divider stays while
// the reader is there, and goes when they leave it (or hide the tab), when
// they send a message, or when a later unwatched message moves it on.

import { h } from './dom.js';

const pad = (n) => String(n).padStart(2, '0');

// dayKey names the local day of a time: "2025-03-06".
export function dayKey(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// dayLabel says which day a time is on: Today, Yesterday, or its date
// (with the year when it is not this one).
export function dayLabel(ms, now = Date.now()) {
  const key = dayKey(ms);
  if (key === dayKey(now)) return 'Today';
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (key === dayKey(y.getTime())) return 'Yesterday';
  const d = new Date(ms);
  const opts = { weekday: 'long', month: 'long', day: 'numeric' };
  if (d.getFullYear() !== new Date(now).getFullYear()) opts.year = 'numeric';
  return d.toLocaleDateString(undefined, opts);
}

const timed = (el) => !!el && el.dataset.time !== undefined;
const isDay = (el) => el.classList.contains('day');

// syncDay puts the date separator el needs, if any, just before it, and
// takes away those between it and the line before it that no longer
// belong (el, a line with a time, was just placed or moved).
export function syncDay(el) {
  if (!timed(el) || !el.parentNode) return;
  const seps = [];
  let prev = null;
  for (let p = el.previousElementSibling; p; p = p.previousElementSibling) {
    if (isDay(p)) seps.push(p);
    else if (timed(p)) {
      prev = p;
      break;
    }
  }
  const time = Number(el.dataset.time);
  const day = dayKey(time);
  const needed = !prev || dayKey(Number(prev.dataset.time)) !== day;
  let sep = needed ? seps.find((s) => s.dataset.day === day) || null : null;
  for (const s of seps) if (s !== sep) s.remove();
  if (!needed) return;
  if (!sep) {
    sep = h('li', 'day');
    sep.setAttribute('role', 'separator');
    sep.dataset.day = day;
    sep.dataset.at = String(time);
    sep.append(h('span', '', dayLabel(time)));
  }
  // Just before el, or before the divider just before el.
  const before = el.previousElementSibling && el.previousElementSibling.classList.contains('divider')
    ? el.previousElementSibling
    : el;
  if (sep.nextElementSibling !== before) el.parentNode.insertBefore(sep, before);
}

// syncFrom syncs el, if it has a time, else the first line after it that
// has one (el's neighbours changed); a separator left last, with no line
// after it, goes.
export function syncFrom(el) {
  let n = el;
  while (n && !timed(n)) n = n.nextElementSibling;
  if (n) {
    syncDay(n);
    return;
  }
  const ul = el && el.parentNode;
  if (!ul) return;
  for (let last = ul.lastElementChild; last && isDay(last); last = ul.lastElementChild) last.remove();
}

// relabelDays says Today and Yesterday anew in a log, after midnight.
export function relabelDays(ul) {
  for (const sep of ul.querySelectorAll('li.day')) {
    const label = dayLabel(Number(sep.dataset.at));
    if (sep.textContent !== label) sep.firstElementChild.textContent = label;
  }
}

// markUnread puts the divider before li, a new message that arrived while
// its room was not watched, unless one is there still unseen.
export function markUnread(room, li) {
  const d = room.divider;
  if (d && d.parentNode === room.ul && !room.dividerSeen) return;
  if (d) d.remove();
  const div = h('li', 'divider');
  div.setAttribute('role', 'separator');
  div.append(h('span', '', 'New messages'));
  room.divider = div;
  room.dividerSeen = false;
  room.ul.insertBefore(div, li);
  syncDay(li); // a date separator goes before the divider
}

// watching notes that the reader sees the room (on screen, the tab shown,
// at the newest line): its divider is seen.
export function watching(room) {
  if (room.divider) room.dividerSeen = true;
}

// unwatched notes that the reader no longer sees the room: a divider they
// saw goes. It returns the line after it, or null (see clearDivider).
export function unwatched(room) {
  return room.divider && room.dividerSeen ? clearDivider(room) : null;
}

// clearDivider takes the divider away, and returns the line that was after
// it (whose grouping may change), or null.
export function clearDivider(room) {
  const d = room.divider;
  if (!d) return null;
  const next = d.parentNode === room.ul ? d.nextElementSibling : null;
  d.remove();
  room.divider = null;
  room.dividerSeen = false;
  return next;
}

// dividerTop is where a reader opening the room should see it from: the
// scroll offset that shows the divider near the top of the log, or null
// when there is no unseen divider.
export function dividerTop(room) {
  const d = room.divider;
  if (!d || room.dividerSeen || d.parentNode !== room.ul) return null;
  return Math.max(0, d.offsetTop - 12);
}
