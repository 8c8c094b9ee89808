// connection.js: the socket's life. On connect it resumes (a session the
// server recovered), claims our name back, or sends the join that waited;
// on a drop it puts the page in the away phase, puts unconfirmed messages
// back in line and says so; it shows the connection's status, reconnects
// at once when the browser is back online (or checks that the connection
// kept while offline still works), and backs off after the server
// disconnected us. It also shows the server's error events. It owns no
// state: the phase is phase.js's, the connection count net.js's.

import { GENERAL, PROBE_TIMEOUT_MS } from './config.js';
import { ui } from './dom.js';
import { caughtUp, markDrop } from './history.js';
import { connected, forgetJoins, join, rejoin, resumeResync, signOut } from './join.js';
import { system } from './log.js';
import { refreshRooms } from './membership.js';
import { conn, dropped, kickDelay, socket, take } from './net.js';
import { flushOutbox, requeue } from './outbox.js';
import {
  AWAY, JOINED, JOINING, RESYNCING, go, known, myName, named, phase, resumeTo, restoring, wantedName,
} from './phase.js';
import { activeRoom, joinedRooms } from './rooms.js';
import { tabToken } from './storage.js';
import { duplicateProbe } from './tabs.js';
import { errorText } from './text.js';
import { forgetTyping } from './typing.js';
import { setJoinBusy, setStatus, showNameError } from './view.js';

// watchConnection follows the socket and the browser's network state.
export function watchConnection() {
  socket.on('connect', onConnect);
  socket.on('disconnect', onDisconnect);
  socket.on('connect_error', () => {
    if (navigator.onLine === false) setStatus('offline', 'Offline');
    else if (ui.status.dataset.state !== 'reconnecting') setStatus('reconnecting', 'Reconnecting…');
  });
  if (socket.io && typeof socket.io.on === 'function') {
    socket.io.on('reconnect_attempt', (attempt) => {
      if (navigator.onLine === false) setStatus('offline', `Offline (attempt ${attempt})`);
      else setStatus('reconnecting', `Reconnecting (attempt ${attempt})…`);
    });
    socket.io.on('reconnect_failed', () => setStatus('offline', 'Offline'));
  }
  // Offline is offline at once, even while the socket looks open: it
  // notices only when its heartbeat fails, up to 45 s later. Nothing is
  // sent meanwhile (outbox.js).
  window.addEventListener('offline', () => setStatus('offline', 'Offline'));
  window.addEventListener('online', () => {
    if (socket.connected) {
      checkConnection();
      return;
    }
    setStatus('reconnecting', 'Reconnecting…');
    // Back online: try now rather than at the next step of the backoff.
    // (The socket keeps its session id, so the server can still recover
    // the session.)
    if (socket.active) {
      socket.disconnect();
      socket.connect();
    }
  });
  socket.on('error', (data) => {
    const text = errorText(data, 'Something went wrong.');
    if (named()) system(activeRoom(), [`Server: ${text}`], { tone: 'error' });
    else showNameError(text);
  });
}

// checkConnection asks the server, once the browser is back online,
// whether the connection it kept meanwhile still works: with an answer the
// page is connected again and sends what waits; without one soon, it
// starts a new connection (on which the server may recover the session).
function checkConnection() {
  setStatus('reconnecting', 'Checking the connection…');
  const at = conn;
  take(true);
  socket.timeout(PROBE_TIMEOUT_MS).emit('list-users', GENERAL, (err) => {
    if (at !== conn || !socket.connected || navigator.onLine === false) return;
    if (!err) {
      setStatus('connected', 'Connected');
      flushOutbox();
      return;
    }
    if (socket.io && socket.io.engine) socket.io.engine.close();
  });
}

function onConnect() {
  connected();
  if (navigator.onLine === false) setStatus('offline', 'Offline');
  else setStatus('connected', 'Connected');
  if (socket.recovered && phase() === AWAY) {
    // The server kept our session and replayed what we missed.
    const cutShort = resumeTo() === RESYNCING;
    if (!cutShort) go(JOINED);
    ui.sidebar.classList.remove('stale');
    for (const room of joinedRooms()) system(room, 'Reconnected', { tone: 'ok' });
    if (cutShort) {
      resumeResync();
      return;
    }
    caughtUp();
    flushOutbox();
    refreshRooms();
    return;
  }
  if (named()) {
    rejoin();
  } else if (restoring()) {
    const at = conn;
    duplicateProbe().then((duplicate) => {
      if (at !== conn || !restoring()) return;
      if (!duplicate) {
        join(wantedName(), 'restore');
        return;
      }
      // This tab is a copy of another one, which holds our name and
      // token: start afresh here.
      tabToken(true);
      signOut(wantedName(), 'This chat is open in another tab. Join here under another name, or go back to that tab.');
    });
  } else if (phase() === JOINING) {
    join(wantedName(), 'new');
  }
}

function onDisconnect(reason) {
  const wasJoined = known();
  dropped();
  if (wasJoined) go(AWAY);
  forgetJoins();
  // What was sent but not confirmed goes back in line, in order, to be
  // sent again with the same clientId: the server stores it once.
  requeue();
  forgetTyping();
  markDrop();
  if (wasJoined) {
    ui.sidebar.classList.add('stale');
    for (const room of joinedRooms()) system(room, 'Connection lost. Reconnecting…', { tone: 'warn' });
  } else if (phase() === JOINING && !restoring()) {
    setJoinBusy(true, 'Waiting for connection…');
  }
  if (navigator.onLine === false) setStatus('offline', 'Offline');
  else setStatus('reconnecting', 'Reconnecting…');
  if (reason === 'io server disconnect') {
    if (wasJoined) {
      // Someone with our name and token came in: this tab was duplicated
      // or our place was taken over elsewhere. Do not fight over it.
      setStatus('offline', 'Signed out');
      tabToken(true);
      signOut(myName(), 'You joined from another tab or window. Join again here with another name, or close this tab.');
      return;
    }
    // The client does not reconnect by itself after a server-side
    // disconnect; try again with a growing delay.
    const delay = kickDelay();
    setTimeout(() => { if (!socket.connected) socket.connect(); }, delay);
  }
}
