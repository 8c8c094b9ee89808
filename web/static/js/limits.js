// limits.js: the longest name and message the server accepts, in
// characters (code points, as the server counts them). They are the
// defaults of config.js until the server says otherwise in its answer to
// new-user ({limits: {name, message}}). It owns the limits.

import { MAX_MESSAGE, MAX_NAME } from './config.js';

export const limits = { name: MAX_NAME, message: MAX_MESSAGE };

const valid = (n) => Number.isSafeInteger(n) && n > 0;

// setLimits takes the limits a server announced; missing or malformed
// ones leave the page's as they are.
export function setLimits(announced) {
  if (!announced || typeof announced !== 'object') return;
  if (valid(announced.name)) limits.name = announced.name;
  if (valid(announced.message)) limits.message = announced.message;
}
