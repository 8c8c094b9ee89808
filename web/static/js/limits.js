// limits.js: the server's limits: the longest name, message and room name
// it accepts, in characters (code points, as the server counts them), and
// the pace of events the page keeps to under its rate limit. They are the
// defaults of config.js until the server says otherwise, first thing on
// every connection (welcome: {limits}; new-user's answer repeats them). It
// owns the limits.

import { MAX_MESSAGE, MAX_NAME, MAX_ROOM, RATE_BURST, RATE_PER_S } from './config.js';

// rate and burst are the page's pace: below the server's, so that a burst
// of messages is paced, not refused.
export const limits = { name: MAX_NAME, message: MAX_MESSAGE, room: MAX_ROOM, rate: RATE_PER_S, burst: RATE_BURST };

// The page's share of the server's rate and burst (15 of 20 a second, 40
// of a burst of 60).
const RATE_SHARE = RATE_PER_S / 20;
const BURST_SHARE = RATE_BURST / 60;

const valid = (n) => Number.isSafeInteger(n) && n > 0;

// setLimits takes the limits a server announced ({name, message, room,
// rate, burst}); missing or malformed ones leave the page's as they are.
export function setLimits(announced) {
  if (!announced || typeof announced !== 'object') return;
  if (valid(announced.name)) limits.name = announced.name;
  if (valid(announced.message)) limits.message = announced.message;
  if (valid(announced.room)) limits.room = announced.room;
  if (typeof announced.rate === 'number' && Number.isFinite(announced.rate) && announced.rate > 0 && valid(announced.burst)) {
    limits.rate = announced.rate * RATE_SHARE;
    limits.burst = Math.max(1, Math.floor(announced.burst * BURST_SHARE));
  }
}
