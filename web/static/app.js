// Parley chat page. Plain browser JavaScript modules (js/), no build step,
// no third-party code. It talks to the server the page came from through
// the global `io` defined by /socket.io/socket.io.js, a classic script that
// runs before this module.
//
// This file wires the modules to the socket's events and to the page's
// controls, and starts. Each module says at its top what it owns; each
// imports only modules below it in this list:
//
//   welcome.js     what the server says first: its limits, its store's epoch
//   connection.js  connect, drop, status, the server's error events
//   join.js        new-user, resync after a (re)join, signing out
//   membership.js  entering, leaving and switching rooms; who is in them
//   roomnames.js   room names as the server tells them apart
//   history.js     each message shown once; scrollback; catch-up
//   presence.js    who came and went, folded into a line
//   composer.js    the message box
//   drafts.js      a draft per room
//   outbox.js      our messages until stored, each stored once
//   typing.js      "typing", ours and theirs
//   notify.js      desktop notifications of mentions
//   view.js        the join form, status, lists of rooms and people, panels
//   log.js         a room's log on screen
//   tabs.js        the other tabs of this browser
//   storage.js     what the browser keeps: name, token, session
//   rooms.js       the rooms, as data
//   net.js         the socket, the event budget, requests
//   phase.js       the connection phase (one state machine) and our name
//   format.js      a message's links, code, emphasis and mentions
//   dividers.js    date separators and the "New messages" divider
//   dom.js, text.js, limits.js, codes.js, config.js: elements, values, the
//                  server's limits, refusal codes, settings

import { GENERAL } from './js/config.js';
import { noteDraft, onComposerKey, sendFromComposer, showDraft, updateComposer } from './js/composer.js';
import { watchConnection } from './js/connection.js';
import { watching } from './js/dividers.js';
import { ui } from './js/dom.js';
import { onChatMessage, watchLogs } from './js/history.js';
import { rejoin, restore, submitName } from './js/join.js';
import { addRoom, followOnResize, scrollToBottom, unwatchRoom } from './js/log.js';
import {
  joinRoom, leaveRoom, onUserConnected, onUserDisconnected, refreshRooms, submitRoom, switchRoom,
} from './js/membership.js';
import { open } from './js/net.js';
import { bindOpen, setupNotify, toggleNotify } from './js/notify.js';
import { onRoomCreated } from './js/roomnames.js';
import { bindRejoin } from './js/outbox.js';
import { known, phase } from './js/phase.js';
import { activeRoom } from './js/rooms.js';
import { readSession, suggestedName } from './js/storage.js';
import { startProbe, watchTabs } from './js/tabs.js';
import { validateName } from './js/text.js';
import { onWelcome, storeEpoch } from './js/welcome.js';
import { onComposerInput, onTyping, stopTyping } from './js/typing.js';
import {
  afterPick, clearNameError, clearUnreadTitle, closePanels, openPanel, pickedRoom, renderHead,
  renderUsers, setStatus, showJoin, showNameError, showRoomError,
} from './js/view.js';

function main() {
  if (typeof window.io !== 'function') {
    setStatus('offline', 'Offline');
    showNameError('The chat client could not be loaded. Check your connection and reload the page.');
    ui.joinButton.disabled = true;
    return;
  }
  const general = addRoom(GENERAL);
  general.ul.id = 'messages';
  ui.messages.replaceWith(general.ul);
  // The handshake says what we saw of "general", so that a reconnection
  // (or a new connection after a server restart) sends only what we missed.
  const socket = open({
    auth: (cb) => cb(general.lastId > 0 ? { since: general.lastId, epoch: storeEpoch() } : {}),
  });
  // A handle for tests and debugging.
  window.parley = { socket, get phase() { return phase(); } };

  socket.on('welcome', onWelcome);
  watchConnection();
  socket.on('user-connected', onUserConnected);
  socket.on('user-disconnected', onUserDisconnected);
  socket.on('chat-message', onChatMessage);
  socket.on('typing', onTyping);
  socket.on('room-created', onRoomCreated);
  bindRejoin(rejoin);
  watchLogs();
  wireControls();
  watchTabs();

  const saved = suggestedName();
  if (saved && !ui.nameInput.value) ui.nameInput.value = saved;
  renderHead();
  renderUsers();
  const session = readSession();
  if (session && !validateName(session.name).error) {
    // A reload: come back as we were, in the same rooms.
    startProbe();
    restore(session);
    showDraft();
  } else {
    showJoin('');
  }
}

// wireControls hands the page's controls to the modules.
function wireControls() {
  ui.nameForm.addEventListener('submit', (e) => {
    e.preventDefault();
    submitName();
  });
  ui.nameInput.addEventListener('input', () => {
    if (!ui.nameError.hidden) clearNameError();
  });

  ui.messageForm.addEventListener('submit', (e) => {
    e.preventDefault();
    sendFromComposer();
  });
  ui.messageInput.addEventListener('keydown', onComposerKey);
  ui.messageInput.addEventListener('input', () => {
    updateComposer();
    noteDraft();
    onComposerInput();
  });
  ui.messageInput.addEventListener('blur', stopTyping);

  ui.roomForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (await submitRoom()) afterPick();
  });
  ui.roomInput.addEventListener('input', () => {
    if (!ui.roomError.hidden) showRoomError('');
  });
  ui.rooms.addEventListener('click', (e) => {
    const name = pickedRoom(e);
    if (name === undefined) return;
    switchRoom(name);
    afterPick();
  });
  ui.moreRooms.addEventListener('click', async (e) => {
    const name = pickedRoom(e);
    if (name !== undefined && await joinRoom(name)) afterPick();
  });
  ui.leaveRoom.addEventListener('click', async () => {
    if (await leaveRoom()) afterPick();
  });

  ui.jump.addEventListener('click', () => {
    scrollToBottom(activeRoom(), true);
    ui.messageInput.focus();
  });
  followOnResize();

  setupNotify();
  ui.notifyToggle.addEventListener('click', toggleNotify);
  bindOpen((name) => {
    switchRoom(name);
    afterPick();
  });

  ui.roomsToggle.addEventListener('click', () => {
    if (ui.body.classList.contains('rooms-open')) closePanels(true);
    else {
      openPanel('rooms');
      refreshRooms();
    }
  });
  ui.usersToggle.addEventListener('click', () => {
    if (ui.body.classList.contains('users-open')) closePanels(true);
    else openPanel('users');
  });
  ui.roomsClose.addEventListener('click', () => closePanels(true));
  ui.usersClose.addEventListener('click', () => closePanels(true));
  ui.scrim.addEventListener('click', () => closePanels(true));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closePanels(true);
  });

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) unwatchRoom(activeRoom());
    else watching(activeRoom());
    if (!document.hidden) {
      clearUnreadTitle();
      if (known()) refreshRooms();
    }
  });
}

main();
