// browser-directory.mjs drives parley's chat page in headless Chromium on
// a server with more rooms than one answer lists, and a default room with
// more people than one answer names: the page gathers the server's pages
// (list-rooms, list-users), says when it shows fewer rooms than there
// are, stays connected, and tells why a room cannot be created.
//
//   PARLEY_URL=http://127.0.0.1:3000 PARLEY_ROOMS=1200 node --test test/js/browser-directory.mjs
//
// Environment:
//   PARLEY_URL     a parley server whose store holds PARLEY_ROOMS rooms
//                  besides general, called "room 0000" and on, and whose
//                  --max-rooms they exceed; required.
//   PARLEY_ROOMS   how many (default 1200).
//   PARLEY_SHOTS   directory for screenshots (default /tmp/parley-shots).
//   PARLEY_CHROMIUM  browser binary (default /usr/bin/chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { chromium } from 'playwright-core';
import { io } from 'socket.io-client';
import {
  BASE, CHROMIUM, CHROMIUM_ARGS, DESKTOP, SHOTS, skip,
} from './page-helpers.mjs';
import { eventually } from './helpers.mjs';

const ROOMS = Number(process.env.PARLEY_ROOMS || 1200);
const CROWD = 260; // people in general besides the reader: more than a page of members
const SHOWN = 1000; // the rooms the page gathers: 5 pages of 200 (config.js)

// crowd joins n people to general with the official client.
async function crowd(n) {
  const sockets = [];
  for (let i = 0; i < n; i++) {
    const socket = io(BASE, { transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const res = await socket.timeout(5000).emitWithAck('new-user', `guest ${String(i).padStart(3, '0')}`);
    assert.equal(res.ok, true, JSON.stringify(res));
  }
  return sockets;
}

test('the page pages through long lists', { skip, timeout: 90_000 }, async (t) => {
  let browser = null;
  let sockets = [];
  t.after(async () => {
    for (const s of sockets) s.disconnect();
    await browser?.close().catch(() => {});
  });
  mkdirSync(SHOTS, { recursive: true });
  sockets = await crowd(CROWD);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
  const context = await browser.newContext({ viewport: DESKTOP, colorScheme: 'light', deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  const errors = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  await page.goto(BASE, { waitUntil: 'domcontentloaded' });
  await page.fill('#name-input', 'Reader');
  await page.press('#name-input', 'Enter');
  await page.locator('#chat-view').waitFor({ state: 'visible' });

  await t.test('everyone in general is listed, past the first page', async () => {
    await eventually(async () => {
      const n = await page.$$eval('#users li', (l) => l.length);
      assert.equal(n, CROWD + 1, 'people listed');
    }, 15_000);
  });

  await t.test('the directory holds the first pages of rooms, and says there are more', async () => {
    await eventually(async () => {
      const n = await page.$$eval('#more-rooms li[data-room]', (l) => l.length);
      // general is among the first, and not in "More rooms": the reader is in it.
      assert.equal(n, Math.min(SHOWN, ROOMS + 1) - 1, 'rooms in the directory');
    }, 15_000);
    const note = await page.locator('#more-rooms li.rooms-more').count();
    assert.equal(note, ROOMS > SHOWN ? 1 : 0, 'the note that more rooms exist');
    const first = await page.$$eval('#more-rooms li[data-room]', (l) => l.map((li) => li.dataset.room));
    assert.ok(first.includes('room 0000') && first.includes(`room ${String(SHOWN - 2).padStart(4, '0')}`), 'the first rooms by name');
    await page.screenshot({ path: joinPath(SHOTS, 'directory.png'), animations: 'disabled' });
    if (ROOMS > SHOWN) {
      await page.locator('#more-rooms li.rooms-more').scrollIntoViewIfNeeded();
      await page.screenshot({ path: joinPath(SHOTS, 'directory-end.png'), animations: 'disabled' });
    }
  });

  await t.test('a room past the cap is refused with the reason', async () => {
    await page.fill('#room-input', 'brand new');
    await page.press('#room-input', 'Enter');
    await eventually(async () => {
      const why = await page.textContent('#room-error');
      assert.match(why, /Could not join #brand new\. The server has as many rooms as it keeps/);
    });
    await page.screenshot({ path: joinPath(SHOTS, 'room-refused.png'), animations: 'disabled' });
  });

  await t.test('a room beyond the directory can be joined by name', async () => {
    const name = `room ${String(ROOMS - 1).padStart(4, '0')}`;
    await page.fill('#room-input', name);
    await page.press('#room-input', 'Enter');
    await eventually(async () => assert.equal(await page.textContent('#room-name'), name));
    assert.equal(await page.getAttribute('#status', 'data-state'), 'connected');
    assert.deepEqual(errors, [], 'errors in the page');
  });
});
