// browser-rooms.mjs drives parley's chat page in headless Chromium through
// what goes beyond the tutorial: history after a reload, scrollback, rooms
// (each with its own log, people and unread count), typing indicators, and
// reconnections that lose and double nothing.
//
//   PARLEY_URL=http://127.0.0.1:3000 node --test test/js/browser-rooms.mjs
//
// Environment:
//   PARLEY_URL    a freshly started parley server (empty store); required.
//   PARLEY_SHOTS  directory for screenshots (default /tmp/parley-shots).
//   PARLEY_CHROMIUM  browser binary (default /usr/bin/chromium).
//
// Needs /usr/bin/chromium (Debian package); without it the test is skipped.
// A few helpers join with the official socket.io-client, to fill a room or
// to type along.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { chromium } from 'playwright-core';
import {
  BASE, CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, SHOTS, skip,
} from './page-helpers.mjs';
import { eventually, withDeadline } from './helpers.mjs';
import { io } from 'socket.io-client';

const ARCHIVE = 120; // messages in the scrollback room
const FLOOD = 100; // messages sent while Alice is away


// ---------- helpers ----------

// lines is what a reader sees in the current room's log, one string per
// line: "You joined", "Bob joined", "You: hi", "Bob: hello"; history lines
// (from before joining) start with "~ ".
function lines(page) {
  return page.$$eval('#messages li[data-kind]:not([data-kind="top"])', (lis) => lis.map((li) => {
    const text = li.querySelector('.text')?.textContent ?? '';
    if (li.dataset.kind === 'system') return text;
    const line = `${li.querySelector('.author')?.textContent ?? '?'}: ${text}`;
    return li.dataset.history === 'true' ? `~ ${line}` : line;
  }));
}

// messages is the current log's messages: {id, author, text, history}.
function messages(page) {
  return page.$$eval('#messages li.msg', (lis) => lis.map((li) => ({
    id: li.dataset.id === undefined ? null : Number(li.dataset.id),
    author: li.dataset.author,
    text: li.querySelector('.text')?.textContent ?? '',
    history: li.dataset.history === 'true',
  })));
}

function usersOnline(page) {
  return page.$$eval('#users li', (lis) => lis.map((li) => li.dataset.name).sort());
}

function roomList(page) {
  return page.$$eval('#rooms li[data-room]', (lis) => lis.map((li) => ({
    room: li.dataset.room,
    active: li.classList.contains('active'),
    unread: li.dataset.unread,
  })));
}

// assertOnceInOrder checks that texts appear in got exactly once each, in
// this order.
function assertOnceInOrder(got, texts, label) {
  const seen = got.filter((m) => texts.includes(m.text));
  assert.deepEqual(seen.map((m) => m.text), texts, `${label}: each once, in order`);
  const ids = got.filter((m) => m.id !== null).map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, `${label}: no id twice`);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `${label}: ids in order`);
}

// bot is someone joined with the official client, for filling rooms and
// typing along.
async function bot(name) {
  const socket = io(BASE, { transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const ack = (...args) => socket.timeout(5000).emitWithAck(...args);
  const res = await ack('new-user', name);
  assert.equal(res.ok, true, `${name} joins: ${JSON.stringify(res)}`);
  return { socket, ack, close: () => socket.disconnect() };
}

// ---------- the test ----------

test('rooms, history, scrollback, typing and reconnections in the page', { skip, timeout: 90_000 }, async (t) => {
  const started = Date.now();
  let browser = null;
  const contexts = [];
  const bots = [];
  t.after(async () => {
    for (const b of bots) b.close();
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
  });
  t.diagnostic(`server ${BASE}`);
  mkdirSync(SHOTS, { recursive: true });

  // The transcripts below assume that nothing was said before.
  {
    const probe = await bot('Probe');
    const res = await probe.ack('list-rooms');
    probe.close();
    const said = (res.rooms || []).filter((r) => r.lastId > 0).map((r) => r.name);
    assert.deepEqual(said, [], 'this test needs a freshly started server with an empty store');
  }

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 20_000,
  });

  const people = {}; // name -> { name, page, context, errors }

  async function open(name, { viewport = DESKTOP, setup } = {}) {
    const context = await browser.newContext({ viewport, colorScheme: 'light', deviceScaleFactor: 1 });
    contexts.push(context);
    if (setup) await setup(context);
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    const person = { name, page, context, errors: [] };
    page.on('pageerror', (err) => person.errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      // A refused connection while offline is expected; nothing else is.
      if (msg.type() === 'error' && !/ERR_INTERNET_DISCONNECTED/.test(msg.text())) {
        person.errors.push(`console: ${msg.text()}`);
      }
    });
    await page.goto(BASE, { waitUntil: 'domcontentloaded' });
    await page.locator('#name-input').waitFor({ state: 'visible' });
    people[name] = person;
    return person;
  }

  async function join(person) {
    await person.page.fill('#name-input', person.name);
    await person.page.press('#name-input', 'Enter');
    await person.page.locator('#chat-view').waitFor({ state: 'visible' });
    await eventually(async () => assert.ok((await lines(person.page)).includes('You joined'), `${person.name} joined`));
  }

  async function say(person, text) {
    await person.page.fill('#message-input', text);
    await person.page.press('#message-input', 'Enter');
  }

  // burst sends texts from the composer within one task, as fast as a
  // person with a paste key could.
  function burst(person, texts) {
    return person.page.evaluate((texts) => {
      const input = document.getElementById('message-input');
      for (const text of texts) {
        input.value = text;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
      }
    }, texts);
  }

  async function enterRoom(person, room) {
    await person.page.fill('#room-input', room);
    await person.page.press('#room-input', 'Enter');
    await eventually(async () => {
      assert.equal(await person.page.textContent('#room-name'), room, `${person.name} is in #${room}`);
      assert.ok(await person.page.locator(`#rooms li[data-room="${room}"].active`).count(), `#${room} active in the list`);
    });
  }

  async function switchTo(person, room) {
    await person.page.click(`#rooms li[data-room="${room}"] button`);
    await eventually(async () => assert.equal(await person.page.textContent('#room-name'), room));
  }

  async function expectLines(person, want, ms = 8000) {
    await eventually(async () => assert.deepEqual(await lines(person.page), want, `${person.name}'s log`), ms);
  }

  async function expectUsers(person, want, ms = 5000) {
    await eventually(async () => assert.deepEqual(await usersOnline(person.page), [...want].sort(), `${person.name}'s online list`), ms);
  }

  async function expectAllSent(person, ms = 10_000) {
    await eventually(async () => {
      const left = await person.page.$$eval('#messages li[data-kind="mine"]:not([data-status="sent"])', (l) => l.length);
      assert.equal(left, 0, `${person.name}: own messages not yet sent`);
    }, ms);
  }

  async function shot(person, file) {
    await person.page.screenshot({ path: joinPath(SHOTS, file), animations: 'disabled' });
  }

  // drop cuts a person's connection and keeps them offline until the
  // returned function is called.
  async function drop(person) {
    await person.context.setOffline(true); // no reconnecting meanwhile
    await person.page.evaluate(() => window.parley.socket.io.engine.close());
    await eventually(async () => assert.equal(await person.page.getAttribute('#status', 'data-state'), 'offline'));
    const phase = () => person.page.evaluate(() => window.parley.phase);
    assert.equal(await phase(), 'away', `${person.name}'s phase while offline`);
    return async () => {
      await person.context.setOffline(false);
      await eventually(async () => assert.equal(await person.page.getAttribute('#status', 'data-state'), 'connected'), 10_000);
      await eventually(async () => assert.equal(await phase(), 'joined', `${person.name}'s phase once back`), 10_000);
    };
  }

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

  // The presence lines of someone whose connection closed and came back:
  // the server may announce both (one line when nothing was said between),
  // or neither (grace period).
  function withoutFlap(got, name) {
    const flap = [`${name} disconnected`, `${name} connected`, `${name} left`, `${name} joined`, `${name} came back`];
    return got.filter((l) => !flap.includes(l));
  }

  await step('(a) history: after a reload Alice sees what was said, once, in order; so does a late joiner', 15_000, async () => {
    const alice = await open('Alice');
    await join(alice);
    await say(alice, 'Morning all!');
    await say(alice, 'Coffee is on in the kitchen.');
    await say(alice, 'Standup in 10.');
    const bob = await open('Bob');
    await join(bob);
    await say(bob, 'Thanks Alice, on my way.');
    const said = ['Morning all!', 'Coffee is on in the kitchen.', 'Standup in 10.', 'Thanks Alice, on my way.'];
    await expectLines(alice, ['You joined', ...said.slice(0, 3).map((s) => `You: ${s}`), 'Bob connected', `Bob: ${said[3]}`]);
    await expectAllSent(alice);
    // Bob came after Alice's three: they are history to him.
    await expectLines(bob, [...said.slice(0, 3).map((s) => `~ Alice: ${s}`), 'You joined', `You: ${said[3]}`]);

    await alice.page.reload({ waitUntil: 'domcontentloaded' });
    // The tab comes back as Alice by itself, with what was said before.
    await alice.page.locator('#chat-view').waitFor({ state: 'visible' });
    const history = [...said.slice(0, 3).map((s) => `~ You: ${s}`), `~ Bob: ${said[3]}`];
    await expectLines(alice, [...history, 'You joined']);
    assert.equal(await alice.page.locator('#name-form').isVisible(), false, 'no name form after a reload');
    assertOnceInOrder(await messages(alice.page), said, 'Alice after reload');
    await eventually(async () => assert.deepEqual(withoutFlap(await lines(bob.page), 'Alice'),
      [...said.slice(0, 3).map((s) => `~ Alice: ${s}`), 'You joined', `You: ${said[3]}`]));

    const carol = await open('Carol', { viewport: PHONE });
    await eventually(async () => assertOnceInOrder(await messages(carol.page), said, 'Carol before joining'));
    await join(carol);
    await expectLines(carol, [...said.slice(0, 3).map((s) => `~ Alice: ${s}`), `~ Bob: ${said[3]}`, 'You joined']);
    for (const p of [alice, bob, carol]) await expectUsers(p, ['Alice', 'Bob', 'Carol']);
  });

  await step(`(b) scrollback: ${ARCHIVE} messages; the last 50 show, older ones load at the top, to the beginning`, 20_000, async () => {
    // Three helpers fill #archive, 40 messages each, one after the other
    // (each connection may send 60 events at once).
    const texts = Array.from({ length: ARCHIVE }, (_, i) => `archive ${String(i + 1).padStart(3, '0')}`);
    for (let k = 0; k < 3; k++) {
      const b = await bot(`Archivist${k + 1}`);
      bots.push(b);
      assert.equal((await b.ack('join-room', 'archive')).ok, true);
      const acks = await Promise.all(texts.slice(k * 40, (k + 1) * 40).map((text) => b.ack('send-chat-message', text, { room: 'archive' })));
      assert.ok(acks.every((a) => a.ok), `stored: ${JSON.stringify(acks.find((a) => !a.ok))}`);
    }
    while (bots.length) bots.pop().close();

    const { page } = people.Alice;
    await enterRoom(people.Alice, 'archive');
    await eventually(async () => {
      const got = await messages(page);
      assert.deepEqual(got.map((m) => m.text), texts.slice(-50), 'the last 50 first');
      assert.ok(got.every((m) => m.history), 'shown as history');
    });
    assert.equal(await page.getAttribute('#messages', 'data-state'), 'more');

    // Scroll to the top until the beginning; each page lands above what
    // the reader sees, without moving it.
    for (let round = 0; round < 5; round++) {
      if (await page.getAttribute('#messages', 'data-state') === 'beginning') break;
      const before = (await messages(page)).length;
      const firstId = (await messages(page))[0].id;
      const top = () => page.$eval(`#messages li[data-id="${firstId}"]`, (li) =>
        li.getBoundingClientRect().top - li.parentElement.getBoundingClientRect().top);
      // Where the oldest message is once scrolled to the top, before the
      // page can react to the scroll:
      const at = await page.$eval(`#messages li[data-id="${firstId}"]`, (li) => {
        li.parentElement.scrollTop = 0;
        return li.getBoundingClientRect().top - li.parentElement.getBoundingClientRect().top;
      });
      await eventually(async () => {
        assert.ok((await messages(page)).length > before || await page.getAttribute('#messages', 'data-state') === 'beginning', 'older messages came');
        assert.notEqual(await page.getAttribute('#messages', 'data-state'), 'loading');
      });
      assert.ok(Math.abs((await top()) - at) <= 2, `the view did not jump: ${at} -> ${await top()}`);
    }
    await eventually(async () => assert.equal(await page.getAttribute('#messages', 'data-state'), 'beginning'));
    assert.match(await page.textContent('#messages li[data-kind="top"]'), /Beginning of #archive/);
    const all = await messages(page);
    assertOnceInOrder(all, texts, 'archive');
    assert.equal(all.length, ARCHIVE);
    assert.deepEqual(all.map((m) => m.id), texts.map((_, i) => i + 1), 'ids 1..120');
    await page.$eval('#messages', (m) => { m.scrollTop = 0; });
    await shot(people.Alice, 'desktop-scrollback-beginning.png');
  });

  await step('(c) rooms: create and join, separate logs, people per room, unread counts, leaving', 20_000, async () => {
    const { Alice: alice, Bob: bob, Carol: carol } = people;
    await enterRoom(alice, 'random');
    await expectLines(alice, ['You joined']);
    await expectUsers(alice, ['Alice']);
    assert.equal(await alice.page.isVisible('#leave-room'), true, 'a room can be left');

    await enterRoom(bob, 'random');
    await expectLines(bob, ['You joined']);
    await expectLines(alice, ['You joined', 'Bob joined']);
    await expectUsers(alice, ['Alice', 'Bob']);
    await expectUsers(bob, ['Alice', 'Bob']);

    await say(bob, 'Anyone up for a game at lunch?');
    await say(alice, 'Always. Chess?');
    await expectLines(alice, ['You joined', 'Bob joined', 'Bob: Anyone up for a game at lunch?', 'You: Always. Chess?']);
    await expectLines(bob, ['You joined', 'You: Anyone up for a game at lunch?', 'Alice: Always. Chess?']);

    // #random's messages stay in #random.
    await switchTo(alice, 'general');
    await expectUsers(alice, ['Alice', 'Bob', 'Carol']);
    const general = (await lines(alice.page)).join('\n');
    assert.doesNotMatch(general, /game|Chess/, 'not in #general');
    assert.doesNotMatch((await lines(carol.page)).join('\n'), /game|Chess/, 'Carol is not in #random');

    // Unread counts for the room not on screen.
    await say(bob, 'Board is set up.');
    await say(bob, 'Your move.');
    await eventually(async () => {
      const random = (await roomList(alice.page)).find((r) => r.room === 'random');
      assert.deepEqual(random, { room: 'random', active: false, unread: '2' });
    });
    assert.equal(await alice.page.textContent('#rooms li[data-room="random"] .badge'), '2');
    await switchTo(alice, 'random');
    await eventually(async () => assert.equal((await roomList(alice.page)).find((r) => r.room === 'random').unread, '0'));
    await expectLines(alice, ['You joined', 'Bob joined', 'Bob: Anyone up for a game at lunch?', 'You: Always. Chess?',
      'Bob: Board is set up.', 'Bob: Your move.']);

    // Carol, on a phone, finds the rooms in the drawer.
    await carol.page.click('#rooms-toggle');
    await carol.page.locator('#rooms-panel').waitFor({ state: 'visible' });
    await eventually(async () => {
      const box = await carol.page.locator('#rooms-panel').boundingBox();
      assert.ok(box && box.x >= -1, 'drawer slid in');
      const more = await carol.page.$$eval('#more-rooms li[data-room]', (l) => l.map((li) => li.dataset.room).sort());
      assert.deepEqual(more, ['archive', 'random']);
    });
    await carol.page.waitForTimeout(250); // let the slide-in finish for the picture
    await shot(carol, 'phone-rooms-drawer.png');
    await carol.page.click('#more-rooms li[data-room="random"] button');
    await eventually(async () => assert.equal(await carol.page.textContent('#room-name'), 'random'));
    assert.equal(await carol.page.locator('body.rooms-open').count(), 0, 'the drawer closes');
    await eventually(async () => assert.deepEqual((await messages(carol.page)).map((m) => m.text),
      ['Anyone up for a game at lunch?', 'Always. Chess?', 'Board is set up.', 'Your move.']));
    await expectUsers(alice, ['Alice', 'Bob', 'Carol']);
    await shot(carol, 'phone-room.png');

    // Leaving is announced to those who stay.
    await bob.page.click('#leave-room');
    await eventually(async () => {
      assert.equal(await bob.page.textContent('#room-name'), 'general');
      assert.deepEqual((await roomList(bob.page)).map((r) => r.room), ['general']);
    });
    // Right after "Carol joined": one line.
    await eventually(async () => assert.equal((await lines(alice.page)).at(-1), 'Carol joined; Bob left'));
    await expectUsers(alice, ['Alice', 'Carol']);
    await expectUsers(carol, ['Alice', 'Carol']);
    await switchTo(alice, 'general');
  });

  await step('(d) typing: "Bob is typing…", gone when he sends or stops; two, then several', 20_000, async () => {
    const { Alice: alice, Bob: bob } = people;
    const typing = () => alice.page.textContent('#typing');
    const input = bob.page.locator('#message-input');
    // Only Bob's page is touched while he types: focus elsewhere is a stop.
    await input.focus();
    await input.pressSequentially('Who is bringing', { delay: 30 });
    await eventually(async () => assert.equal(await typing(), 'Bob is typing…'));
    await input.pressSequentially(' the cake?', { delay: 30 });
    await input.press('Enter');
    await eventually(async () => assert.equal(await typing(), ''), 1500); // at once, not after the expiry
    // The message follows once stored.
    await eventually(async () => assert.equal((await lines(alice.page)).at(-1), 'Bob: Who is bringing the cake?'));

    await input.pressSequentially('I think it is Carol', { delay: 80 });
    await eventually(async () => assert.equal(await typing(), 'Bob is typing…'));
    // He stops: after a few seconds the line clears.
    await eventually(async () => assert.equal(await typing(), ''), 6000, 100);

    const dana = await bot('Dana');
    const eve = await bot('Eve');
    bots.push(dana, eve);
    await input.pressSequentially(', or Dave', { delay: 30 });
    await eventually(async () => assert.equal(await typing(), 'Bob is typing…'));
    await dana.ack('typing', { room: 'general', typing: true });
    await eventually(async () => assert.equal(await typing(), 'Bob and Dana are typing…'));
    await shot(alice, 'desktop-rooms-typing.png');
    await eve.ack('typing', { room: 'general', typing: true });
    await eventually(async () => assert.equal(await typing(), 'Several people are typing…'));
    await dana.ack('typing', { room: 'general', typing: false });
    await eve.ack('typing', { room: 'general', typing: false });
    await input.fill('');
    await input.press('Backspace'); // an input event with an empty box: a stop
    await eventually(async () => assert.equal(await typing(), ''), 6000, 100);
    while (bots.length) bots.pop().close();
    await expectUsers(alice, ['Alice', 'Bob', 'Carol']);
  });

  await step(`(e) reconnecting: Alice drops, Bob sends ${FLOOD}; she gets each once, in order (recovered session)`, 20_000, async () => {
    const { Alice: alice, Bob: bob } = people;
    await switchTo(alice, 'random');
    await enterRoom(bob, 'random');
    // In the line of (c), where he left: he came back.
    await eventually(async () => assert.equal((await lines(alice.page)).at(-1), 'Carol joined; Bob came back'));
    const back = await drop(alice);
    await eventually(async () => assert.equal((await lines(alice.page)).at(-1), 'Connection lost. Reconnecting…'));

    const texts = Array.from({ length: FLOOD }, (_, i) => `while away ${String(i + 1).padStart(3, '0')}`);
    await burst(bob, texts);
    await say(alice, 'Written offline, sent once.');
    await expectAllSent(bob, 15_000);
    await back();
    await eventually(async () => {
      const got = await messages(alice.page);
      assertOnceInOrder(got, texts, 'Alice after the drop');
      assert.equal(got.filter((m) => m.text === 'Written offline, sent once.').length, 1);
    }, 10_000);
    await expectAllSent(alice);
    await eventually(async () => assertOnceInOrder(await messages(bob.page), [...texts, 'Written offline, sent once.'], 'Bob'));
    const seen = await lines(alice.page);
    assert.equal(seen.filter((l) => l === 'Reconnected').length, 1, 'one "Reconnected"');
    assert.ok(seen.indexOf('Reconnected') > seen.indexOf('Connection lost. Reconnecting…'));
    const recovered = await alice.page.evaluate(() => window.parley.socket.recovered);
    t.diagnostic(`recovered session: ${recovered}`);
  });

  await step('(e2) reconnecting without a recovered session: rejoin by token, catch up each room, resend', 20_000, async () => {
    const { Alice: alice, Bob: bob } = people;
    const back = await drop(alice);
    // Forget the session id, as if the server had restarted: the page must
    // claim its name back and catch up by itself.
    await alice.page.evaluate(() => { window.parley.socket._pid = undefined; });
    const inRandom = Array.from({ length: 60 }, (_, i) => `catch up ${String(i + 1).padStart(2, '0')}`);
    await burst(bob, inRandom);
    await say(alice, 'Also written offline.');
    await expectAllSent(bob, 15_000);
    await switchTo(bob, 'general');
    const inGeneral = ['general 1 while Alice is away', 'general 2 while Alice is away'];
    for (const text of inGeneral) await say(bob, text);
    await expectAllSent(bob);
    await back();
    await eventually(async () => {
      const got = await messages(alice.page);
      assertOnceInOrder(got, inRandom, 'Alice in #random');
      assert.equal(got.filter((m) => m.text === 'Also written offline.').length, 1);
    }, 10_000);
    await expectAllSent(alice);
    assert.equal(await alice.page.evaluate(() => window.parley.socket.recovered), false, 'a new session');
    await eventually(async () => assert.equal((await roomList(alice.page)).find((r) => r.room === 'general').unread, '2'));
    await switchTo(alice, 'general');
    await eventually(async () => assertOnceInOrder(await messages(alice.page), inGeneral, 'Alice in #general'));
    await switchTo(bob, 'random');
    await eventually(async () => assertOnceInOrder(await messages(bob.page), [...inRandom, 'Also written offline.'], 'Bob in #random'));
    for (const p of [alice, bob]) {
      assert.deepEqual((await roomList(p.page)).map((r) => r.room), ['general', 'archive', 'random'].filter((r) => p === alice || r !== 'archive'));
    }
    await expectUsers(bob, ['Alice', 'Bob', 'Carol']);
  });

  await step('(e3) a silent drop: the server still holds the old connection; the page takes its place back and catches up', 25_000, async () => {
    const { Bob: bob } = people;
    // Dora's connections go through a relay that the test can silence: it
    // stops passing anything either way and closes the page's end, while
    // the server's end stays open (as when a network drops packets).
    const relay = { hold: false, link: null };
    const dora = await open('Dora', {
      setup: async (context) => {
        await context.route(/\/socket\.io\/.*transport=polling/, (route) => (relay.hold ? route.abort('internetdisconnected') : route.continue()));
        await context.routeWebSocket(/\/socket\.io\//, (ws) => {
          if (relay.hold) {
            ws.close();
            return;
          }
          const server = ws.connectToServer();
          const link = { alive: true, ws, server };
          relay.link = link;
          ws.onMessage((m) => { if (link.alive) server.send(m); });
          server.onMessage((m) => { if (link.alive) ws.send(m); });
          ws.onClose(() => { if (link.alive) server.close(); });
          server.onClose(() => { if (link.alive) ws.close(); });
        });
      },
    });
    await join(dora);
    await enterRoom(dora, 'random');
    await eventually(async () => assert.deepEqual(await usersOnline(bob.page), ['Alice', 'Bob', 'Carol', 'Dora']));

    relay.hold = true;
    relay.link.alive = false;
    await relay.link.ws.close();
    await eventually(async () => assert.equal((await lines(dora.page)).at(-1), 'Connection lost. Reconnecting…'));
    // More than the 50 messages a room sends to whoever (re)joins it.
    const missed = Array.from({ length: 70 }, (_, i) => `while Dora is gone ${String(i + 1).padStart(2, '0')}`);
    await burst(bob, missed);
    await expectAllSent(bob, 15_000);
    relay.hold = false;
    await eventually(async () => assert.equal(await dora.page.getAttribute('#status', 'data-state'), 'connected'), 15_000);
    await eventually(async () => assertOnceInOrder(await messages(dora.page), missed, 'Dora in #random'), 10_000);
    t.diagnostic(`Dora's session recovered: ${await dora.page.evaluate(() => window.parley.socket.recovered)}`);
    // She never left, as far as the others could tell.
    assert.ok(!(await lines(bob.page)).includes('Dora left'), 'no "Dora left" in #random');
    await expectUsers(bob, ['Alice', 'Bob', 'Carol', 'Dora']);
    await say(dora, 'Back, and nothing missing.');
    await eventually(async () => assert.equal((await lines(bob.page)).at(-1), 'Dora: Back, and nothing missing.'));
  });

  await step('no script errors on any page', 2_000, async () => {
    for (const p of Object.values(people)) assert.deepEqual(p.errors, [], `${p.name}: errors on the page`);
  });

  t.diagnostic(`screenshots in ${SHOTS}; took ${Date.now() - started} ms`);
});
