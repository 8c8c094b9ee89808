// net.js: the socket and what every emit shares. It owns the socket (made
// by open), the count of connections (work begun for an older one is
// dropped), the budget of events that keeps the page under the server's
// rate limit, and the backoff after the server disconnects us.

import { ACK_TIMEOUT_MS } from './config.js';
import { limits } from './limits.js';

export let socket = null;
export let conn = 0; // counts connections: work for an older one is dropped

// open connects, through the global `io` of /socket.io/socket.io.js.
export function open(options) {
  socket = window.io(options);
  return socket;
}

// dropped counts a lost connection.
export function dropped() {
  conn++;
}

const bucket = { tokens: limits.burst, at: performance.now() };

function refill() {
  const now = performance.now();
  bucket.tokens = Math.min(limits.burst, bucket.tokens + ((now - bucket.at) * limits.rate) / 1000);
  bucket.at = now;
}

// take spends one event from the budget; forced, it may go into debt
// (which then delays the outbox).
export function take(force) {
  refill();
  if (bucket.tokens < 1 && !force) return false;
  bucket.tokens -= 1;
  return true;
}

// budgetWait is how long until the budget allows another event.
export function budgetWait() {
  refill();
  return Math.max(20, Math.ceil(((1 - bucket.tokens) * 1000) / limits.rate));
}

// request emits an event that expects an answer, and resolves with it,
// or with null when none came.
export function request(event, ...args) {
  take(true);
  return new Promise((resolve) => {
    socket.timeout(ACK_TIMEOUT_MS).emit(event, ...args, (err, res) => resolve(err ? null : res));
  });
}

let serverKicks = 0;

// kickDelay is how long to wait before connecting again after the server
// disconnected us: growing with each time, up to 30 s.
export const kickDelay = () => Math.min(30000, 1000 * 2 ** serverKicks++);

export function resetKicks() {
  serverKicks = 0;
}
