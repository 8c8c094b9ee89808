// browser-csp.mjs checks parley's Content-Security-Policy in headless
// Chromium: the page's connect-src 'self' lets its client reach its own
// server over WebSocket (same host and port, ws: for an http: page), and
// nothing else: a WebSocket to another origin is blocked by the policy
// before any request is made.
//
//   PARLEY_URL=http://127.0.0.1:3000 PARLEY_OTHER_WS=ws://localhost:3000/ node --test test/js/browser-csp.mjs
//
// Environment:
//   PARLEY_URL       a parley server; required.
//   PARLEY_OTHER_WS  a WebSocket URL of another origin than PARLEY_URL's.
//   PARLEY_CHROMIUM  browser binary (default /usr/bin/chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { BASE, CHROMIUM, CHROMIUM_ARGS, eventually, skip } from './page-helpers.mjs';

const OTHER = process.env.PARLEY_OTHER_WS;

test("the page's policy allows its own WebSocket, and no other", { skip: skip || (!OTHER && 'PARLEY_OTHER_WS is not set'), timeout: 60_000 }, async (t) => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
  t.after(() => browser.close());
  t.diagnostic(`${browser.version()}, server ${BASE}`);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI });
    });
  });
  const resp = await page.goto(BASE);
  t.diagnostic(`policy: ${resp.headers()['content-security-policy']}`);

  // The page's client connects over WebSocket, first try, without a
  // violation: 'self' covers ws: to the page's own host and port.
  await page.waitForFunction(() => window.parley?.socket?.connected, null, { timeout: 10_000 });
  const transport = await page.evaluate(() => window.parley.socket.io.engine.transport.name);
  assert.equal(transport, 'websocket', 'the page connected over WebSocket');
  assert.deepEqual(await page.evaluate(() => window.__violations), [], 'no violation for its own server');

  // A WebSocket to another origin is refused by the policy.
  await page.evaluate((url) => {
    try {
      const ws = new WebSocket(url);
      ws.onerror = () => {};
    } catch (err) {
      window.__violations.push({ thrown: String(err) });
    }
  }, OTHER);
  await eventually(async () => {
    const v = await page.evaluate(() => window.__violations);
    assert.ok(v.some((x) => x.directive === 'connect-src' && String(x.blocked).startsWith(OTHER.replace(/\/$/, ''))),
      `a connect-src violation for ${OTHER}: ${JSON.stringify(v)}`);
  });
  assert.deepEqual(errors, []);
});
