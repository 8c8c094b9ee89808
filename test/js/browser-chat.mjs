// browser-chat.mjs drives parley's chat page in headless Chromium: three
// people join, chat, try to inject HTML, flood, scroll, lose their
// connection and leave, and a fourth is refused a taken name, then sees the
// room's history. (Rooms, scrollback and typing: browser-rooms.mjs.)
//
//   PARLEY_URL=http://127.0.0.1:3000 node --test test/js/browser-chat.mjs
//
// Environment:
//   PARLEY_URL    a freshly started parley server; required. (The page now
//                 speaks parley's whole contract: tokens, rooms, history,
//                 typing.)
//   PARLEY_SHOTS  directory for screenshots (default /tmp/parley-shots).
//   PARLEY_CHROMIUM  browser binary (default /usr/bin/chromium).
//
// Needs /usr/bin/chromium (Debian package); without it the test is skipped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { chromium } from 'playwright-core';
import {
  BASE, CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, SHOTS, skip,
} from './page-helpers.mjs';
import { eventually, withDeadline } from './helpers.mjs';

const XSS = '<img src=x onerror="window.__pwned=1">';
const FLOOD = 50;



// ---------- helpers ----------

// transcript is what a reader sees in the log since joining, one string
// per line: "You joined", "Bob connected", "You: hi", "Bob: hello".
// Messages from before (history, data-history="true") are left out; see
// history().
function transcript(page) {
  return page.$$eval('#messages li[data-kind]:not([data-kind="top"]):not([data-history="true"])', (lis) => lis.map((li) => {
    const text = li.querySelector('.text')?.textContent ?? '';
    if (li.dataset.kind === 'system') return text;
    return `${li.querySelector('.author')?.textContent ?? '?'}: ${text}`;
  }));
}

// history is the messages from before joining, as "NAME: text".
function history(page) {
  return page.$$eval('#messages li[data-history="true"]', (lis) => lis.map((li) =>
    `${li.dataset.author}: ${li.querySelector('.text')?.textContent ?? ''}`));
}

function usersOnline(page) {
  return page.$$eval('#users li', (lis) => lis.map((li) => li.dataset.name).sort());
}

// ---------- the test ----------

test('three people chat through the page', { skip, timeout: 60_000 }, async (t) => {
  const started = Date.now();
  let browser = null;
  const contexts = [];
  t.after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
  });

  const base = BASE;
  t.diagnostic(`server ${base}`);
  mkdirSync(SHOTS, { recursive: true });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 20_000,
  });

  const people = {}; // name -> { page, context, expected: string[], errors: string[] }

  async function open(name, { viewport = DESKTOP, colorScheme = 'light' } = {}) {
    const context = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
    contexts.push(context);
    // Keep a handle on every WebSocket so the test can cut the connection.
    await context.addInitScript(() => {
      const Native = window.WebSocket;
      window.__parleySockets = [];
      window.WebSocket = class extends Native {
        constructor(...args) {
          super(...args);
          window.__parleySockets.push(this);
        }
      };
    });
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    const person = { name, page, context, expected: [], errors: [], scripts: [] };
    page.on('pageerror', (err) => person.errors.push(`pageerror: ${err.message}`));
    page.on('response', (res) => {
      if (res.request().resourceType() !== 'script') return;
      person.scripts.push({ path: new URL(res.url()).pathname, status: res.status(), type: res.headers()['content-type'] });
    });
    page.on('console', (msg) => {
      // A connection refused while the test keeps a page offline is
      // expected; nothing else is.
      if (msg.type() === 'error' && !/ERR_INTERNET_DISCONNECTED/.test(msg.text())) {
        person.errors.push(`console: ${msg.text()}`);
      }
    });
    await page.goto(base, { waitUntil: 'domcontentloaded' });
    await page.locator('#name-input').waitFor({ state: 'visible' });
    people[name] = person;
    return person;
  }

  async function join(person, name = person.name) {
    await person.page.fill('#name-input', name);
    await person.page.press('#name-input', 'Enter');
  }

  async function say(person, text) {
    const lines = text.split('\n');
    const input = person.page.locator('#message-input');
    await input.fill(lines[0]);
    for (const line of lines.slice(1)) {
      await input.press('Shift+Enter');
      await input.pressSequentially(line);
    }
    await input.press('Enter');
  }

  // expectAll waits until every listed person's log equals their expected
  // transcript exactly: right lines, right order, no duplicates.
  async function expectAll(names = Object.keys(people), ms = 8000) {
    await Promise.all(names.map((n) => eventually(async () => {
      assert.deepEqual(await transcript(people[n].page), people[n].expected, `${n}'s transcript`);
    }, ms)));
  }

  async function expectUsers(names, list, ms = 5000) {
    const want = [...list].sort();
    await Promise.all(names.map((n) => eventually(async () => {
      assert.deepEqual(await usersOnline(people[n].page), want, `${n}'s online list`);
    }, ms)));
  }

  async function expectNoMineLeft(person, status, ms = 8000) {
    await eventually(async () => {
      const bad = await person.page.$$eval(`#messages li[data-kind="mine"]:not([data-status="${status}"])`, (l) => l.length);
      assert.equal(bad, 0, `${person.name}: own messages not yet ${status}`);
    }, ms);
  }

  async function shot(person, file) {
    await person.page.screenshot({ path: joinPath(SHOTS, file), animations: 'disabled' });
  }

  const say3 = async (from, text) => {
    await say(people[from], text);
    for (const p of Object.values(people)) {
      if (p.page.isClosed() || !p.joined) continue;
      p.expected.push(p.name === from ? `You: ${text}` : `${from}: ${text}`);
    }
  };

  let broken = null;
  async function step(name, ms, fn) {
    await t.test(name, { skip: broken ? `earlier step "${broken}" failed` : false }, async (st) => {
      try {
        await withDeadline(name, ms, () => fn(st));
      } catch (err) {
        broken = name;
        throw err;
      }
    });
  }

  await step('Alice, Bob and Carol join', 20_000, async () => {
    const alice = await open('Alice');
    await shot(alice, 'desktop-join.png');
    await join(alice);
    alice.joined = true;
    alice.expected.push('You joined');
    await expectAll(['Alice']);
    await expectUsers(['Alice'], ['Alice']);
    assert.equal(await alice.page.locator('#name-form').isVisible(), false, 'name form hidden after joining');
    assert.equal(await alice.page.evaluate(() => document.activeElement?.id), 'message-input', 'focus moves to the composer');

    const bob = await open('Bob', { viewport: PHONE });
    await join(bob);
    bob.joined = true;
    bob.expected.push('You joined');
    alice.expected.push('Bob connected');
    await expectAll();

    const carol = await open('Carol', { colorScheme: 'dark' });
    await join(carol);
    carol.joined = true;
    carol.expected.push('You joined');
    // One after the other, with nothing said between: one line.
    alice.expected[alice.expected.length - 1] = 'Bob and Carol connected';
    bob.expected.push('Carol connected');
    await expectAll();
    await expectUsers(['Alice', 'Bob', 'Carol'], ['Alice', 'Bob', 'Carol']);
    for (const p of [alice, bob, carol]) {
      assert.equal(await p.page.getAttribute('#status', 'data-state'), 'connected', `${p.name} status`);
      assert.equal(await p.page.getAttribute('#users li.me', 'data-name'), p.name, `${p.name} marked as "you"`);
    }
  });

  await step('they chat; each sees "You: …" for their own and "NAME: …" for others', 15_000, async () => {
    await say3('Alice', 'Hi everyone, welcome to Parley!');
    await expectAll();
    await say3('Bob', 'Hey Alice! Good to see you here.');
    await expectAll();
    await say3('Carol', 'Hello both.\nShift+Enter gives me a second line.');
    await expectAll();
    await say3('Alice', 'Lunch at 12:30? The café on the corner ☕');
    await expectAll();
    await say3('Bob', 'Sounds good, count me in');
    await say3('Bob', 'I will bring the slides for the afternoon review so we can go through them together over coffee.');
    await expectAll();
    for (const p of Object.values(people)) await expectNoMineLeft(p, 'sent');
    // Others' messages carry an HH:MM time stamp.
    const times = await people.Alice.page.$$eval('#messages li[data-kind] time', (ts) => ts.map((e) => e.textContent));
    assert.ok(times.length >= 6 && times.every((s) => /^\d\d:\d\d$/.test(s)), `HH:MM times, got ${times}`);
    await shot(people.Alice, 'desktop-chat.png');
    await shot(people.Bob, 'phone-chat.png');
    await shot(people.Carol, 'desktop-chat-dark.png');
    await people.Bob.page.click('#users-toggle');
    await people.Bob.page.locator('#users').waitFor({ state: 'visible' });
    await eventually(async () => {
      const box = await people.Bob.page.locator('#sidebar').boundingBox();
      assert.ok(box && box.x + box.width <= PHONE.width + 1, 'panel slid in');
    });
    await people.Bob.page.waitForTimeout(250); // let the slide-in transition finish for the picture
    await shot(people.Bob, 'phone-online-list.png');
    await people.Bob.page.keyboard.press('Escape');
    assert.equal(await people.Bob.page.evaluate(() => document.activeElement?.id), 'users-toggle', 'focus returns to the toggle');
  });

  await step('a message with HTML is shown as literal text', 8_000, async () => {
    await say3('Alice', XSS);
    await expectAll();
    for (const p of Object.values(people)) {
      assert.equal(await p.page.locator('#messages img').count(), 0, `${p.name}: no <img> in the log`);
      assert.equal(await p.page.evaluate(() => window.__pwned), undefined, `${p.name}: onerror ran`);
    }
  });

  await step(`${FLOOD} quick messages from Bob arrive in order`, 25_000, async () => {
    // One burst inside the page, each through the composer and its Enter
    // handler, so all 50 leave within a single task.
    const texts = Array.from({ length: FLOOD }, (_, i) => `quick ${String(i + 1).padStart(2, '0')}/${FLOOD}`);
    await people.Bob.page.evaluate((texts) => {
      const input = document.getElementById('message-input');
      for (const text of texts) {
        input.value = text;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
      }
    }, texts);
    for (const text of texts) {
      for (const p of Object.values(people)) p.expected.push(p.name === 'Bob' ? `You: ${text}` : `Bob: ${text}`);
    }
    await expectAll(undefined, 15_000);
    await expectNoMineLeft(people.Bob, 'sent');
    for (const p of Object.values(people)) {
      assert.equal(await p.page.evaluate(() => window.__pwned), undefined, `${p.name}: onerror ran`);
    }
  });

  await step('a reader who scrolled up gets a "new messages" button instead of a jump', 10_000, async () => {
    const { page } = people.Alice;
    await page.$eval('#messages', (m) => { m.scrollTop = 0; });
    await eventually(async () => assert.equal(await page.$eval('#messages', (m) => m.scrollTop), 0));
    await say3('Carol', 'Did everyone get that?');
    await expectAll();
    await page.locator('#new-messages').waitFor({ state: 'visible' });
    assert.equal(await page.$eval('#messages', (m) => m.scrollTop), 0, 'Alice was not scrolled away');
    await shot(people.Alice, 'desktop-new-messages.png');
    // Readers at the bottom follow along.
    for (const p of [people.Bob, people.Carol]) {
      assert.equal(await p.page.locator('#new-messages').isVisible(), false, `${p.name}: no button at the bottom`);
      assert.ok(await p.page.$eval('#messages', (m) => m.scrollHeight - m.scrollTop - m.clientHeight < 50), `${p.name} at bottom`);
    }
    await page.click('#new-messages');
    await page.locator('#new-messages').waitFor({ state: 'hidden' });
    await eventually(async () => {
      assert.ok(await page.$eval('#messages', (m) => m.scrollHeight - m.scrollTop - m.clientHeight < 50), 'Alice at bottom');
    });
  });

  await step('Alice loses her connection; nothing is lost or doubled either way', 20_000, async (st) => {
    const alice = people.Alice;
    const { page } = alice;
    const open = await page.evaluate(() => window.__parleySockets.filter((s) => s.readyState === 1).length);
    if (open === 0) {
      st.skip('no open WebSocket to cut (client is on long-polling)');
      return;
    }
    // Offline first, so that the page cannot reconnect until we say so;
    // then cut its WebSocket (going offline alone leaves it open).
    await alice.context.setOffline(true);
    await page.evaluate(() => {
      window.__states = [];
      const el = document.getElementById('status');
      new MutationObserver(() => window.__states.push(el.dataset.state))
        .observe(el, { attributes: true, attributeFilter: ['data-state'] });
      for (const s of window.__parleySockets) if (s.readyState === 1) s.close();
    });
    alice.expected.push('Connection lost. Reconnecting…');
    await expectAll(['Alice']);
    await eventually(async () => assert.equal(await page.getAttribute('#status', 'data-state'), 'offline'));

    // While she is away, the others talk, and she writes one herself.
    await say3('Bob', 'Alice, you there?');
    await say3('Carol', 'Her connection dropped, I think.');
    const mine = 'Typed while offline: sent once I am back.';
    await say(alice, mine);
    await page.locator('#messages li[data-kind="mine"][data-status="pending"]').waitFor();

    await alice.context.setOffline(false);
    alice.expected.push(`You: ${mine}`);
    for (const p of [people.Bob, people.Carol]) p.expected.push(`Alice: ${mine}`);
    // The server may announce a closed connection at once ("Alice
    // disconnected", then "Alice connected" when she is back, one line
    // "Alice came back" when nothing was said between) or not at all
    // within its grace period: accept either, as a pair.
    const flaps = ['Alice disconnected', 'Alice connected', 'Alice came back'];
    await eventually(async () => {
      // "Reconnected" comes when the page hears it is connected: before or
      // after the events it missed, depending on when the server replays
      // them; once, after "Connection lost".
      const seen = await transcript(page);
      const lost = seen.lastIndexOf('Connection lost. Reconnecting…');
      const back = seen.indexOf('Reconnected');
      assert.ok(back > lost && seen.lastIndexOf('Reconnected') === back, `one "Reconnected" after the drop: ${seen.slice(lost)}`);
      assert.deepEqual(seen.filter((l) => l !== 'Reconnected'), alice.expected, "Alice's transcript");
      for (const p of [people.Bob, people.Carol]) {
        const seen = await transcript(p.page);
        assert.deepEqual(seen.filter((l) => !flaps.includes(l)), p.expected, `${p.name}'s transcript`);
        const away = seen.filter((l) => flaps.includes(l));
        assert.ok(away.length === 0 || (away.length === 2 && away[0] === flaps[0] && away[1] === flaps[1]) ||
          (away.length === 1 && away[0] === flaps[2]),
          `${p.name} saw Alice leave and come back as a pair: ${away}`);
      }
    }, 12_000);
    for (const p of [people.Bob, people.Carol, alice]) p.expected = await transcript(p.page);
    await expectNoMineLeft(alice, 'sent');
    const states = await page.evaluate(() => window.__states);
    assert.ok(states.includes('offline') || states.includes('reconnecting'), `status showed the drop: ${states}`);
    assert.equal(await page.getAttribute('#status', 'data-state'), 'connected');
    await expectUsers(['Alice', 'Bob', 'Carol'], ['Alice', 'Bob', 'Carol']);
    await say3('Alice', 'Sorry, my connection dropped. Back now.');
    await expectAll();
  });

  await step('Carol closes her page; the others see her leave', 10_000, async () => {
    const carol = people.Carol;
    carol.joined = false;
    await carol.page.close();
    people.Alice.expected.push('Carol disconnected');
    people.Bob.expected.push('Carol disconnected');
    delete people.Carol;
    await expectAll();
    await expectUsers(['Alice', 'Bob'], ['Alice', 'Bob']);
  });

  await step('a taken or over-long name is refused with a visible error, then a free one works', 12_000, async () => {
    const dave = await open('Dave', { viewport: PHONE });
    const { page } = dave;
    // maxlength stops typing at 32; lift it to check the page's own check.
    await page.$eval('#name-input', (i) => { i.removeAttribute('maxlength'); });
    await page.fill('#name-input', 'x'.repeat(33));
    await page.press('#name-input', 'Enter');
    await page.locator('#name-error').waitFor({ state: 'visible' });
    assert.match(await page.textContent('#name-error'), /32/);

    await join(dave, 'Bob');
    await eventually(async () => {
      assert.equal(await page.locator('#name-error').isVisible(), true, 'error shown');
      assert.match(await page.textContent('#name-error'), /\S/);
      assert.doesNotMatch(await page.textContent('#name-error'), /32/, 'server error replaced the old one');
    });
    assert.equal(await page.locator('#name-form').isVisible(), true, 'still on the name form');
    assert.equal(await page.locator('#chat-view').isVisible(), false, 'chat not shown');
    assert.equal(await page.getAttribute('#name-input', 'aria-invalid'), 'true');
    await shot(dave, 'phone-name-taken.png');

    // Before joining, the page already shows what was said before:
    // general's last 50 messages, once each, in order.
    const said = people.Alice.expected
      .filter((l) => /^(You|[A-Z][a-z]+): /.test(l))
      .map((l) => l.replace(/^You: /, 'Alice: '));
    await eventually(async () => assert.deepEqual(await history(page), said.slice(-50), "Dave's history"));

    await join(dave, 'Dave');
    dave.joined = true;
    dave.expected.push('You joined');
    // Right after "Carol disconnected": the same line.
    for (const p of [people.Alice, people.Bob]) p.expected[p.expected.length - 1] = 'Carol disconnected; Dave connected';
    await expectAll();
    await expectUsers(['Alice', 'Bob', 'Dave'], ['Alice', 'Bob', 'Dave']);
    await say3('Dave', 'Hi, I am new here.');
    await expectAll();
  });

  await step('the page is ES modules, served as JavaScript; it is joined when live', 2_000, async () => {
    const { scripts } = people.Alice;
    const paths = scripts.map((s) => s.path);
    for (const want of ['/socket.io/socket.io.js', '/app.js', '/js/phase.js', '/js/connection.js']) {
      assert.ok(paths.includes(want), `Alice's page loaded ${want}: ${paths}`);
    }
    for (const s of scripts) {
      assert.ok(s.status === 200 || s.status === 304, `${s.path}: status ${s.status}`);
      assert.match(s.type || '', /javascript/, `${s.path}: Content-Type`);
    }
    for (const p of Object.values(people)) {
      if (p.page.isClosed()) continue;
      assert.equal(await p.page.evaluate(() => window.parley.phase), 'joined', `${p.name}'s phase`);
    }
  });

  await step('no script errors on any page', 2_000, async () => {
    for (const p of Object.values(people)) {
      assert.deepEqual(p.errors, [], `${p.name}: errors on the page`);
      assert.equal(await p.page.evaluate(() => window.__pwned), undefined);
    }
  });

  t.diagnostic(`screenshots in ${SHOTS}; took ${Date.now() - started} ms`);
});
