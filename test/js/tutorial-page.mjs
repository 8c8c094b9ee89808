// tutorial-page.mjs drives the Socket.IO chat tutorial's own page, unchanged
// (test/js/tutorial), against parley in headless Chromium. The page is served
// from an origin other than parley's, as in the tutorial, and asks for the
// name with window.prompt.
//
//   PARLEY_TUTORIAL_URL  the page, served from an origin parley allows
//   PARLEY_BLOCKED_URL   the same page, from an origin parley does not allow
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
