// join.js: getting and keeping our name. Asks for it (new-user, with the
// token the server gave this browser, so that it gives the name back to us
// after a reload or a reconnection it did not recover, in any tab), keeps
// the identity the answer gives, takes the answer, then re-enters our
// other rooms and catches up on what we missed before sending what waits
// (resync); and signs out. It drives the phase (phase.js) through joining
// or rejoining, resyncing and joined, and owns the join attempts: which one
// is current, how often a rejoin was tried, and the room to come back to
// after a reload.
//
// Reconnecting: the handshake names the last id we saw in "general", so the
// server sends only what we missed there. When the server recovered the
// session, it replays what we missed and nothing needs re-sending but our
// unconfirmed messages (connection.js). Otherwise we claim our name back
// with our token, re-join our rooms since the last id seen in each,
// fill any gap left from history, and re-send unconfirmed messages with
// their clientId.

import { GENERAL, JOIN_TIMEOUT_MS, REJOIN_DELAY_MS, REJOIN_RETRIES } from './config.js';
import { Code, codeOf } from './codes.js';
import { ui } from './dom.js';
import { forgetDrafts } from './drafts.js';
import { catchUp, caughtUp, maybeLoadOlder } from './history.js';
import { setLimits } from './limits.js';
import { addRoom, system } from './log.js';
import {
  dropRoom, enterRoom, moreUsers, refreshRooms, switchRoom,
} from './membership.js';
import { conn, request, resetKicks, socket, take } from './net.js';
import { abandon, flushOutbox } from './outbox.js';
import {
  JOINING, REJOINING, RESYNCING, JOINED, SIGNED_OUT, go, known, myName, phase, phaseMode,
} from './phase.js';
import { activeRoom, general, joinedRooms, rooms } from './rooms.js';
import { forgetSession, identity, keepIdentity, rememberName, saveSession } from './storage.js';
import { errorText, validateName } from './text.js';
import {
  clearNameError, renderRooms, renderUsers, setJoinBusy, showChat, showJoin, showNameError,
} from './view.js';

let joinToken = 0; // invalidates acks of superseded join attempts
let rejoinTries = 0;
let rejoinTimer = 0;
let restoreActive = null; // the room on screen before a reload
let resyncs = 0; // counts resyncs: a newer one supersedes an older one

// submitName joins with the name typed in the form.
export function submitName() {
  if (ui.joinButton.disabled) return;
  const v = validateName(ui.nameInput.value);
  if (v.error) {
    showNameError(v.error);
    ui.nameInput.focus();
    return;
  }
  clearNameError();
  if (!go(JOINING, { mode: 'new', name: v.name })) return;
  if (socket.connected) join(v.name, 'new');
  else {
    setJoinBusy(true, 'Waiting for connection…');
    if (!socket.active) socket.connect();
  }
}

// restore comes back as we were before a reload, in the same rooms; it
// joins once connected (connection.js).
export function restore(session) {
  const name = session.name.trim();
  go(JOINING, { mode: 'restore', name });
  restoreActive = session.active;
  for (const room of session.rooms) addRoom(room).wanted = true;
  ui.nameInput.value = name;
  setJoinBusy(true, 'Rejoining…');
  showChat();
}

// rejoin claims our name back: the server does not know us by it on this
// connection.
export function rejoin() {
  if (phase() !== REJOINING) go(REJOINING);
  join(myName(), 'rejoin');
}

// join asks the server for a name. mode: "new" from the form, "restore"
// after a reload, "rejoin" after a reconnection the server did not
// recover.
export function join(name, mode) {
  const token = ++joinToken;
  if (mode === 'new') setJoinBusy(true);
  take(true);
  const opts = identity().token ? { token: identity().token } : {};
  socket.timeout(JOIN_TIMEOUT_MS).emit('new-user', name, opts, (err, res) => {
    if (token !== joinToken) return; // superseded or disconnected since
    if (!err && res && res.ok) {
      keepIdentity(res.id, res.token);
      setLimits(res.limits);
      joined(typeof res.name === 'string' && res.name ? res.name : name, res.users, mode);
      moreUsers(general(), res);
      return;
    }
    const code = codeOf(res);
    if (code === Code.ALREADY_JOINED) {
      // An earlier new-user got through, but not its answer (the session
      // was recovered since): we are in.
      request('list-users', GENERAL).then((r) => {
        if (token !== joinToken) return;
        joined(name, r && r.ok ? r.users : [...general().users], mode);
        moreUsers(general(), r);
      });
      return;
    }
    const why = err ? 'The server did not answer in time.' : errorText(res, 'The server refused that name.');
    if (mode === 'new') {
      go(SIGNED_OUT);
      setJoinBusy(false);
      showNameError(why);
      ui.nameInput.focus();
      ui.nameInput.select();
      return;
    }
    // When the server did not answer (or asked us to slow down), try
    // again for a while; a refusal is final: our token would have given
    // us our name back.
    const transient = err || code === Code.RATE_LIMITED;
    if (transient && rejoinTries++ < REJOIN_RETRIES && socket.connected) {
      clearTimeout(rejoinTimer);
      rejoinTimer = setTimeout(() => {
        if (socket.connected && !known()) join(name, mode);
      }, REJOIN_DELAY_MS);
      return;
    }
    if (mode === 'rejoin') system(activeRoom(), [`Could not rejoin as ${name}: ${why}`], { tone: 'error' });
    signOut(name, `Could not rejoin as ${name}: ${why}`);
  });
}

// forgetJoins drops the answers of join attempts under way: the
// connection they were sent on dropped.
export function forgetJoins() {
  joinToken++;
  clearTimeout(rejoinTimer);
}

// connected starts counting rejoin attempts afresh on a new connection.
export function connected() {
  rejoinTries = 0;
}

// signOut forgets who we were and shows the name form again.
export function signOut(name, why) {
  abandon('Not sent: you are no longer in the chat.');
  go(SIGNED_OUT);
  forgetSession();
  forgetDrafts();
  for (const room of [...rooms.values()]) {
    if (room.name !== GENERAL) dropRoom(room);
  }
  const g = general();
  g.member = false;
  g.live = false;
  g.users.clear();
  switchRoom(GENERAL);
  if (name) ui.nameInput.value = name;
  showJoin(why);
}

function joined(name, users, mode) {
  const first = mode !== 'rejoin' || myName() !== name;
  go(RESYNCING, { mode, name });
  rejoinTries = 0;
  resetKicks();
  const g = general();
  g.member = true;
  g.users = new Set(Array.isArray(users) ? users.filter((u) => typeof u === 'string') : []);
  g.users.add(name);
  ui.sidebar.classList.remove('stale');
  rememberName(name);
  if (first) {
    g.live = true;
    clearNameError();
    setJoinBusy(false);
    showChat();
    system(g, 'You joined', { force: true });
  } else {
    for (const room of joinedRooms()) system(room, 'Reconnected', { tone: 'ok' });
  }
  renderUsers();
  renderRooms();
  saveSession();
  resync(mode);
}

// resumeResync starts again a resync that a drop cut short, on a session
// the server recovered.
export function resumeResync() {
  const mode = phaseMode() === 'restore' ? 'restore' : 'rejoin';
  go(RESYNCING, { mode });
  resync(mode);
}

// resync (re-)joins our other rooms, catches up on what we missed, then
// sends what is waiting. The phase is resyncing until it is done; a drop,
// a newer resync or a not_joined refusal cut it short.
async function resync(mode) {
  const run = ++resyncs;
  const at = conn;
  const current = () => at === conn && run === resyncs && phase() === RESYNCING;
  const others = [...rooms.values()].filter((r) => r.name !== GENERAL && (r.member || r.wanted));
  await Promise.all(others.map((r) => enterRoom(r, mode)));
  if (!current()) return;
  if (mode === 'restore' && restoreActive) {
    const want = restoreActive;
    restoreActive = null;
    if ((rooms.get(want) || {}).member) switchRoom(want);
  }
  if (mode === 'rejoin') {
    await Promise.all(joinedRooms().map(catchUp));
    if (!current()) return;
  }
  caughtUp();
  go(JOINED);
  renderRooms();
  flushOutbox();
  refreshRooms();
  requestAnimationFrame(maybeLoadOlder);
}
