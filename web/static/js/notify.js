// notify.js: desktop notifications of mentions while the tab is hidden.
// The browser's permission is asked for only when the person presses the
// bell (a user action), and so at most once: the browser remembers the
// answer. The bell then turns them on and off; the choice is kept in
// localStorage. It owns that choice and what a notification's click does.

import { ui } from './dom.js';

const KEY = 'parley.notify'; // localStorage: "on" once turned on

let openRoom = () => {};

// bindOpen sets what a click on a notification does with its room.
export function bindOpen(fn) {
  openRoom = fn;
}

const supported = () => typeof window.Notification === 'function';
const permission = () => (supported() ? window.Notification.permission : 'denied');

function chosen() {
  try { return window.localStorage.getItem(KEY) === 'on'; } catch { return false; }
}

function choose(on) {
  try { window.localStorage.setItem(KEY, on ? 'on' : 'off'); } catch { /* storage may be unavailable */ }
}

const enabled = () => permission() === 'granted' && chosen();

// setupNotify shows the bell where the browser has notifications.
export function setupNotify() {
  ui.notifyToggle.hidden = !supported();
  renderBell();
}

function renderBell() {
  const on = enabled();
  const b = ui.notifyToggle;
  b.setAttribute('aria-pressed', on ? 'true' : 'false');
  b.title = permission() === 'denied'
    ? 'Notifications are blocked in this browser’s settings for this site'
    : on ? 'Mentions notify you while this tab is hidden: press to stop' : 'Notify me of mentions while this tab is hidden';
}

// toggleNotify is the bell: the first time, it asks the browser for
// permission; then it turns notifications on or off.
export async function toggleNotify() {
  if (!supported()) return;
  if (permission() === 'default') {
    const answer = await ask();
    choose(answer === 'granted');
  } else if (permission() === 'granted') {
    choose(!chosen());
  }
  renderBell();
}

// ask asks for permission, in the promise form or the older callback one.
function ask() {
  return new Promise((resolve) => {
    const p = window.Notification.requestPermission(resolve);
    if (p && typeof p.then === 'function') p.then(resolve, () => resolve('default'));
  });
}

// notifyMention tells of a message that mentions us, if the tab is hidden
// and notifications are on. A click shows its room.
export function notifyMention(room, author, text) {
  if (!document.hidden || !enabled()) return;
  try {
    const n = new window.Notification(`${author} mentioned you in #${room}`, {
      body: text.length > 200 ? `${text.slice(0, 199)}…` : text,
      tag: `parley-${room}`,
    });
    n.onclick = () => {
      window.focus();
      openRoom(room);
      n.close();
    };
  } catch {
    // Some browsers allow notifications only from a service worker.
  }
}
