// browser-server.mjs drives parley's page in headless Chromium through what
// the server tells it and what the page makes of it, one test per part:
// room names that look alike are one room, shown as first spelt; a room
// made is shown to everyone at once; the page counts against the limits
// the server announces; and a store that starts over is noticed, and what
// the new one holds is shown, not dropped as seen.
//
//   go test -run TestBrowserServer ./cmd/parley/
//
// Environment (TestBrowserServer sets it):
//   PARLEY_URL              a fresh parley server.
//   PARLEY_LIMITS_URL       a fresh parley server with lower limits, and
//   PARLEY_LIMITS           its limits, as JSON: {"name": n, "message": n}.
//   PARLEY_RESTART_URL      a fresh parley server with a memory store, which
//   PARLEY_RESTART_CONTROL  restarts (with an empty store) when POSTed to.
//   PARLEY_SHOTS            directory for screenshots (default /tmp/parley-shots).
//   PARLEY_CHROMIUM         browser binary (default /usr/bin/chromium).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { chromium } from 'playwright-core';
import { io } from 'socket.io-client';
import {
  BASE, CHROMIUM, CHROMIUM_ARGS, DESKTOP, SHOTS, skip,
} from './page-helpers.mjs';
import { eventually } from './helpers.mjs';

const LIMITS_URL = process.env.PARLEY_LIMITS_URL;
const LIMITS = process.env.PARLEY_LIMITS ? JSON.parse(process.env.PARLEY_LIMITS) : null;
const RESTART_URL = process.env.PARLEY_RESTART_URL;
const RESTART_CONTROL = process.env.PARLEY_RESTART_CONTROL;

let browser = null;

before(async () => {
  if (skip) return;
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
});

after(async () => {
  await browser?.close().catch(() => {});
});

// session gives a test pages and bots that close when it ends.
function session(t) {
  const closers = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close();
  });
  return {
    // open is a page of the chat at url, not yet joined.
    async open({ url = BASE } = {}) {
      const context = await browser.newContext({ viewport: DESKTOP, colorScheme: 'light', deviceScaleFactor: 1 });
      closers.push(() => context.close().catch(() => {}));
      const page = await context.newPage();
      page.setDefaultTimeout(8000);
      const person = { page, context, errors: [] };
      page.on('pageerror', (err) => person.errors.push(`pageerror: ${err.message}`));
      page.on('console', (msg) => {
        // A connection refused while the server restarts is expected.
        if (msg.type() === 'error' && !/ERR_CONNECTION_REFUSED|WebSocket connection/.test(msg.text())) {
          person.errors.push(`console: ${msg.text()}`);
        }
      });
      await page.goto(url, { waitUntil: 'domcontentloaded' });
      await page.locator('#name-input').waitFor({ state: 'visible' });
      return person;
    },
    // bot is someone joined with the official client, in rooms.
    async bot(name, { url = BASE, rooms = [] } = {}) {
      const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
      closers.push(() => socket.disconnect());
      const events = [];
      socket.onAny((event, ...args) => events.push({ event, args }));
      await new Promise((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const ack = (...args) => socket.timeout(5000).emitWithAck(...args);
      const res = await ack('new-user', name);
      assert.equal(res.ok, true, `${name} joins: ${JSON.stringify(res)}`);
      for (const room of rooms) assert.equal((await ack('join-room', room)).ok, true, `${name} joins #${room}`);
      return { socket, ack, events, res };
    },
  };
}

// check is test, skipped when the browser or a server is missing.
function check(name, opts, fn, needs = []) {
  const missing = skip || (needs.some((v) => !v) ? 'a server this test needs is not set' : false);
  test(name, { ...opts, skip: missing }, fn);
}

// lines is what a reader sees in the current room's log: "You joined",
// "Bob: hi", "You: hello"; history (from before joining) starts with "~ ".
function lines(page) {
  return page.$$eval('#messages li[data-kind]:not([data-kind="top"])', (lis) => lis.map((li) => {
    const text = li.querySelector('.text')?.textContent ?? '';
    if (li.dataset.kind === 'system') return text;
    const line = `${li.querySelector('.author')?.textContent ?? '?'}: ${text}`;
    return li.dataset.history === 'true' ? `~ ${line}` : line;
  }));
}

// said is lines without the system lines (joins, leaves, notices).
async function said(page) {
  return page.$$eval('#messages li.msg', (lis) => lis.map((li) => {
    const line = `${li.querySelector('.author')?.textContent ?? '?'}: ${li.querySelector('.text')?.textContent ?? ''}`;
    return li.dataset.history === 'true' ? `~ ${line}` : line;
  }));
}

// ids is the ids of the messages in the current room's log, in order.
function ids(page) {
  return page.$$eval('#messages li.msg[data-id]', (lis) => lis.map((li) => Number(li.dataset.id)));
}

const myRooms = (page) => page.$$eval('#rooms li[data-room]', (lis) => lis.map((li) => li.dataset.room));
const otherRooms = (page) => page.$$eval('#more-rooms li[data-room]', (lis) => lis.map((li) => li.dataset.room));

async function join(person, name) {
  await person.page.fill('#name-input', name);
  await person.page.press('#name-input', 'Enter');
  await person.page.locator('#chat-view').waitFor({ state: 'visible' });
  await eventually(async () => assert.ok((await lines(person.page)).includes('You joined'), `${name} joined`));
  await eventually(async () => assert.equal(await person.page.evaluate(() => window.parley.phase), 'joined'));
}

// enterRoom types typed in the room form, and expects to be in #shown.
async function enterRoom(person, typed, shown = typed) {
  await person.page.fill('#room-input', typed);
  await person.page.press('#room-input', 'Enter');
  await eventually(async () => {
    assert.equal(await person.page.textContent('#room-name'), shown, `in #${shown}`);
    assert.equal(await person.page.locator(`#rooms li[data-room="${shown}"].active`).count(), 1, `#${shown} active in the list`);
  });
}

async function say(person, text) {
  await person.page.fill('#message-input', text);
  await person.page.press('#message-input', 'Enter');
  await eventually(async () => assert.equal(
    await person.page.locator('#messages li.msg.mine:not([data-status="sent"])').count(), 0, 'sent'));
}

function noErrors(person) {
  assert.deepEqual(person.errors, [], 'no errors in the page');
}

check('room names that look alike are one room, shown as first spelt', { timeout: 60_000 }, async (t) => {
  const { open, bot } = session(t);
  const ann = await open();
  await join(ann, 'Ann');
  await enterRoom(ann, 'Random');
  await say(ann, 'first in Random');

  // Bob, with the official client, spells it otherwise: one room.
  const bob = await bot('Bob', { rooms: [] });
  const res = await bob.ack('join-room', 'random');
  assert.equal(res.room, 'Random', 'the server answers with the first spelling');
  assert.equal((await bob.ack('send-chat-message', 'hi from random', { room: 'RANDOM' })).ok, true);
  await eventually(async () => assert.deepEqual(await said(ann.page), ['You: first in Random', 'Bob: hi from random']));

  // Cy types it in capitals, Dee with a Cyrillic "а" the page cannot tell
  // from a Latin one: both are in #Random, with its history.
  for (const [name, typed] of [['Cy', 'RANDOM'], ['Dee', 'R\u0430ndom']]) {
    const p = await open();
    await join(p, name);
    await enterRoom(p, typed, 'Random');
    await eventually(async () => {
      const got = await said(p.page);
      assert.ok(got.includes('~ Ann: first in Random') && got.includes('~ Bob: hi from random'), `${name} sees the history of #Random: ${got}`);
    });
    assert.deepEqual((await myRooms(p.page)).sort(), ['Random', 'general'], `${name}'s rooms: one Random`);
    assert.ok(!(await otherRooms(p.page)).some((r) => r.toLowerCase() === 'random'), `${name} is not offered Random again`);
    // What they say reaches the others in #Random.
    await say(p, `${name} here`);
    await eventually(async () => assert.equal((await said(ann.page)).at(-1), `${name}: ${name} here`));
    // "GENERAL" is general, where they are already.
    await enterRoom(p, 'GENERAL', 'general');
    assert.deepEqual((await myRooms(p.page)).sort(), ['Random', 'general']);
    noErrors(p);
  }
  assert.deepEqual((await myRooms(ann.page)).sort(), ['Random', 'general']);
  await ann.page.screenshot({ path: joinPath(SHOTS, 'server-room-names.png') });
  noErrors(ann);
});

check('a room someone creates is in the others\' lists at once', { timeout: 30_000 }, async (t) => {
  const { open, bot } = session(t);
  const gil = await open();
  await join(gil, 'Gil');
  // The page asked for the list of rooms as it joined: the next time is
  // 15 s away, and this test waits 3 s at most.
  const hal = await bot('Hal');
  const made = Date.now();
  assert.equal((await hal.ack('join-room', 'Fresh News')).ok, true);
  await eventually(async () => assert.ok((await otherRooms(gil.page)).includes('Fresh News'), 'Gil is offered #Fresh News'), 3000);
  t.diagnostic(`shown ${Date.now() - made} ms after it was made`);
  assert.ok(hal.events.some((e) => e.event === 'room-created' && e.args[0]?.name === 'Fresh News'), 'the official client hears of it too');
  // Joining it from the list.
  await gil.page.click('#more-rooms li[data-room="Fresh News"] button');
  await eventually(async () => assert.equal(await gil.page.textContent('#room-name'), 'Fresh News'));
  // A room that exists is not news: joining "fresh news" announces nothing.
  const before = hal.events.length;
  const ivy = await bot('Ivy');
  assert.equal((await ivy.ack('join-room', 'fresh news')).room, 'Fresh News');
  assert.equal((await ivy.ack('list-users', 'Fresh News')).ok, true);
  assert.equal(hal.events.slice(before).filter((e) => e.event === 'room-created').length, 0, 'no news of a room that exists');
  noErrors(gil);
});

check("the page counts against the limits the server announces as it connects", { timeout: 30_000 }, async (t) => {
  const { open } = session(t);
  const kim = await open({ url: LIMITS_URL });
  const { page } = kim;
  // Before any name is sent, the form knows the server's limit.
  await eventually(async () => assert.equal(await page.textContent('#name-hint'), `1 to ${LIMITS.name} characters.`));
  await page.fill('#name-input', 'k'.repeat(LIMITS.name + 1));
  await page.press('#name-input', 'Enter');
  await page.locator('#name-error').waitFor({ state: 'visible' });
  assert.match(await page.textContent('#name-error'), new RegExp(`at most ${LIMITS.name} characters`));
  await page.fill('#name-input', '');
  await join(kim, 'k'.repeat(LIMITS.name));
  // A message over the server's limit is refused here, not sent to be
  // refused there.
  await page.fill('#message-input', 'x'.repeat(LIMITS.message + 1));
  await page.press('#message-input', 'Enter');
  await page.locator('#composer-error').waitFor({ state: 'visible' });
  assert.match(await page.textContent('#composer-error'), new RegExp(`at most ${LIMITS.message}`));
  assert.equal(await page.locator('#messages li.msg.mine').count(), 0, 'nothing sent');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Enter');
  await eventually(async () => assert.equal(await page.locator('#messages li.msg.mine[data-status="sent"]').count(), 1));
  noErrors(kim);
}, [LIMITS_URL, LIMITS]);

check('a store that starts over: the page shows what the new one holds', { timeout: 60_000 }, async (t) => {
  const { open, bot } = session(t);
  const eve = await open({ url: RESTART_URL });
  const { page } = eve;
  await join(eve, 'Eve');
  for (const text of ['one', 'two', 'three']) await say(eve, text);
  await enterRoom(eve, 'den');
  await say(eve, 'in the den');
  assert.deepEqual(await ids(page), [1]);
  await page.click('#rooms li[data-room="general"] button');
  await eventually(async () => assert.equal(await page.textContent('#room-name'), 'general'));
  assert.deepEqual(await ids(page), [1, 2, 3]);

  // The server starts again with an empty store, which numbers its
  // messages from 1 again.
  const res = await fetch(RESTART_CONTROL, { method: 'POST' });
  assert.equal(res.status, 204, 'the server restarted');
  await eventually(async () => assert.equal(await page.getAttribute('#status', 'data-state'), 'connected'), 15_000);
  await eventually(async () => assert.equal(await page.evaluate(() => window.parley.phase), 'joined'), 15_000);

  const fay = await bot('Fay', { url: RESTART_URL, rooms: ['den'] });
  assert.equal((await fay.ack('send-chat-message', 'after the restart')).id, 1, 'the new store starts at 1');
  assert.equal((await fay.ack('send-chat-message', 'the den again', { room: 'den' })).id, 1);
  await eventually(async () => assert.deepEqual(await said(page),
    ['You: one', 'You: two', 'You: three', 'Fay: after the restart']));
  assert.ok((await lines(page)).some((l) => /history started over/.test(l)), 'the page says the history started over');
  assert.deepEqual(await ids(page), [1], 'the old messages keep no id');
  await say(eve, 'still here');
  assert.deepEqual(await ids(page), [1, 2]);
  await page.click('#rooms li[data-room="den"] button');
  await eventually(async () => assert.deepEqual(await said(page), ['You: in the den', 'Fay: the den again']));
  assert.deepEqual(await ids(page), [1]);
  await page.screenshot({ path: joinPath(SHOTS, 'server-restart.png') });
  noErrors(eve);
}, [RESTART_URL, RESTART_CONTROL]);
