// tabs.js: a duplicated tab inherits this tab's session storage, token
// included. Tabs answer a probe for their token, so that a copy does not
// take over the name of the tab it was copied from. It owns the channel
// between the page's tabs and the answer to this tab's probe.

import { named } from './phase.js';
import { storedToken, tabToken } from './storage.js';

let channel = null;
let probe = Promise.resolve(false);

// watchTabs answers other tabs' probes for our token while we have a name.
export function watchTabs() {
  if (typeof BroadcastChannel !== 'function') return;
  channel = new BroadcastChannel('parley.tabs');
  channel.addEventListener('message', (e) => {
    const d = e.data;
    if (d && typeof d.probe === 'string' && named() && d.probe === storedToken()) {
      channel.postMessage({ taken: d.probe });
    }
  });
}

// startProbe asks the other tabs whether one holds our token.
export function startProbe() {
  probe = probeToken();
}

// duplicateProbe resolves with whether another tab holds our token (false
// when no probe was started).
export const duplicateProbe = () => probe;

function probeToken() {
  if (!channel) return Promise.resolve(false);
  const token = tabToken();
  return new Promise((resolve) => {
    const onMessage = (e) => {
      if (e.data && e.data.taken === token) done(true);
    };
    const done = (v) => {
      channel.removeEventListener('message', onMessage);
      clearTimeout(timer);
      resolve(v);
    };
    const timer = setTimeout(() => done(false), 150);
    channel.addEventListener('message', onMessage);
    channel.postMessage({ probe: token });
  });
}
