// page-helpers.mjs: what the browser tests of parley's page share: the
// browser to drive, the server under test, and waits with deadlines.

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

// withDeadline runs fn, failing with label if it takes longer than ms.
export function withDeadline(label, ms, fn) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([fn(), deadline]).finally(() => clearTimeout(timer));
}

// eventually polls check() until it returns without throwing, or rethrows its
// last error at the deadline. No bare sleeps.
export async function eventually(check, ms = 5000, every = 50) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
    }
    await new Promise((r) => setTimeout(r, every));
  }
}
