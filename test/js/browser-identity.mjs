// browser-identity.mjs: who people are, through parley's page in headless
// Chromium. The page marks its own messages by the identity the server
// gave it, never by name: a newcomer who takes a name its holder let go
// does not see the holder's messages as theirs. Two tabs of one browser
// are one person: listed once, and each sees the other's messages as its
// own.
//
//   PARLEY_URL    a fresh parley server with a short --name-reserve and
//                 --presence-grace (cmd/parley's TestBrowserIdentity)
//   PARLEY_WAIT_MS  how long a name takes to be free once its holder left:
//                 the grace and the reserve

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { eventually } from './helpers.mjs';
import { BASE, CHROMIUM, CHROMIUM_ARGS, DESKTOP, skip } from './page-helpers.mjs';

const FREE_MS = Number(process.env.PARLEY_WAIT_MS) || 3000;

// messages returns the log's chat messages as "kind author: text".
const messages = (page) => page.$$eval('#messages li[data-kind="mine"], #messages li[data-kind="theirs"]', (lis) => lis.map((li) =>
  `${li.dataset.kind} ${li.dataset.author}: ${li.querySelector('.text')?.textContent ?? ''}`));
const online = (page) => page.$$eval('#users li', (lis) => lis.map((li) => li.dataset.name).sort());

test('the page knows itself by its identity, and two tabs are one person', { skip, timeout: 60_000 }, async (t) => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const errors = [];

  async function open(context) {
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(BASE, { waitUntil: 'domcontentloaded' });
    await page.locator('#name-input').waitFor({ state: 'visible' });
    return page;
  }
  async function join(page, name) {
    await page.fill('#name-input', name);
    await page.press('#name-input', 'Enter');
    await page.locator('#message-input').waitFor({ state: 'visible' });
  }
  async function say(page, text) {
    await page.fill('#message-input', text);
    await page.press('#message-input', 'Enter');
  }

  // Sam speaks, then goes for good.
  const first = await browser.newContext({ viewport: DESKTOP });
  const sam = await open(first);
  await join(sam, 'Sam');
  await say(sam, 'the first Sam');
  await eventually(async () => assert.deepEqual(await messages(sam), ['mine Sam: the first Sam']));
  const stored = await sam.evaluate(() => JSON.parse(localStorage.getItem('parley.identity')));
  assert.ok(stored && stored.id && stored.token, `the page keeps no identity: ${JSON.stringify(stored)}`);
  await first.close();

  // Once the name is free, a newcomer takes it: the first Sam's message
  // is someone else's to them.
  const second = await browser.newContext({ viewport: DESKTOP });
  const newcomer = await open(second);
  await new Promise((r) => setTimeout(r, FREE_MS));
  await join(newcomer, 'Sam');
  await eventually(async () => assert.deepEqual(await messages(newcomer), ['theirs Sam: the first Sam']));
  // Also after a reload, when the page knows its name before the history
  // comes.
  await newcomer.reload();
  await newcomer.locator('#message-input').waitFor({ state: 'visible' });
  await say(newcomer, 'the second Sam');
  await eventually(async () => assert.deepEqual(await messages(newcomer), ['theirs Sam: the first Sam', 'mine Sam: the second Sam']));

  // Two tabs of one browser.
  const third = await browser.newContext({ viewport: DESKTOP });
  const tab1 = await open(third);
  await join(tab1, 'Tess');
  const tab2 = await open(third);
  await join(tab2, 'Tess');
  await say(tab1, 'from the first tab');
  await eventually(async () => assert.deepEqual((await messages(tab2)).slice(-1), ['mine Tess: from the first tab']));
  await say(tab2, 'from the second tab');
  await eventually(async () => assert.deepEqual((await messages(tab1)).slice(-1), ['mine Tess: from the second tab']));
  await eventually(async () => assert.deepEqual((await messages(newcomer)).slice(-2),
    ['theirs Tess: from the first tab', 'theirs Tess: from the second tab']));
  for (const page of [tab1, tab2, newcomer]) {
    await eventually(async () => assert.deepEqual(await online(page), ['Sam', 'Tess']));
  }
  assert.deepEqual(errors, []);
});
