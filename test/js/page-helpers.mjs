// page-helpers.mjs: what the browser tests of parley's page share: the
// browser to drive and the server under test. Waits are in helpers.mjs.

import { existsSync } from 'node:fs';

// CHROMIUM is Debian's Chromium, driven by playwright-core.
export const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
// BASE is the server under test; SHOTS where screenshots go.
export const BASE = process.env.PARLEY_URL;
export const SHOTS = process.env.PARLEY_SHOTS || '/tmp/parley-shots';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

// skip says why the tests cannot run here, or is false.
export const skip = !existsSync(CHROMIUM)
  ? `no browser: ${CHROMIUM} is missing (install the Debian "chromium" package to run this test)`
  : !BASE
    ? 'PARLEY_URL is not set: start a fresh parley server and point PARLEY_URL at it'
    : false;
