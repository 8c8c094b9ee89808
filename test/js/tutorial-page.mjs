// tutorial-page.mjs drives the Socket.IO chat tutorial's own page, unchanged
// (test/js/tutorial), against parley in headless Chromium. The page is served
// from an origin other than parley's, as in the tutorial, and asks for the
// name with window.prompt.
//
//   PARLEY_TUTORIAL_URL  the page, served from an origin parley allows
//   PARLEY_BLOCKED_URL   the same page, from an origin parley does not allow
//   PARLEY_SAME_ORIGIN_URL  the same page, served by parley's own origin,
//                        whose requests carry parley's guest cookie
//   PARLEY_GRACE_MS      that server's presence grace
//
// Started by cmd/parley's TestTutorialPage, which serves the page and parley.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { eventually } from './helpers.mjs';

const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
const PAGE = process.env.PARLEY_TUTORIAL_URL;
const BLOCKED = process.env.PARLEY_BLOCKED_URL;
const SAME = process.env.PARLEY_SAME_ORIGIN_URL;
const GRACE_MS = Number(process.env.PARLEY_GRACE_MS) || 10_000;

const lines = (page) => page.$$eval('#message-container div', (ds) => ds.map((d) => d.innerText));

// join opens the page in its own context and answers the name prompt.
async function join(browser, url, name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => d.accept(name));
  await page.goto(url);
  return { context, page, errors };
}

test('the tutorial page chats through parley from another origin', { skip: !PAGE && 'PARLEY_TUTORIAL_URL is not set', timeout: 60_000 }, async (t) => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  t.after(() => browser.close());

  const alice = await join(browser, PAGE, 'Alice');
  await eventually(async () => assert.deepEqual(await lines(alice.page), ['You joined']));
  // Wait until Alice's socket is in: Bob's join must reach her.
  await alice.page.waitForFunction(() => socket.connected);
  const bob = await join(browser, PAGE, 'Bob');
  await bob.page.waitForFunction(() => socket.connected);
  await eventually(async () => assert.deepEqual(await lines(alice.page), ['You joined', 'Bob connected']));

  await alice.page.fill('#message-input', 'hello from the tutorial page');
  await alice.page.click('#send-button');
  // Bob answers once he has Alice's message: his own line shows at once,
  // so sending sooner would race it.
  await eventually(async () => assert.deepEqual(await lines(bob.page),
    ['You joined', 'Alice: hello from the tutorial page']));
  await bob.page.fill('#message-input', 'hi Alice');
  await bob.page.press('#message-input', 'Enter');

  await eventually(async () => assert.deepEqual(await lines(alice.page),
    ['You joined', 'Bob connected', 'You: hello from the tutorial page', 'Bob: hi Alice']));
  await eventually(async () => assert.deepEqual(await lines(bob.page),
    ['You joined', 'Alice: hello from the tutorial page', 'You: hi Alice']));

  await bob.context.close();
  await eventually(async () => assert.equal((await lines(alice.page)).at(-1), 'Bob disconnected'));
  assert.deepEqual(alice.errors, []);
});

test('an origin parley does not allow cannot connect', { skip: !BLOCKED && 'PARLEY_BLOCKED_URL is not set', timeout: 30_000 }, async (t) => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  t.after(() => browser.close());
  const mallory = await join(browser, BLOCKED, 'Mallory');
  // The client script loads (a script tag needs no CORS), but no connection
  // is let through: the socket never connects.
  await mallory.page.waitForFunction(() => typeof socket === 'object');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await mallory.page.evaluate(() => socket.connected), false);
});

// The page knows nothing of identities: what keeps its name is the
// HttpOnly cookie parley sets on the Engine.IO handshake. Served by
// parley's own origin, the page's requests carry it: a reload is the same
// person, whom a stranger cannot replace.
test('the tutorial page served by parley keeps its name across reloads', { skip: !SAME && 'PARLEY_SAME_ORIGIN_URL is not set', timeout: 90_000 }, async (t) => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  t.after(() => browser.close());
  const own = (page) => page.waitForFunction(() => socket.connected);
  const said = async (page) => (await lines(page)).filter((l) => l.startsWith('Alice: '));
  const send = async (page, text) => {
    await page.fill('#message-input', text);
    await page.press('#message-input', 'Enter');
  };

  const alice = await join(browser, SAME, 'Alice');
  await own(alice.page);
  const bob = await join(browser, SAME, 'Bob');
  await own(bob.page);
  await eventually(async () => assert.ok((await lines(alice.page)).includes('Bob connected')));

  const [cookie] = (await alice.context.cookies()).filter((c) => c.name === 'parley_guest');
  assert.ok(cookie, 'no parley_guest cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Lax');

  await send(alice.page, 'before the reload');
  await eventually(async () => assert.deepEqual(await said(bob.page), ['Alice: before the reload']));

  // The first reload: the cookie comes back, and proves it is kept. The
  // first visit could not know it would be, so its leaving was told.
  await alice.page.reload();
  await own(alice.page);
  await send(alice.page, 'after the reload');
  await eventually(async () => assert.deepEqual(await said(bob.page), ['Alice: before the reload', 'Alice: after the reload']));

  // From then on a reload is no news.
  const before = (await lines(bob.page)).length;
  await alice.page.reload();
  await own(alice.page);
  await send(alice.page, 'after the second reload');
  await eventually(async () => assert.equal((await said(bob.page)).length, 3));
  await new Promise((r) => setTimeout(r, GRACE_MS + 500)); // past the grace of the closed page
  assert.deepEqual((await lines(bob.page)).slice(before), ['Alice: after the second reload'],
    'bob heard of the second reload');

  // A stranger, in another browser, cannot be Alice: new-user is refused,
  // and so is what she sends.
  const mallory = await join(browser, SAME, 'Alice');
  await own(mallory.page);
  await send(mallory.page, 'I am Alice too');
  await send(alice.page, 'the real one');
  await eventually(async () => assert.equal((await said(bob.page)).at(-1), 'Alice: the real one'));
  assert.ok(!(await said(bob.page)).includes('Alice: I am Alice too'), 'the stranger spoke as Alice');
  assert.deepEqual(alice.errors, []);
});
