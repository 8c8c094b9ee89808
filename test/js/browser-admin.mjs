// browser-admin.mjs opens the official Socket.IO Admin UI (the built page
// of the npm package @socket.io/admin-ui, served from another origin) in
// headless Chromium, logs in to parley through its connection form as a
// person would, and checks that it shows the connected clients on its
// dashboard, the sockets of "/" on its Sockets page and the clients on its
// Clients page; then that a session id keeps it logged in across a reload.
// It takes screenshots of each.
//
//   go test -run TestBrowserAdminUI ./cmd/parley/
//
// Environment (TestBrowserAdminUI sets it):
//   PARLEY_URL             a fresh parley with the Admin UI on, which allows
//                          the UI's origin (--origins).
//   PARLEY_ADMIN_UI        the UI's index.html, on a server of its own.
//   PARLEY_ADMIN_USER      the username,
//   PARLEY_ADMIN_PASSWORD  and the password parley has the hash of.
//   PARLEY_SHOTS           directory for screenshots (default /tmp/parley-shots).
//   PARLEY_CHROMIUM        browser binary (default /usr/bin/chromium).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { chromium } from 'playwright-core';
import { io } from 'socket.io-client';
import { BASE, CHROMIUM, CHROMIUM_ARGS, DESKTOP, SHOTS, skip } from './page-helpers.mjs';
import { eventually } from './helpers.mjs';

const UI = process.env.PARLEY_ADMIN_UI;
const USER = process.env.PARLEY_ADMIN_USER;
const PASSWORD = process.env.PARLEY_ADMIN_PASSWORD;
const CLIENTS = 3;

let browser = null;
const sockets = [];

before(async () => {
  if (skip) return;
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
  // Three people's connections to the chat: two upgraded to WebSocket,
  // one kept on polling.
  for (const opts of [{}, {}, { transports: ['polling'] }]) {
    const s = io(BASE, { forceNew: true, reconnection: false, ...opts });
    sockets.push(s);
    await new Promise((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', reject);
    });
  }
});

after(async () => {
  for (const s of sockets) s.disconnect();
  await browser?.close().catch(() => {});
});

// shot saves a screenshot of page as name.png.
async function shot(page, name) {
  await page.screenshot({ path: joinPath(SHOTS, `${name}.png`), fullPage: true });
}

test('the Admin UI logs in to parley and shows its clients and sockets', { skip, timeout: 60_000 }, async () => {
  const context = await browser.newContext({ viewport: DESKTOP, colorScheme: 'light', deviceScaleFactor: 1 });
  // The page asks for fonts and icons from CDNs: this machine has no
  // network, and the test none of its own but the two servers.
  const local = new Set([new URL(UI).origin, new URL(BASE).origin]);
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    return local.has(url.origin) ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));

  await page.goto(UI, { waitUntil: 'domcontentloaded' });
  // No server saved yet: the connection form opens.
  const form = page.locator('.v-dialog form');
  await form.waitFor({ state: 'visible' });
  await form.getByLabel('Server URL').fill(BASE);
  await form.getByLabel('Username').fill(USER);
  await form.getByLabel('Password').fill('not the password');
  await form.getByRole('button', { name: 'Connect' }).click();
  await form.getByText('Invalid credentials').waitFor({ state: 'visible' });
  await shot(page, 'admin-ui-refused');
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Connect' }).click();
  await form.waitFor({ state: 'hidden' });

  // The dashboard: this node's clients, by transport (the UI's own is one
  // of the WebSocket ones), and the one server, healthy.
  const clients = page.locator('.v-card', { hasText: 'Clients' }).first();
  await eventually(async () => {
    const text = await clients.innerText();
    const counts = [...text.matchAll(/^(\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(counts, [CLIENTS, 1], `websocket then polling counts in: ${text}`);
  }, 10_000);
  const servers = page.locator('.v-card', { hasText: 'Servers' }).first();
  await eventually(async () => assert.match(await servers.innerText(), /^HEALTHY\s+1\s/m), 10_000);
  await shot(page, 'admin-ui-dashboard');

  // The Sockets page, on "/": each chat connection, with its transport.
  await page.goto(`${UI}#/sockets/`);
  const rows = page.locator('.v-data-table tbody tr');
  await eventually(async () => {
    const text = await page.locator('.v-data-table').innerText();
    for (const s of sockets) assert.ok(text.includes(s.id), `socket ${s.id} listed in:\n${text}`);
    assert.equal(await rows.count(), CLIENTS);
    assert.equal((text.match(/127\.0\.0\.1/g) || []).length, CLIENTS);
  }, 10_000);
  await shot(page, 'admin-ui-sockets');

  // The Clients page: the three, and the UI's own connection.
  await page.goto(`${UI}#/clients/`);
  await eventually(async () => assert.equal(await rows.count(), CLIENTS + 1), 10_000);
  await shot(page, 'admin-ui-clients');

  // A socket's page, from its row, shows its rooms: its own and the
  // chat's default room.
  await page.goto(`${UI}#/sockets/`);
  await rows.filter({ hasText: sockets[0].id }).locator('td').first().click();
  await eventually(async () => {
    const text = await page.locator('main').innerText();
    assert.match(text, /room:general/);
    assert.ok(text.includes(sockets[0].id));
  }, 10_000);
  await shot(page, 'admin-ui-socket');

  // A reload logs in again with the session id the UI kept: no form.
  const session = await page.evaluate(() => localStorage.getItem('session_id'));
  assert.match(session, /^[0-9a-f]{32}$/);
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.goto(`${UI}#/sockets/`);
  await eventually(async () => assert.equal(await rows.count(), CLIENTS), 10_000);
  assert.equal(await form.isVisible(), false);

  assert.deepEqual(errors, []);
  await context.close();
});
