// phase.js: the connection phase, the one state machine of the page, and
// who we are in it: the name we asked for, then the name we joined as. It
// owns the phase, its mode and these names; every change goes through go,
// which allows only the transitions in NEXT. Anything else is a bug: it is
// logged to the console and refused.
//
//   signed-out → joining → resyncing → joined
//   joining → signed-out           the name was refused, or this tab is a
//                                  copy of the one that holds it
//   resyncing, joined → away       the connection dropped
//   away → joined, resyncing       the server recovered the session
//   away → rejoining               it did not
//   resyncing, joined → rejoining  a not_joined refusal
//   rejoining → resyncing          new-user gave our name back
//   away, rejoining → signed-out   our name was taken over, or refused
//
// joining: a name was chosen (in the form, mode "new", or from this tab's
//   session after a reload, mode "restore"); new-user is on its way, or
//   waits for a connection. A refusal goes back to signed-out.
// resyncing: the server knows us; the page (re-)enters its other rooms and
//   catches up on what it missed, holding back the outbox. Its mode says
//   why: "new", "restore" or "rejoin".
// joined: the server knows us and the page is live.
// away: the connection dropped while the server knew us. If the server
//   recovers the session, the page goes back to where it was (resume:
//   joined, or resyncing again); if not, it claims its name back.
// rejoining: we have a name that the server does not know us by on this
//   connection (a reconnection it did not recover, or a not_joined
//   refusal): new-user with this tab's token gives it back.

export const SIGNED_OUT = 'signed-out';
export const JOINING = 'joining';
export const RESYNCING = 'resyncing';
export const JOINED = 'joined';
export const AWAY = 'away';
export const REJOINING = 'rejoining';

// NEXT lists the phases each phase may go to.
const NEXT = Object.freeze({
  [SIGNED_OUT]: [JOINING],
  [JOINING]: [RESYNCING, SIGNED_OUT],
  [RESYNCING]: [JOINED, AWAY, REJOINING],
  [JOINED]: [AWAY, REJOINING],
  [AWAY]: [JOINED, RESYNCING, REJOINING, SIGNED_OUT],
  [REJOINING]: [RESYNCING, SIGNED_OUT],
});

let now = SIGNED_OUT;
let mode = null; // joining: "new" | "restore"; resyncing (and away from it): also "rejoin"
let resume = null; // away: the phase a recovered session goes back to
let name = null; // the name we are (or were, before a reconnection) joined as
let wanted = null; // joining: the name asked for

// go moves to phase next, and reports whether it could. opts.mode sets the
// mode (joining, resyncing); opts.name the name asked for (joining) or
// given (resyncing, after new-user).
export function go(next, opts = {}) {
  if (!(NEXT[now] || []).includes(next)) {
    console.error(`parley: no transition from ${now} to ${next}`);
    return false;
  }
  if (next === AWAY) resume = now;
  if (opts.mode !== undefined) mode = opts.mode;
  if (next === JOINING) wanted = opts.name;
  if (next === RESYNCING && opts.name !== undefined) {
    name = opts.name;
    wanted = null;
  }
  if (next === SIGNED_OUT) {
    mode = null;
    name = null;
    wanted = null;
  }
  now = next;
  return true;
}

export const phase = () => now;
export const phaseMode = () => mode;
export const resumeTo = () => resume;

// myName is the name we are joined as, or were before a reconnection; null
// before joining and after signing out.
export const myName = () => name;

// wantedName is the name a join asks for, while joining; else null.
export const wantedName = () => wanted;

// named reports whether we have a name (joined now, or before a drop).
export const named = () => now === RESYNCING || now === JOINED || now === AWAY || now === REJOINING;

// known reports whether the server knows us on the current connection.
export const known = () => now === RESYNCING || now === JOINED;

// restoring reports whether the page is coming back from a reload, and has
// not sent new-user yet or not had its answer.
export const restoring = () => now === JOINING && mode === 'restore';
