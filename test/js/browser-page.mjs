// browser-page.mjs drives parley's chat page in headless Chromium through
// what a person meets in the first minutes, one test per part: keyboard-only
// use and focus, right-to-left text, links and formatting, message lengths,
// a draft per room, the "New messages" divider and date separators, emoji,
// late acks and the browser going offline, the server's limits, folded
// join and leave lines, and mentions with desktop notifications.
//
//   go test -run TestBrowserPage ./cmd/parley/
//
// Environment (TestBrowserPage sets it):
//   PARLEY_URL         a fresh parley server whose store holds the room
//                      "days" (messages from three days and one day ago).
//   PARLEY_LIMITS_URL  a fresh parley server with lower limits, and
//   PARLEY_LIMITS      its limits, as JSON: {"name": n, "message": n}.
//   PARLEY_SHOTS       directory for screenshots (default /tmp/parley-shots).
//   PARLEY_CHROMIUM    browser binary (default /usr/bin/chromium).
//   PARLEY_PAGE_TESTS  a regular expression: only the tests whose names
//                      match it run (for a quicker loop).
//
// Tests share the servers: each uses names and rooms of its own. A few
// helpers join with the official socket.io-client, to fill a room or to
// talk along.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { chromium } from 'playwright-core';
import { io } from 'socket.io-client';
import {
  BASE, CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, SHOTS, skip,
} from './page-helpers.mjs';
import { eventually } from './helpers.mjs';

const LIMITS_URL = process.env.PARLEY_LIMITS_URL;
const LIMITS = process.env.PARLEY_LIMITS ? JSON.parse(process.env.PARLEY_LIMITS) : null;

const ONLY = process.env.PARLEY_PAGE_TESTS ? new RegExp(process.env.PARLEY_PAGE_TESTS) : null;

const ARCHIVE = 170; // messages in the room whose scrollback is loaded by keyboard

let browser = null;

// check is test, skipped when the browser or server is missing or when
// PARLEY_PAGE_TESTS leaves it out.
function check(name, opts, fn) {
  const left = ONLY && !ONLY.test(name) ? 'not in PARLEY_PAGE_TESTS' : false;
  test(name, { ...opts, skip: skip || left }, fn);
}

before(async () => {
  if (skip) return;
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
});

after(async () => {
  await browser?.close().catch(() => {});
});

// ---------- helpers ----------

// scene keeps what one test opened, and closes it when the test ends.
function scene(t) {
  const contexts = [];
  const bots = [];
  t.after(async () => {
    for (const b of bots) b.close();
    for (const c of contexts) await c.close().catch(() => {});
  });

  // open opens the page in a context of its own. gate: incoming WebSocket
  // messages can be held back (window.__stall) and let through later
  // (window.__release()); notifications are recorded (window.__notes).
  async function open({ viewport = DESKTOP, colorScheme = 'light', url = BASE, locale = 'en-US', timezoneId } = {}) {
    const context = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1, locale, timezoneId });
    contexts.push(context);
    await context.addInitScript(() => {
      const Native = window.WebSocket;
      window.__parleySockets = [];
      window.__held = [];
      window.__stall = false;
      window.__release = () => {
        window.__stall = false;
        for (const deliver of window.__held.splice(0)) deliver();
      };
      window.WebSocket = class extends Native {
        constructor(...args) {
          super(...args);
          window.__parleySockets.push(this);
        }

        set onmessage(fn) {
          super.onmessage = fn && ((ev) => {
            if (window.__stall) window.__held.push(() => fn.call(this, ev));
            else fn.call(this, ev);
          });
        }

        get onmessage() {
          return super.onmessage;
        }
      };
      // Notifications: recorded, with a permission the test sets.
      window.__notes = [];
      window.__permissionAsks = 0;
      class FakeNotification {
        static permission = 'default';

        static requestPermission() {
          window.__permissionAsks++;
          FakeNotification.permission = window.__grant || 'granted';
          return Promise.resolve(FakeNotification.permission);
        }

        constructor(title, options = {}) {
          window.__notes.push({ title, body: options.body, tag: options.tag });
          this.onclick = null;
          window.__lastNote = this;
        }

        close() {}
      }
      window.Notification = FakeNotification;
      // A hidden tab, on demand: __hide(true) or __hide(false).
      let hidden = false;
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
      window.__hide = (h) => {
        hidden = h;
        document.dispatchEvent(new Event('visibilitychange'));
      };
    });
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    const person = { page, context, errors: [] };
    page.on('pageerror', (err) => person.errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/ERR_INTERNET_DISCONNECTED|net::ERR/.test(msg.text())) {
        person.errors.push(`console: ${msg.text()}`);
      }
    });
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.locator('#name-input').waitFor({ state: 'visible' });
    return person;
  }

  // bot joins with the official client.
  async function bot(name, { url = BASE, rooms = [] } = {}) {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const ack = (...args) => socket.timeout(5000).emitWithAck(...args);
    const res = await ack('new-user', name);
    assert.equal(res.ok, true, `${name} joins: ${JSON.stringify(res)}`);
    for (const room of rooms) {
      const r = await ack('join-room', { room });
      assert.equal(r.ok, true, `${name} joins #${room}: ${JSON.stringify(r)}`);
    }
    const b = {
      socket,
      ack,
      res,
      // say sends a message, again after a pause while the server says
      // to slow down, and resolves with its answer.
      async say(text, room) {
        for (let pause = 100; ; pause = Math.min(1000, pause * 2)) {
          const r = await ack('send-chat-message', text, room ? { room } : {});
          if (r.code !== 'rate_limited') return r;
          await new Promise((resolve) => setTimeout(resolve, pause));
        }
      },
      close: () => socket.disconnect(),
    };
    bots.push(b);
    return b;
  }

  return { open, bot };
}

// join joins as name from the form, by keyboard, and waits for the chat.
async function join(person, name) {
  const { page } = person;
  await page.locator('#name-input').focus();
  await page.keyboard.type(name);
  await page.keyboard.press('Enter');
  await page.locator('#chat-view').waitFor({ state: 'visible' });
  await eventually(async () => assert.equal(await page.evaluate(() => window.parley.phase), 'joined'));
  person.name = name;
}

// say sends text from the composer.
async function say(person, text) {
  const input = person.page.locator('#message-input');
  await input.fill(text);
  await input.press('Enter');
}

// enterRoom joins a room from the form (in its panel, on a phone).
async function enterRoom(person, room) {
  const { page } = person;
  if (await page.locator('#rooms-toggle').isVisible()) {
    await page.click('#rooms-toggle');
    await page.locator('#room-input').waitFor({ state: 'visible' });
  }
  await page.fill('#room-input', room);
  await page.press('#room-input', 'Enter');
  await eventually(async () => assert.equal(await page.textContent('#room-name'), room));
}

// lines is what a reader sees in the room on screen, one string per line:
// "You joined", "Bob joined", "You: hi", "Bob: hello".
function lines(page) {
  return page.$$eval('#messages li[data-kind]:not([data-kind="top"])', (lis) => lis.map((li) => {
    const text = li.querySelector('.text')?.textContent ?? '';
    if (li.dataset.kind === 'system') return text;
    return `${li.querySelector('.author')?.textContent ?? '?'}: ${text}`;
  }));
}

// focused describes the element that has the focus: its id, else its tag
// and class.
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    return el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`;
  });
}

// tabTo presses Tab (Shift+Tab when back) until the focus is on an element
// matching selector, and fails after max presses.
async function tabTo(page, selector, { back = false, max = 30 } = {}) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    if (await page.evaluate((s) => !!document.activeElement && document.activeElement.matches(s), selector)) return;
    seen.push(await focused(page));
  }
  assert.fail(`${selector} not reached with ${back ? 'Shift+Tab' : 'Tab'}: went through ${seen.join(' ')}`);
}

async function shot(person, file) {
  await person.page.screenshot({ path: joinPath(SHOTS, file), animations: 'disabled' });
}

function noErrors(...people) {
  for (const p of people) assert.deepEqual(p.errors, [], 'errors on the page');
}

// ---------- the tests ----------

check('keyboard only: every control is reached and used, and the focus is never dropped', { timeout: 60_000 }, async (t) => {
  const { open, bot } = scene(t);
  const archivist = await bot('Keeper', { rooms: ['kb-archive'] });
  for (let i = 1; i <= ARCHIVE; i++) assert.equal((await archivist.say(`archive ${i}`, 'kb-archive')).ok, true);

  const kim = await open();
  const { page } = kim;
  assert.equal(await focused(page), '#name-input', 'the name field has the focus');
  await join(kim, 'Kim');
  assert.equal(await focused(page), '#message-input', 'the composer has the focus once joined');

  // The send button, by keyboard.
  await page.keyboard.type('sent with the button');
  await tabTo(page, '#send-button');
  await page.keyboard.press('Enter');
  await eventually(async () => assert.ok((await lines(page)).includes('You: sent with the button')));
  assert.equal(await focused(page), '#message-input', 'back in the composer after sending');

  // The room form, by keyboard: back from the composer to its field.
  await tabTo(page, '#room-input', { back: true });
  await page.keyboard.type('kb-archive');
  await page.keyboard.press('Enter');
  await eventually(async () => assert.equal(await page.textContent('#room-name'), 'kb-archive'));
  assert.equal(await focused(page), '#message-input', 'the composer has the focus in the new room');
  await eventually(async () => assert.equal(await page.locator('#messages button.load-older').count(), 1, 'earlier messages to load'));

  // From the log, Tab reaches "Load earlier messages", which loads them
  // (as the log scrolls to it) and keeps the focus; Enter loads a page
  // more, the focus still on it, and at the beginning the focus goes back
  // to the log; Tab from there reaches the composer.
  const state = () => page.$eval('#messages', (ul) => ul.dataset.state);
  const count = () => page.locator('#messages li.msg').count();
  await tabTo(page, 'ul.messages', { back: true });
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), '#load-older', 'Tab from the log reaches "Load earlier messages"');
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 5, 'too many pages');
    await eventually(async () => assert.notEqual(await state(), 'loading'));
    if (await state() === 'beginning') break;
    assert.equal(await focused(page), '#load-older', 'the focus stays on the button once a page is loaded');
    const before = await count();
    await page.keyboard.press('Enter');
    // The state and the focus read at one moment: a page that arrives
    // between two reads may be the last, which sends the focus to the log.
    const [now, focus] = await page.evaluate(() => [document.querySelector('#messages').dataset.state, document.activeElement?.id]);
    if (now === 'loading') assert.equal(focus, 'load-older', 'the focus stays on the button while it loads');
    await eventually(async () => assert.ok(await count() > before, 'a page more'));
  }
  assert.equal(await count(), ARCHIVE);
  assert.equal(await focused(page), '#messages', 'the focus goes back to the log at the beginning');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), '#message-input', 'Tab from the log reaches the composer');

  // A list of rooms redrawn under the focus keeps it.
  await tabTo(page, '#rooms li[data-room="general"] button', { back: true });
  await archivist.say('a message that redraws the list of rooms', 'kb-archive');
  await eventually(async () => assert.equal((await lines(page)).at(-1), 'Keeper: a message that redraws the list of rooms'));
  await page.keyboard.press('Enter'); // to general
  await eventually(async () => assert.equal(await page.textContent('#room-name'), 'general'));
  await tabTo(page, '#rooms li[data-room="kb-archive"] button', { back: true });
  await archivist.say('another one, with the focus on its room', 'kb-archive');
  await eventually(async () => assert.equal(await page.getAttribute('#rooms li[data-room="kb-archive"]', 'data-unread'), '1'));
  assert.equal(await focused(page), 'button.room-link', 'the focus stays on the room redrawn');
  assert.equal(await page.evaluate(() => document.activeElement.closest('li').dataset.room), 'kb-archive');
  await page.keyboard.press('Enter');
  await eventually(async () => assert.equal(await page.textContent('#room-name'), 'kb-archive'));
  assert.equal(await focused(page), '#message-input', 'a room picked by keyboard gives the composer the focus');

  // The "new messages" button, reached by Tab from the log.
  await page.$eval('#messages', (m) => { m.scrollTop = 0; });
  await archivist.say('news below', 'kb-archive');
  await page.locator('#new-messages').waitFor({ state: 'visible' });
  await tabTo(page, 'ul.messages', { back: true });
  await tabTo(page, '#new-messages');
  await page.keyboard.press('Enter');
  await page.locator('#new-messages').waitFor({ state: 'hidden' });
  assert.equal(await focused(page), '#message-input', 'the composer has the focus after the jump');

  // Leave, by keyboard: the focus goes to the composer of general.
  await tabTo(page, '#leave-room', { back: true });
  await page.keyboard.press('Enter');
  await eventually(async () => assert.equal(await page.textContent('#room-name'), 'general'));
  assert.equal(await focused(page), '#message-input', 'the composer has the focus after leaving');

  // "More rooms" lists the room left: join it again by keyboard.
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await page.locator('#more-rooms li[data-room="kb-archive"]').waitFor();
  await tabTo(page, '#more-rooms li[data-room="kb-archive"] button', { back: true, max: 40 });
  await page.keyboard.press('Enter');
  await eventually(async () => assert.equal(await page.textContent('#room-name'), 'kb-archive'));
  assert.equal(await focused(page), '#message-input', 'the composer has the focus in the room joined again');
  noErrors(kim);
});

check('keyboard only on a phone: the panels open, are used and close by keyboard', { timeout: 30_000 }, async (t) => {
  const { open, bot } = scene(t);
  await bot('Pia', { rooms: ['kb-phone'] });
  const lee = await open({ viewport: PHONE });
  const { page } = lee;
  await join(lee, 'Lee');
  await enterRoom(lee, 'kb-phone');
  await page.locator('#message-input').focus();

  await tabTo(page, '#rooms-toggle', { back: true });
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), '#rooms-close', 'the rooms panel opens with the focus on its close button');
  await tabTo(page, '#rooms li[data-room="general"] button');
  await page.keyboard.press('Enter');
  await eventually(async () => assert.equal(await page.textContent('#room-name'), 'general'));
  assert.equal(await focused(page), '#rooms-toggle', 'the focus returns to the rooms button');
  assert.equal(await page.getAttribute('#rooms-toggle', 'aria-expanded'), 'false');

  await page.keyboard.press('Enter');
  assert.equal(await focused(page), '#rooms-close');
  await page.keyboard.press('Escape');
  assert.equal(await focused(page), '#rooms-toggle', 'Escape closes the panel and returns the focus');

  await tabTo(page, '#users-toggle');
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), '#users-close', 'the list of people opens with the focus on its close button');
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), '#users-toggle', 'closing it returns the focus');
  noErrors(lee);
});

// charX is where the first ch in the text of the element matching selector
// is drawn: the left edge of its box, in CSS pixels.
function charX(page, selector, ch) {
  return page.$eval(selector, (el, ch) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const i = n.data.indexOf(ch);
      if (i < 0) continue;
      const r = document.createRange();
      r.setStart(n, i);
      r.setEnd(n, i + ch.length);
      return r.getBoundingClientRect().left;
    }
    throw new Error(`${ch} not in ${el.textContent}`);
  }, ch);
}

// isolated reports whether the element matching selector keeps its text's
// direction to itself (bdi, or dir="auto": unicode-bidi isolate).
function isolated(page, selector) {
  return page.$eval(selector, (el) => ['isolate', 'plaintext'].includes(getComputedStyle(el).unicodeBidi));
}

check('right-to-left text: messages, names and the composer take their own direction', { timeout: 30_000 }, async (t) => {
  const { open, bot } = scene(t);
  const ROOM = 'مجلس';
  const nadia = await open();
  const { page } = nadia;
  await page.locator('#name-input').focus();
  await page.keyboard.type('نادية');
  assert.equal(await page.$eval('#name-input', (el) => el.matches(':dir(rtl)')), true, 'the name field writes Arabic right to left');
  await page.keyboard.press('Enter');
  await page.locator('#chat-view').waitFor({ state: 'visible' });
  await enterRoom(nadia, ROOM);
  assert.equal(await isolated(page, '#room-name'), true, 'the room name in the head is isolated');
  assert.equal(await isolated(page, `#rooms li[data-room="${ROOM}"] .room-label`), true, 'the room name in the list is isolated');

  // A name ending in punctuation keeps it on its own side in "X joined".
  const salma = await bot('سلمى!', { rooms: [ROOM] });
  const joinedLine = `#messages li[data-kind="system"]:last-child strong`;
  await eventually(async () => assert.equal(await page.textContent(joinedLine), 'سلمى!'));
  assert.equal(await isolated(page, joinedLine), true, 'a name in a system line is isolated');
  assert.ok(await charX(page, joinedLine, '!') < await charX(page, joinedLine, 'س'), 'the "!" of سلمى! is at its left end');
  assert.equal(await isolated(page, '#users li[data-name="سلمى!"] .user-name'), true, 'a name in the list of people is isolated');

  // Messages: Arabic right to left, with its punctuation at its left end;
  // English left to right, in the same log.
  await salma.say('مرحبا بالجميع!', ROOM);
  await salma.say('Meeting at 10:30, ok?', ROOM);
  const last = (n) => `#messages li.msg:nth-last-child(${n}) .text`;
  await eventually(async () => assert.equal(await page.textContent(last(1)), 'Meeting at 10:30, ok?'));
  assert.equal(await page.$eval(last(2), (el) => el.matches(':dir(rtl)')), true, 'an Arabic message is right to left');
  assert.ok(await charX(page, last(2), '!') < await charX(page, last(2), 'م'), 'its "!" is at its left end');
  assert.equal(await page.$eval(last(1), (el) => el.matches(':dir(ltr)')), true, 'an English message is left to right');
  assert.equal(await isolated(page, '#messages li.msg:nth-last-child(1) .author'), true, 'the author is isolated');

  // The composer takes the direction of what is typed in it.
  await page.locator('#message-input').focus();
  await page.keyboard.type('أهلا سلمى، الاجتماع الساعة 10:30؟');
  assert.equal(await page.$eval('#message-input', (el) => el.matches(':dir(rtl)')), true, 'the composer writes Arabic right to left');
  await page.keyboard.press('Enter');
  await eventually(async () => assert.equal(await page.textContent(last(1)), 'أهلا سلمى، الاجتماع الساعة 10:30؟'));
  assert.equal(await page.$eval(last(1), (el) => el.matches(':dir(rtl)')), true, 'our Arabic message is right to left');
  await page.fill('#message-input', 'and now English');
  assert.equal(await page.$eval('#message-input', (el) => el.matches(':dir(ltr)')), true, 'then English left to right');
  await page.fill('#message-input', '');

  // Who is typing: names isolated too.
  salma.socket.emit('typing', { room: ROOM, typing: true });
  await page.locator('#typing strong').waitFor();
  assert.equal(await isolated(page, '#typing strong'), true, 'a name in "is typing" is isolated');
  await salma.say('أراكم هناك 🙂', ROOM);
  await eventually(async () => assert.equal(await page.textContent(last(1)), 'أراكم هناك 🙂'));
  await shot(nadia, 'desktop-arabic.png');
  noErrors(nadia);
});

check('links and formatting: safe links that open apart, code, bold and italic; javascript: stays text', { timeout: 30_000 }, async (t) => {
  const { open, bot } = scene(t);
  const ROOM = 'formatting';
  const fay = await open();
  const { page } = fay;
  await join(fay, 'Fay');
  await enterRoom(fay, ROOM);
  const gus = await bot('Gus', { rooms: [ROOM] });
  const own = `${BASE}/?from=link`;
  const texts = [
    `Docs at ${own}, and www.example.org.`,
    'Write to mailto:team@example.com',
    'javascript:window.__pwned=1 and JAVASCRIPT:alert(1) and data:text/html,<b>x</b>',
    '<a href="javascript:window.__pwned=1">click</a>',
    'Run `npm test` then **ship it** _today_ or *tomorrow*',
    '```\nline 1\n  line 2 <img src=x onerror="window.__pwned=1">\n```',
    '**<img src=x onerror="window.__pwned=1">**',
  ];
  for (const text of texts) assert.equal((await gus.say(text, ROOM)).ok, true);
  await eventually(async () => assert.equal(await page.locator('#messages li.msg').count(), texts.length));
  const bubbles = page.locator('#messages li.msg .text');

  const links = await bubbles.nth(0).locator('a').evaluateAll((as) => as.map((a) => ({
    text: a.textContent, href: a.getAttribute('href'), rel: a.rel, target: a.target,
  })));
  assert.deepEqual(links, [
    { text: own, href: own, rel: 'noopener noreferrer', target: '_blank' },
    { text: 'www.example.org', href: 'https://www.example.org', rel: 'noopener noreferrer', target: '_blank' },
  ]);
  assert.equal(await bubbles.nth(0).textContent(), texts[0], 'the text reads as sent');
  assert.equal(await bubbles.nth(1).locator('a').getAttribute('href'), 'mailto:team@example.com');
  for (const n of [2, 3]) {
    assert.equal(await bubbles.nth(n).locator('a').count(), 0, `no link in ${texts[n]}`);
    assert.equal(await bubbles.nth(n).textContent(), texts[n]);
  }
  const styled = bubbles.nth(4);
  assert.equal(await styled.locator('code').textContent(), 'npm test');
  assert.equal(await styled.locator('strong').textContent(), 'ship it');
  assert.deepEqual(await styled.locator('em').allTextContents(), ['today', 'tomorrow']);
  assert.equal(await styled.textContent(), 'Run npm test then ship it today or tomorrow');
  assert.equal(await bubbles.nth(5).locator('pre code').textContent(), 'line 1\n  line 2 <img src=x onerror="window.__pwned=1">');
  assert.equal(await page.locator('#messages img').count(), 0, 'no <img> in the log');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);

  // Our own messages are formatted too.
  await say(fay, 'my **own** link: www.example.com');
  await eventually(async () => assert.equal(await page.locator('#messages li.msg.mine .text a').getAttribute('href'), 'https://www.example.com'));
  assert.equal(await page.locator('#messages li.msg.mine .text strong').textContent(), 'own');

  // A link opens in a new tab, which knows neither the page nor where it
  // came from.
  const [tab] = await Promise.all([fay.context.waitForEvent('page'), bubbles.nth(0).locator('a').first().click()]);
  await tab.waitForLoadState('domcontentloaded');
  assert.equal(new URL(tab.url()).search, '?from=link');
  assert.equal(await tab.evaluate(() => window.opener), null, 'no window.opener');
  assert.equal(await tab.evaluate(() => document.referrer), '', 'no referrer');
  await tab.close();
  await shot(fay, 'desktop-formatting.png');
  noErrors(fay);
});

// codePoints counts as the server counts a message: in Unicode code points.
const codePoints = (s) => [...s].length;

check('long messages: counted as the server counts, never cut, refused with a clear message when too long', { timeout: 30_000 }, async (t) => {
  const { open, bot } = scene(t);
  const ROOM = 'lengths';
  const hal = await open();
  const { page } = hal;
  await join(hal, 'Hal');
  await enterRoom(hal, ROOM);
  const ivy = await bot('Ivy', { rooms: [ROOM] });
  const got = [];
  ivy.socket.on('chat-message', (m) => got.push(m.message));
  const input = page.locator('#message-input');
  const value = () => input.inputValue();

  // 1,500 emoji are 3,000 UTF-16 units but 1,500 characters: all kept, and
  // sent whole.
  const emoji = '😀'.repeat(1500);
  await input.focus();
  await page.keyboard.insertText(emoji);
  assert.equal(codePoints(await value()), 1500, 'the paste is kept whole');
  await page.keyboard.press('Enter');
  await eventually(() => assert.deepEqual(got.map(codePoints), [1500], 'Ivy got the 1,500 emoji'));
  assert.equal(got[0], emoji);

  // 2,037 characters: kept, the count shows the overflow, and sending is
  // refused with a message that says by how much; nothing is sent.
  await page.keyboard.insertText('a'.repeat(2000) + '😀'.repeat(37));
  assert.equal(codePoints(await value()), 2037, 'nothing is cut');
  await eventually(async () => assert.equal(await page.locator('#char-count').isVisible(), true));
  assert.match(await page.textContent('#char-count'), /2,037\s*\/\s*2,000/);
  assert.match(await page.textContent('#char-count'), /37 too many/);
  assert.equal(await page.getAttribute('#message-input', 'aria-invalid'), 'true');
  await page.keyboard.press('Enter');
  await page.locator('#composer-error').waitFor({ state: 'visible' });
  assert.match(await page.textContent('#composer-error'), /37 characters too long/);
  assert.equal(codePoints(await value()), 2037, 'the text stays in the composer');
  await page.click('#send-button');
  assert.equal(codePoints(await value()), 2037, 'the send button does not send it either');
  await shot(hal, 'desktop-too-long.png');

  // On a phone, the count is shown too.
  await page.setViewportSize(PHONE);
  assert.equal(await page.locator('#char-count').isVisible(), true, 'the count shows on a phone');
  await shot(hal, 'phone-too-long.png');
  await page.setViewportSize(DESKTOP);

  // Shortened to the limit, it is sent.
  for (let k = 0; k < 37; k++) await page.keyboard.press('Backspace');
  assert.equal(codePoints(await value()), 2000);
  await eventually(async () => assert.equal(await page.locator('#composer-error').isVisible(), false, 'the error goes'));
  assert.equal(await page.getAttribute('#message-input', 'aria-invalid'), null);
  await page.keyboard.press('Enter');
  await eventually(() => assert.deepEqual(got.map(codePoints), [1500, 2000]));
  assert.equal(await page.locator('#messages li.msg.mine').count(), 2, 'only what was sent is shown');
  noErrors(hal);
});

check('drafts: each room keeps its own, across switches and a reload', { timeout: 30_000 }, async (t) => {
  const { open } = scene(t);
  const jo = await open();
  const { page } = jo;
  await join(jo, 'Jo');
  const ROOM = 'drafts';
  await enterRoom(jo, ROOM);
  const input = page.locator('#message-input');
  const switchTo = async (room) => {
    await page.click(`#rooms li[data-room="${room}"] button`);
    await eventually(async () => assert.equal(await page.textContent('#room-name'), room));
  };

  await switchTo('general');
  await input.focus();
  await page.keyboard.type('half a thought for general');
  await switchTo(ROOM);
  assert.equal(await input.inputValue(), '', `#${ROOM} has no draft yet`);
  await input.focus();
  await page.keyboard.type(`and one for ${ROOM}`);
  await switchTo('general');
  assert.equal(await input.inputValue(), 'half a thought for general', "general's draft is back");
  await switchTo(ROOM);
  assert.equal(await input.inputValue(), `and one for ${ROOM}`, `#${ROOM}'s draft is back`);

  // After a reload, in the same room, with the same drafts.
  await page.reload({ waitUntil: 'domcontentloaded' });
  await eventually(async () => assert.equal(await page.evaluate(() => window.parley.phase), 'joined'));
  await eventually(async () => assert.equal(await page.textContent('#room-name'), ROOM));
  assert.equal(await input.inputValue(), `and one for ${ROOM}`, 'the draft survives a reload');
  await switchTo('general');
  assert.equal(await input.inputValue(), 'half a thought for general');

  // A draft sent is gone.
  await input.focus();
  await page.keyboard.press('Enter');
  await eventually(async () => assert.ok((await lines(page)).includes('You: half a thought for general')));
  await switchTo(ROOM);
  await switchTo('general');
  assert.equal(await input.inputValue(), '', 'no draft once sent');
  noErrors(jo);
});

// logShape is the log on screen as short strings: "day:LABEL", "divider",
// and the text of each message and system line.
function logShape(page) {
  return page.$$eval('#messages > li', (lis) => lis.flatMap((li) => {
    if (li.classList.contains('day')) return [`day:${li.textContent}`];
    if (li.classList.contains('divider')) return ['divider'];
    if (li.dataset.kind === 'top') return [];
    return [li.querySelector('.text')?.textContent ?? ''];
  }));
}

check('"New messages" divider where the unread part starts', { timeout: 40_000 }, async (t) => {
  const { open, bot } = scene(t);
  const ROOM = 'divider-a';
  const kat = await open();
  const { page } = kat;
  await join(kat, 'Kat');
  await enterRoom(kat, ROOM);
  const lou = await bot('Lou', { rooms: [ROOM] });
  await lou.say('seen before', ROOM);
  await eventually(async () => assert.ok((await logShape(page)).includes('seen before')));
  const switchTo = async (room) => {
    await page.click(`#rooms li[data-room="${room}"] button`);
    await eventually(async () => assert.equal(await page.textContent('#room-name'), room));
  };

  // Said while Kat is in general: the divider comes before the first.
  await switchTo('general');
  for (const text of ['unread 1', 'unread 2', 'unread 3']) await lou.say(text, ROOM);
  await eventually(async () => assert.equal(await page.getAttribute(`#rooms li[data-room="${ROOM}"]`, 'data-unread'), '3'));
  await switchTo(ROOM);
  let shape = await logShape(page);
  assert.deepEqual(shape.slice(shape.indexOf('seen before')), ['seen before', 'divider', 'unread 1', 'unread 2', 'unread 3']);
  assert.equal(await page.textContent('#messages li.divider'), 'New messages');
  // While she reads, what comes is seen: the divider stays where it is.
  await lou.say('read at once', ROOM);
  await eventually(async () => assert.equal((await logShape(page)).at(-1), 'read at once'));
  assert.deepEqual((await logShape(page)).slice(-5), ['divider', 'unread 1', 'unread 2', 'unread 3', 'read at once']);
  // Her own message: she has caught up, the divider goes.
  await say(kat, 'caught up');
  await eventually(async () => assert.equal(await page.locator('#messages li.divider').count(), 0));

  // A hidden tab: the divider marks what came meanwhile, and it stays
  // while she reads; hidden again, it goes, and comes back with new ones.
  await page.evaluate(() => window.__hide(true));
  await lou.say('while away 1', ROOM);
  await lou.say('while away 2', ROOM);
  await eventually(async () => assert.deepEqual((await logShape(page)).slice(-3), ['divider', 'while away 1', 'while away 2']));
  await page.evaluate(() => window.__hide(false));
  await lou.say('while back', ROOM);
  await eventually(async () => assert.deepEqual((await logShape(page)).slice(-4), ['divider', 'while away 1', 'while away 2', 'while back']));
  await page.evaluate(() => window.__hide(true));
  await eventually(async () => assert.equal(await page.locator('#messages li.divider').count(), 0, 'seen, then left: gone'));
  await lou.say('away again', ROOM);
  // Lou's answer may come before Kat's copy: she is back once it is there.
  await eventually(async () => assert.equal((await logShape(page)).at(-1), 'away again'));
  await page.evaluate(() => window.__hide(false));
  await eventually(async () => assert.deepEqual((await logShape(page)).slice(-2), ['divider', 'away again']));

  // Many unread: the room opens at the divider, not past it.
  await switchTo('general');
  for (let i = 1; i <= 40; i++) await lou.say(`many ${i}`, ROOM);
  await eventually(async () => assert.equal(await page.getAttribute(`#rooms li[data-room="${ROOM}"]`, 'data-unread'), '40'));
  await switchTo(ROOM);
  shape = await logShape(page);
  assert.equal(shape[shape.indexOf('many 1') - 1], 'divider');
  assert.equal(await page.$eval('#messages li.divider + li.msg', (li) => li.classList.contains('cont')), false,
    'the first unread message shows its author');
  const inView = await page.$eval('#messages', (ul) => {
    const d = ul.querySelector('li.divider').getBoundingClientRect();
    const v = ul.getBoundingClientRect();
    return d.top >= v.top && d.bottom <= v.bottom;
  });
  assert.equal(inView, true, 'the divider is in view');
  await page.locator('#new-messages').waitFor({ state: 'visible' });
  await shot(kat, 'desktop-divider.png');
  noErrors(kat);
});

check('date separators between days', { timeout: 30_000 }, async (t) => {
  const { open } = scene(t);
  const mo = await open({ timezoneId: 'UTC' });
  const { page } = mo;
  await join(mo, 'Mo');
  await enterRoom(mo, 'days');
  await eventually(async () => assert.ok((await logShape(page)).includes('Yesterday.')));
  await say(mo, 'And today.');
  await eventually(async () => assert.ok((await logShape(page)).includes('And today.')));
  const shape = await logShape(page);
  const day3 = new Date(Date.now() - 72 * 3600e3).toLocaleDateString('en-US', { weekday: 'long', month: 'long', day: 'numeric', timeZone: 'UTC' });
  assert.deepEqual(shape, [
    `day:${day3}`, 'Three days ago, first.', 'Three days ago, second.',
    'day:Yesterday', 'Yesterday.',
    'day:Today', 'You joined', 'And today.',
  ]);
  // The two messages of three days ago, a minute apart, are one group.
  assert.deepEqual(await page.$$eval('#messages li.msg', (lis) => lis.map((li) => li.classList.contains('cont'))), [false, true, false, false]);
  const times = await page.$$eval('#messages li.msg time', (ts) => ts.map((e) => e.textContent));
  assert.ok(times.every((s) => /^\d\d:\d\d$/.test(s)), `times are HH:MM under their day: ${times}`);
  await shot(mo, 'desktop-days.png');
  noErrors(mo);
});

// fontsOf lists the fonts the browser drew the element matching selector
// with: [{familyName, glyphCount}].
async function fontsOf(page, selector) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    return fonts.map((f) => ({ familyName: f.familyName, glyphCount: f.glyphCount }));
  } finally {
    await cdp.detach();
  }
}

check('emoji: drawn in a colour emoji font, text in the text font', { timeout: 30_000 }, async (t) => {
  const { open, bot } = scene(t);
  const ROOM = 'emoji';
  const ned = await open();
  const { page } = ned;
  await join(ned, 'Ned');
  await enterRoom(ned, ROOM);
  const ola = await bot('Ola', { rooms: [ROOM] });
  await ola.say('😀🙂☕🎉👍🏽🇫🇷', ROOM);
  await ola.say('Coffee at 10:30 ☕', ROOM);
  await eventually(async () => assert.equal(await page.locator('#messages li.msg').count(), 2));
  const stack = await page.evaluate(() => getComputedStyle(document.documentElement).fontFamily);
  for (const name of ['Apple Color Emoji', 'Segoe UI Emoji', 'Noto Color Emoji']) {
    assert.ok(stack.includes(`"${name}"`), `the font stack names ${name}: ${stack}`);
  }
  const emojiOnly = await fontsOf(page, '#messages li.msg:nth-last-child(2) .text');
  assert.deepEqual(emojiOnly.map((f) => f.familyName), ['Noto Color Emoji'], `emoji drawn with ${JSON.stringify(emojiOnly)}`);
  const mixed = await fontsOf(page, '#messages li.msg:nth-last-child(1) .text');
  const emojiFont = mixed.find((f) => f.familyName === 'Noto Color Emoji');
  assert.ok(emojiFont && emojiFont.glyphCount === 1, `☕ in colour: ${JSON.stringify(mixed)}`);
  assert.ok(mixed.some((f) => f.familyName !== 'Noto Color Emoji' && f.glyphCount >= 15), `the words and digits in a text font: ${JSON.stringify(mixed)}`);
  assert.equal(await page.$eval('#message-input', (el) => getComputedStyle(el).fontFamily), stack, 'the composer has the same fonts');
  await shot(ned, 'desktop-emoji.png');
  noErrors(ned);
});

// statuses records, in the page, each delivery state our message with text
// goes through (window.__statuses), from now on.
function watchStatuses(page, text) {
  return page.evaluate((text) => {
    window.__statuses = [];
    const seen = (li) => {
      const s = li.dataset.status;
      if (s && window.__statuses.at(-1) !== s) window.__statuses.push(s);
    };
    new MutationObserver(() => {
      for (const li of document.querySelectorAll('#messages li.msg.mine')) {
        if (li.querySelector('.text')?.textContent === text) seen(li);
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  }, text);
}

const mineStatus = (page, text) => page.$$eval('#messages li.msg.mine', (lis, text) =>
  lis.filter((li) => li.querySelector('.text')?.textContent === text).map((li) => li.dataset.status), text);

check('late acks and a flaky network: Offline at once, a delivered message never shown failed, sent once', { timeout: 60_000 }, async (t) => {
  const { open, bot } = scene(t);
  const ROOM = 'flaky';
  const pat = await open();
  const { page } = pat;
  await join(pat, 'Pat');
  await enterRoom(pat, ROOM);
  const quin = await bot('Quin', { rooms: [ROOM] });
  const got = [];
  quin.socket.on('chat-message', (m) => got.push(m));
  const sockets = () => page.evaluate(() => window.__parleySockets.filter((s) => s.readyState === 1).length);
  if (await sockets() === 0) {
    t.skip('no open WebSocket (the client is on long-polling)');
    return;
  }

  // The browser goes offline; its WebSocket stays open for now, as it
  // does until the heartbeat fails. The page says Offline at once, and
  // holds what is written meanwhile.
  await pat.context.setOffline(true);
  await eventually(async () => assert.equal(await page.getAttribute('#status', 'data-state'), 'offline'), 1000);
  assert.equal(await sockets(), 1, 'the WebSocket is still open');
  await say(pat, 'written while offline');
  await eventually(async () => assert.deepEqual(await mineStatus(page, 'written while offline'), ['pending']));
  // Back online on the same connection: it is checked, then used.
  await pat.context.setOffline(false);
  await eventually(async () => assert.equal(await page.getAttribute('#status', 'data-state'), 'connected'), 6000);
  await eventually(async () => assert.deepEqual(await mineStatus(page, 'written while offline'), ['sent']));
  await eventually(() => assert.deepEqual(got.map((m) => m.message), ['written while offline']));

  // The connection stalls: what the server sends is held back past the
  // ack's timeout. The message is stored and Quin has it, but its answer
  // is late: it stays pending, never failed, and is confirmed once the
  // connection moves again.
  const late = 'an answer that comes late';
  await watchStatuses(page, late);
  await page.evaluate(() => { window.__stall = true; });
  await say(pat, late);
  await eventually(() => assert.deepEqual(got.map((m) => m.message).slice(-1), [late]));
  // Past the page's 8 s ack timeout: the page says it waits for the
  // server (or, before, that it was not sent).
  await eventually(async () => {
    const st = await page.$eval('#messages li.msg.mine:last-child', (li) => ({ status: li.dataset.status, text: li.querySelector('.delivery').textContent }));
    assert.ok(st.status === 'failed' || st.text === 'Waiting for the server', `timed out: ${JSON.stringify(st)}`);
  }, 15_000, 200);
  assert.deepEqual(await mineStatus(page, late), ['pending'], 'still pending after the timeout');
  assert.equal(await page.locator('#messages li.msg.mine button.retry').count(), 0, 'no Retry');
  await page.evaluate(() => window.__release());
  await eventually(async () => assert.deepEqual(await mineStatus(page, late), ['sent']), 15_000);
  assert.deepEqual(await page.evaluate(() => window.__statuses), ['pending', 'sent'], 'never failed');
  const id = Number(await page.$eval('#messages li.msg.mine:last-child', (li) => li.dataset.id));
  assert.equal(id, got.at(-1).id, 'shown under the id the server gave it');

  // Its answer lost in a dropped connection: sent again on the new one,
  // with the same clientId, and stored once.
  const dropped = 'an answer lost when the connection drops';
  await watchStatuses(page, dropped);
  await page.evaluate(() => { window.__stall = true; });
  await say(pat, dropped);
  await eventually(() => assert.deepEqual(got.map((m) => m.message).slice(-1), [dropped]));
  await page.evaluate(() => {
    window.__stall = false;
    window.__held.length = 0; // lost with the connection
    for (const s of window.__parleySockets) if (s.readyState === 1) s.close();
  });
  await eventually(async () => assert.deepEqual(await mineStatus(page, dropped), ['sent']), 15_000);
  assert.ok(!(await page.evaluate(() => window.__statuses)).includes('failed'), 'never failed');
  await say(pat, 'and one more');
  await eventually(() => assert.deepEqual(got.map((m) => m.message),
    ['written while offline', late, dropped, 'and one more'], 'each once, in order'));
  assert.deepEqual((await lines(page)).filter((l) => l.startsWith('You: ')),
    ['You: written while offline', `You: ${late}`, `You: ${dropped}`, 'You: and one more'], 'each shown once');
  noErrors(pat);
});

check("the server's limits: a refusal retrying cannot fix has no Retry; names are not cut", { timeout: 30_000 }, async (t) => {
  const { open } = scene(t);
  const rae = await open();
  const { page } = rae;
  // A name is not cut as it is typed either: it is refused, by its count.
  await page.locator('#name-input').focus();
  await page.keyboard.insertText('n'.repeat(33) + '😀'.repeat(4));
  assert.equal(codePoints(await page.inputValue('#name-input')), 37, 'the name is kept whole');
  await page.keyboard.press('Enter');
  await page.locator('#name-error').waitFor({ state: 'visible' });
  assert.match(await page.textContent('#name-error'), /at most 32/);
  await page.fill('#name-input', '');
  await join(rae, 'Rae');

  // A character the server cannot store: refused, and no Retry, which
  // would be refused again; Edit puts the text back in the composer.
  await page.fill('#message-input', 'a NUL \u0000 inside');
  await page.press('#message-input', 'Enter');
  const bubble = page.locator('#messages li.msg.mine').last();
  await eventually(async () => assert.equal(await bubble.getAttribute('data-status'), 'failed'));
  assert.match(await bubble.locator('.delivery-error').textContent(), /cannot be stored/);
  assert.equal(await bubble.locator('button.retry').count(), 0, 'no Retry');
  await bubble.locator('button.edit').click();
  assert.equal(await page.inputValue('#message-input'), 'a NUL \u0000 inside');
  assert.equal(await focused(page), '#message-input');
  assert.equal(await page.locator('#messages li.msg.mine').count(), 0, 'the failed message is taken back');
  await page.fill('#message-input', '');
  noErrors(rae);
});

check("the server's limits: the page counts against those the server announces", { timeout: 30_000 }, async (t) => {
  const { open, bot } = scene(t);
  const probe = await bot('Probe', { url: LIMITS_URL });
  probe.close();
  const { name, message } = probe.res.limits;
  assert.deepEqual({ name, message }, LIMITS);
  const sue = await open({ url: LIMITS_URL });
  const { page } = sue;
  await join(sue, 'Sue');
  const input = page.locator('#message-input');
  await input.focus();
  await page.keyboard.insertText('x'.repeat(LIMITS.message + 1));
  assert.match(await page.textContent('#char-count'), new RegExp(`${LIMITS.message + 1} / ${LIMITS.message} · 1 too many`));
  await page.keyboard.press('Enter');
  await page.locator('#composer-error').waitFor({ state: 'visible' });
  assert.match(await page.textContent('#composer-error'), new RegExp(`1 character too long: at most ${LIMITS.message}`));
  assert.equal(await page.locator('#messages li.msg.mine').count(), 0, 'nothing sent');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Enter');
  await eventually(async () => assert.equal(await page.locator('#messages li.msg.mine[data-status="sent"]').count(), 1));
  noErrors(sue);
});

check('joins and leaves: a run of them is one line', { timeout: 60_000 }, async (t) => {
  const { open, bot } = scene(t);
  const ROOM = 'comings';
  const tom = await open();
  const { page } = tom;
  await join(tom, 'Tom');
  await enterRoom(tom, ROOM);
  const presence = () => page.$$eval('#messages li[data-presence]', (lis) => lis.map((li) => li.textContent));

  const four = [];
  for (const name of ['Uma', 'Vic', 'Wes', 'Xia']) four.push(await bot(name, { rooms: [ROOM] }));
  await eventually(async () => assert.deepEqual(await presence(), ['Uma, Vic and 2 others joined']));
  assert.deepEqual((await lines(page)).slice(-2), ['You joined', 'Uma, Vic and 2 others joined'], 'one line for the four');
  assert.match(await page.getAttribute('#messages li[data-presence]', 'title'), /Uma joined at .*\nVic joined at .*\nWes joined at .*\nXia joined at /);

  // Something said ends the run; the next comings and goings make a line
  // of their own: Uma leaves and comes back, Vic leaves, Yan comes and goes.
  await say(tom, 'Welcome, all four of you.');
  const [uma, vic] = four;
  assert.equal((await uma.ack('leave-room', ROOM)).ok, true);
  assert.equal((await uma.ack('join-room', { room: ROOM })).ok, true);
  assert.equal((await vic.ack('leave-room', ROOM)).ok, true);
  const yan = await bot('Yan', { rooms: [ROOM] });
  assert.equal((await yan.ack('leave-room', ROOM)).ok, true);
  await eventually(async () => assert.deepEqual(await presence(),
    ['Uma, Vic and 2 others joined', 'Uma came back; Vic left; Yan came and went']));
  assert.deepEqual((await lines(page)).slice(-2), ['You: Welcome, all four of you.', 'Uma came back; Vic left; Yan came and went']);
  await eventually(async () => assert.deepEqual(await page.$$eval('#users li', (lis) => lis.map((li) => li.dataset.name)),
    ['Tom', 'Uma', 'Wes', 'Xia']));

  // In general the words are the tutorial's: connected, disconnected.
  await page.click('#rooms li[data-room="general"] button');
  await eventually(async () => assert.equal(await page.textContent('#room-name'), 'general'));
  await say(tom, 'Anyone in general?');
  const zed = await bot('Zed');
  const abe = await bot('Abe');
  await eventually(async () => assert.equal((await lines(page)).at(-1), 'Zed and Abe connected'));
  // (The server may wait a grace period before it says someone left.)
  zed.close();
  await eventually(async () => assert.equal((await lines(page)).at(-1), 'Zed came and went; Abe connected'), 20_000);
  abe.close();
  await eventually(async () => assert.equal((await lines(page)).at(-1), 'Zed and Abe came and went'), 20_000);
  await shot(tom, 'desktop-presence.png');
  noErrors(tom);
});

check('mentions: highlighted for all, marked for the one mentioned; a notification when the tab is hidden, after asking once', { timeout: 40_000 }, async (t) => {
  const { open, bot } = scene(t);
  const ROOM = 'mentions';
  const people = {};
  for (const name of ['Vera', 'Walt', 'Yuri']) {
    people[name] = await open();
    await join(people[name], name);
    await enterRoom(people[name], ROOM);
  }
  const { Vera: vera, Walt: walt, Yuri: yuri } = people;
  const xan = await bot('Xan', { rooms: [ROOM] });
  const last = (p) => p.page.locator('#messages li.msg').last();
  const lastIs = (p, text) => eventually(async () => assert.equal(await last(p).locator('.text').textContent(), text));

  await xan.say('@Vera can you check the build? cc @walt', ROOM);
  for (const p of [vera, walt, yuri]) await lastIs(p, '@Vera can you check the build? cc @walt');
  for (const p of [vera, walt, yuri]) {
    assert.deepEqual(await last(p).locator('.mention').allTextContents(), ['@Vera', '@walt'], 'mentions highlighted for everyone');
  }
  assert.deepEqual(await last(vera).locator('.mention.me').allTextContents(), ['@Vera'], 'Vera sees her own marked');
  assert.deepEqual(await last(walt).locator('.mention.me').allTextContents(), ['@walt'], 'in any case');
  assert.equal(await last(yuri).locator('.mention.me').count(), 0);
  assert.equal(await last(vera).evaluate((li) => li.classList.contains('mentions-me')), true, 'the message is marked for Vera');
  assert.equal(await last(walt).evaluate((li) => li.classList.contains('mentions-me')), true, 'and for Walt');
  assert.equal(await last(yuri).evaluate((li) => li.classList.contains('mentions-me')), false, 'not for Yuri');
  await shot(vera, 'desktop-mention.png');

  // Notifications: never asked without a user action.
  const { page } = vera;
  await page.evaluate(() => window.__hide(true));
  await xan.say('@Vera are you there?', ROOM);
  await lastIs(vera, '@Vera are you there?');
  assert.equal(await page.evaluate(() => window.__permissionAsks), 0, 'permission not asked by itself');
  assert.deepEqual(await page.evaluate(() => window.__notes), [], 'no notification before she turned them on');
  await page.evaluate(() => window.__hide(false));

  // She turns them on, by keyboard: asked once.
  await page.locator('#message-input').focus();
  await tabTo(page, '#notify-toggle', { back: true, max: 40 });
  await page.keyboard.press('Enter');
  await eventually(async () => assert.equal(await page.getAttribute('#notify-toggle', 'aria-pressed'), 'true'));
  assert.equal(await page.evaluate(() => window.__permissionAsks), 1);
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#notify-toggle', 'aria-pressed'), 'false', 'off again');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#notify-toggle', 'aria-pressed'), 'true', 'on again');
  assert.equal(await page.evaluate(() => window.__permissionAsks), 1, 'asked once only');

  // Hidden: a mention raises a notification; other messages do not, nor
  // a mention while she looks.
  await page.click('#rooms li[data-room="general"] button');
  await page.evaluate(() => window.__hide(true));
  await xan.say('@Vera the build is green', ROOM);
  await xan.say('nothing for Vera here', ROOM);
  await eventually(async () => assert.equal(await page.getAttribute(`#rooms li[data-room="${ROOM}"]`, 'data-unread'), '2'));
  assert.deepEqual(await page.evaluate(() => window.__notes), [
    { title: `Xan mentioned you in #${ROOM}`, body: '@Vera the build is green', tag: `parley-${ROOM}` },
  ]);
  // Clicking it shows the room.
  await page.evaluate(() => window.__lastNote.onclick(new Event('click')));
  await page.evaluate(() => window.__hide(false));
  await eventually(async () => assert.equal(await page.textContent('#room-name'), ROOM));
  await xan.say('@Vera thanks!', ROOM);
  await lastIs(vera, '@Vera thanks!');
  assert.equal((await page.evaluate(() => window.__notes)).length, 1, 'none while she looks');

  // Turned on after a refusal of the browser: blocked, and not asked again.
  const zoe = await open();
  await zoe.page.evaluate(() => { window.__grant = 'denied'; });
  await join(zoe, 'Zoe');
  await zoe.page.click('#notify-toggle');
  await eventually(async () => assert.match(await zoe.page.getAttribute('#notify-toggle', 'title'), /blocked/));
  assert.equal(await zoe.page.getAttribute('#notify-toggle', 'aria-pressed'), 'false');
  await zoe.page.click('#notify-toggle');
  assert.equal(await zoe.page.evaluate(() => window.__permissionAsks), 1, 'not asked again');
  noErrors(vera, walt, yuri, zoe);
});

check('screenshots: desktop, phone, dark mode and an Arabic conversation', { timeout: 60_000 }, async (t) => {
  const { open, bot } = scene(t);
  const ROOM = 'design';
  const alice = await open();
  await join(alice, 'Alice');
  await enterRoom(alice, 'random');
  await enterRoom(alice, ROOM);
  const bob = await open({ viewport: PHONE });
  await join(bob, 'Bob');
  await enterRoom(bob, ROOM);
  const carol = await open({ colorScheme: 'dark' });
  await join(carol, 'Carol');
  await enterRoom(carol, ROOM);
  const lastText = (p) => p.page.locator('#messages li.msg .text').last().textContent();
  let count = 0;
  const said = async (p, text) => {
    await say(p, text);
    count++;
    for (const q of [alice, bob, carol]) {
      await eventually(async () => assert.equal(await q.page.locator('#messages li.msg[data-status="sent"], #messages li.msg.theirs').count(), count));
    }
  };
  await said(bob, 'Morning! The new mockups are up: https://example.com/mockups/v3');
  await said(carol, 'Looks great 🎉 I left a few notes on the **header** and the _empty states_.');
  await said(alice, 'Thanks both! @Carol can you share the colour tokens?');
  await said(carol, 'Sure: `--accent: #4f46e5`, the rest is in the doc.');
  await alice.page.click('#rooms li[data-room="general"] button');
  const dana = await bot('Dana', { rooms: [ROOM] });
  await dana.say('@Alice I can take the dark mode pass this afternoon ☕', ROOM);
  await dana.say('Then the phone layout tomorrow 📱', ROOM);
  await eventually(async () => assert.equal(await alice.page.getAttribute(`#rooms li[data-room="${ROOM}"]`, 'data-unread'), '2'));
  await alice.page.click(`#rooms li[data-room="${ROOM}"] button`);
  await eventually(async () => assert.equal(await lastText(alice), 'Then the phone layout tomorrow 📱'));
  await bob.page.locator('#message-input').pressSequentially('On my way', { delay: 20 });
  await eventually(async () => assert.match(await alice.page.textContent('#typing'), /Bob is typing/));
  for (const p of [alice, bob, carol]) {
    await eventually(async () => assert.equal(await lastText(p), 'Then the phone layout tomorrow 📱'));
    const overflow = await p.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling: ${overflow}px`);
  }
  await shot(alice, 'desktop.png');
  await shot(bob, 'phone.png');
  await shot(carol, 'desktop-dark.png');
  await carol.page.setViewportSize(PHONE);
  await shot(carol, 'phone-dark.png');

  // An Arabic conversation, on a desktop and on a phone.
  const AR = 'مجلس';
  const nadia = await open();
  await join(nadia, 'ليلى');
  await enterRoom(nadia, AR);
  const salma = await bot('سلمى', { rooms: [AR] });
  const omar = await bot('عمر', { rooms: [AR] });
  await salma.say('صباح الخير! هل رأيتم التصميم الجديد؟ https://example.com/تصميم', AR);
  await omar.say('نعم، أعجبني كثيرا 👍 الاجتماع الساعة 10:30؟', AR);
  await say(nadia, '@سلمى شكرا! سأرسل ملاحظاتي **اليوم**.');
  await eventually(async () => assert.equal(await nadia.page.locator('#messages li.msg.mine[data-status="sent"]').count(), 1));
  await omar.say('Great, see you at 10:30 then.', AR);
  await eventually(async () => assert.equal(await lastText(nadia), 'Great, see you at 10:30 then.'));
  await shot(nadia, 'desktop-arabic.png');
  await nadia.page.setViewportSize(PHONE);
  await shot(nadia, 'phone-arabic.png');
  noErrors(alice, bob, carol, nadia);
});
