// presence.js: the lines of a log that say who came and went. A run of
// them, with nothing said between, is folded into one line: "Ann, Bob and
// 3 others joined; Cy left". Each person is counted once in a run, by what
// they did first and last: joined, left, came and went (joined, then left)
// or came back (left, then joined). The line is drawn anew as the run
// grows, so that a screen reader hears it; its title lists each event and
// its time. It owns each room's current run (room.presence).

import { GENERAL, PRESENCE_RUN_MS } from './config.js';
import { dropLine, system } from './log.js';

const SHOWN = 3; // names in a group before "and N others"

// announce says in room's log that name came in (dir "in") or went
// (dir "out"), in the run at the end of the log or in a new one.
export function announce(room, name, dir) {
  let run = room.presence;
  const now = Date.now();
  if (!run || run.li.parentNode !== room.ul || run.li !== room.ul.lastElementChild || now - run.start > PRESENCE_RUN_MS) {
    run = { li: null, start: now, people: new Map(), events: [] };
  }
  const p = run.people.get(name);
  if (p) p.last = dir;
  else run.people.set(name, { first: dir, last: dir });
  run.events.push({ name, dir, at: now });
  if (run.li) dropLine(run.li);
  run.li = system(room, line(run, room.name === GENERAL));
  run.li.dataset.presence = 'true';
  run.li.title = run.events.map((e) => `${e.name} ${verb(e.dir, e.dir, room.name === GENERAL)} at ${new Date(e.at).toLocaleTimeString()}`).join('\n');
  room.presence = run;
}

// verb says what someone did first and last: general says connected and
// disconnected, as the tutorial's page does; other rooms joined and left.
function verb(first, last, general) {
  if (first === 'in' && last === 'in') return general ? 'connected' : 'joined';
  if (first === 'out' && last === 'out') return general ? 'disconnected' : 'left';
  return first === 'in' ? 'came and went' : 'came back';
}

// line is the parts of a run's line (see log.js system): the people by
// what they did, in the order they first appear.
function line(run, general) {
  const groups = new Map(); // verb -> names
  for (const [name, p] of run.people) {
    const v = verb(p.first, p.last, general);
    if (!groups.has(v)) groups.set(v, []);
    groups.get(v).push(name);
  }
  const parts = [];
  for (const [v, names] of groups) {
    if (parts.length) parts.push('; ');
    parts.push(...listed(names), ` ${v}`);
  }
  return parts;
}

// listed names a few people, then counts the others.
function listed(names) {
  const shown = names.length > SHOWN ? names.slice(0, SHOWN - 1) : names;
  const parts = [];
  shown.forEach((name, i) => {
    if (i > 0) parts.push(i === shown.length - 1 && shown.length === names.length ? ' and ' : ', ');
    parts.push({ strong: name });
  });
  const others = names.length - shown.length;
  if (others > 0) parts.push(` and ${others} others`);
  return parts;
}
