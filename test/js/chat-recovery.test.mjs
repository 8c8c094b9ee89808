// chat-recovery.test.mjs: a chat client that loses its connection, with the
// OFFICIAL socket.io-client, against the whole parley app (Socket.IO
// connection state recovery on, the chat's presence grace at its default of
// 10 s).
//
//   go test -run TestOfficialClientChatRecovery ./cmd/parley/   (starts the servers)
//
// Environment:
//   PARLEY_URL          the parley server (required; the Go test sets it).
//   PARLEY_TRANSPORT    websocket, polling or upgrade (default websocket).
//   PARLEY_DEADLINE_MS  the whole file exits with an error after this long
//                       (default 60000), so that nothing can hang.
//
// How a connection is lost. The server must see a drop, or a page closing,
// not a goodbye: parley announces a goodbye (socket.disconnect()) at once,
// and keeps a person whose connection dropped or closed listed for the
// grace period, when it can come back as itself (it has the token its
// new-user's ack gave). The official client has no "drop" of its own:
//   - socket.io.engine.close() closes the connection as a page does: over
//     WebSocket it sends a close frame, over polling a close packet; the
//     server sees "transport close". The client reconnects by itself (the
//     Manager only skips reconnecting after socket.disconnect()), recovery
//     works, and nobody hears of it. The last scenario checks exactly that.
//   - Over WebSocket, drop() resets the TCP connection under the ws
//     library: engine.transport.ws._socket.resetAndDestroy() (Node >= 18.3)
//     sends an RST, which the server reads as "transport error". A plain
//     destroy() sends a FIN instead, which parley's engineio currently
//     takes for a close frame ("transport close"; see the Go test case
//     "websocket EOF without a close frame" in internal/chat).
//   - Over polling, drop() sends a second GET that overlaps the client's
//     pending poll: the server closes the session with "transport error",
//     as the reference server does ("overlap from client"), and answers the
//     client's poll with a close packet. Aborting the client's own poll
//     would not do: the server reads an abandoned poll as "transport close".
// To have messages sent while the client is away, its reconnection is
// switched off for the drop and it is reconnected by hand, with
// socket.connect(), once they are sent: the same Manager, the same session
// id and offset, as an automatic reconnection would use. The first scenario
// also checks that the client reconnects by itself.
//
// Nothing here sleeps bare: every wait ends on an event or at a deadline.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { WAIT_MS, eventually, withDeadline } from './helpers.mjs';

const SERVER = process.env.PARLEY_URL;
const MODE = process.env.PARLEY_TRANSPORT || 'websocket';
const MODES = {
  websocket: { transports: ['websocket'] },
  polling: { transports: ['polling'], upgrade: false },
  upgrade: {}, // the client's default: polling, then upgrade to WebSocket
};
const TEST_MS = 30_000; // one scenario
const MISSED = 100; // messages sent while Alice is away
const RATE_LIMITED = 'too many events; slow down';

const watchdog = setTimeout(() => {
  console.error('chat-recovery: deadline passed; exiting');
  process.exit(3);
}, Number(process.env.PARLEY_DEADLINE_MS) || 60_000);
watchdog.unref();

// ---------- helpers ----------

const show = (v) => {
  const s = JSON.stringify(v);
  return s && s.length > 160 ? `${s.slice(0, 160)}…` : s;
};

// next resolves with the arguments of the next event of socket.
function next(socket, event) {
  return new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
}

let tagCount = 0;

// Person is one chat client: an official socket that records every event
// the server sends it, in order.
class Person {
  constructor(label, opts = {}) {
    this.label = `${label}(${MODE})`;
    this.events = [];
    this.socket = io(SERVER, {
      forceNew: true,
      ...MODES[MODE],
      reconnectionDelay: 200,
      reconnectionDelayMax: 200,
      randomizationFactor: 0,
      ...opts,
    });
    this.socket.onAny((event, ...args) => this.events.push({ event, args }));
  }

  async connected() {
    if (this.socket.connected) return;
    await withDeadline(`${this.label}: connect`, WAIT_MS, new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('connect_error', reject);
    }));
  }

  // got returns the first arguments of the events named event.
  got(event, pred = () => true) {
    return this.events.filter((e) => e.event === event && pred(e.args[0])).map((e) => e.args[0]);
  }

  ack(event, ...args) {
    return this.socket.timeout(WAIT_MS).emitWithAck(event, ...args);
  }

  // join joins as name, with the token of an earlier join if any, and
  // keeps the token the server gives.
  async join(name, token) {
    const reply = await this.ack('new-user', name, ...(token ? [{ token }] : []));
    assert.equal(reply?.ok, true, `${this.label}: new-user ${name}: ${show(reply)}`);
    assert.equal(typeof reply.token, 'string', `${this.label}: new-user ${name}: no token in ${show(reply)}`);
    this.name = name;
    this.token = reply.token;
    return reply;
  }

  // say sends a message, waiting out the rate limit if need be.
  async say(message) {
    for (const end = Date.now() + 10_000; ;) {
      const reply = await this.ack('send-chat-message', message);
      if (reply?.ok) return reply;
      assert.equal(reply?.error, RATE_LIMITED, `${this.label}: send ${show(message)}: ${show(reply)}`);
      assert.ok(Date.now() < end, `${this.label}: rate-limited for 10 s`);
      await new Promise((r) => setTimeout(r, 60));
    }
  }

  // messages returns the chat-messages of general received, in order.
  messages() {
    return this.got('chat-message', (m) => m?.room === 'general');
  }

  // lastId is the id of the last message of general received.
  lastId() {
    return this.messages().reduce((id, m) => Math.max(id, m.id), 0);
  }

  // presence returns what p heard of name: "+room" and "-room".
  presence(name) {
    return this.events
      .filter((e) => (e.event === 'user-connected' || e.event === 'user-disconnected') && e.args[0] === name)
      .map((e) => `${e.event === 'user-connected' ? '+' : '-'}${e.args[1]}`);
  }

  close() {
    this.socket.disconnect();
  }
}

// drop loses p's connection so that the server sees a transport error (see
// the top of the file).
async function drop(p) {
  const engine = p.socket.io.engine;
  if (engine.transport.name === 'websocket') {
    const tcp = engine.transport.ws?._socket;
    assert.ok(tcp?.resetAndDestroy, `${p.label}: no TCP socket under the WebSocket`);
    tcp.resetAndDestroy();
    return;
  }
  // When the client's poll happens not to be pending, the extra GET is the
  // poll, and takes what is queued (recovery replays it from the client's
  // offset all the same): then try again.
  let closed = false;
  engine.once('close', () => { closed = true; });
  const url = `${SERVER}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(engine.id)}`;
  for (const end = Date.now() + WAIT_MS; !closed;) {
    assert.ok(Date.now() < end, `${p.label}: overlapping polls did not drop the connection`);
    await (await fetch(url)).text();
    await eventually(() => assert.ok(closed, 'close'), 200).catch(() => {});
  }
}

// awayWhile drops p's connection, runs fn while p is away, then reconnects
// p by hand and waits until it is back. It returns why p was disconnected.
async function awayWhile(p, fn, { forget = false } = {}) {
  p.socket.io.reconnection(false);
  const gone = next(p.socket, 'disconnect');
  await drop(p);
  const [reason] = await withDeadline(`${p.label}: disconnect`, WAIT_MS, gone);
  if (forget) {
    // As if the server no longer had the session (expired, or restarted):
    // it does not know this private id, so recovery fails.
    p.socket._pid = `forgotten-${p.socket._pid}`;
  }
  await fn();
  p.socket.io.reconnection(true);
  const back = next(p.socket, 'connect');
  p.socket.connect();
  await withDeadline(`${p.label}: reconnect`, WAIT_MS, back);
  return reason;
}

// barrier has from say a message and waits until each of to has it:
// whatever was sent to them before has arrived.
async function barrier(from, to, text) {
  await from.say(text);
  await Promise.all(to.map((p) => eventually(() => assert.ok(
    p.messages().some((m) => m.message === text), `${p.label}: barrier ${text}`))));
}

// checkOnceInOrder checks that p got each of texts exactly once, in order,
// with consecutive ids.
function checkOnceInOrder(p, texts) {
  const got = p.messages().filter((m) => texts.includes(m.message));
  assert.deepEqual(got.map((m) => m.message), texts, `${p.label}: the messages, once each, in order`);
  got.forEach((m, i) => {
    if (i > 0) assert.equal(m.id, got[i - 1].id + 1, `${p.label}: ids ${got[i - 1].id}, ${m.id}`);
  });
}

// scenario runs fn with new people, closing them whatever happens.
function scenario(name, fn) {
  it(name, { timeout: TEST_MS }, async () => {
    tagCount++;
    const tag = `${MODE[0]}${tagCount}${Math.random().toString(36).slice(2, 6)}`;
    const people = [];
    const person = async (label, opts) => {
      const p = new Person(label, opts);
      people.push(p);
      await p.connected();
      if (MODE === 'upgrade') {
        await eventually(() => assert.equal(p.socket.io.engine?.transport?.name, 'websocket', `${p.label}: upgrade`));
      }
      return p;
    };
    try {
      await fn({ tag, person });
    } finally {
      for (const p of people) p.close();
    }
  });
}

// ---------- scenarios ----------

if (!SERVER) {
  it('chat recovery with the official client', { skip: 'PARLEY_URL is not set: run `go test ./cmd/parley/`' }, () => {});
} else if (!MODES[MODE]) {
  throw new Error(`unknown PARLEY_TRANSPORT ${MODE}`);
}

describe(`chat recovery over ${MODE}`, { skip: !SERVER }, () => {
  scenario(`a dropped client is recovered: it gets the ${MISSED} missed messages once, in order, and nobody hears of it`, async ({ tag, person }) => {
    const [alice, bob] = [await person('alice'), await person('bob')];
    const names = { alice: `Alice-${tag}`, bob: `Bob-${tag}` };
    await alice.join(names.alice);
    await bob.join(names.bob);
    assert.equal(alice.socket.recovered, false);
    await barrier(bob, [alice], `hello ${tag}`);
    const firstId = alice.socket.id;

    // Dropped, it reconnects by itself and is recovered.
    const gone = next(alice.socket, 'disconnect');
    const back = next(alice.socket, 'connect');
    await drop(alice);
    const [reason] = await withDeadline('disconnect', WAIT_MS, gone);
    await withDeadline('reconnection', WAIT_MS, back);
    assert.equal(alice.socket.recovered, true, `not recovered after "${reason}"`);
    assert.equal(alice.socket.id, firstId, 'a recovered socket keeps its id');
    await barrier(bob, [alice], `after the first drop ${tag}`);

    // Dropped again, for longer: Bob sends while she is away.
    const missed = Array.from({ length: MISSED }, (_, i) => `missed ${i} ${tag}`);
    await awayWhile(alice, async () => {
      for (const m of missed) await bob.say(m);
    });
    assert.equal(alice.socket.recovered, true, 'not recovered after the second drop');
    await barrier(bob, [alice], `after the second drop ${tag}`);
    await barrier(alice, [bob], `alice is back ${tag}`);
    checkOnceInOrder(alice, missed);
    for (const m of alice.messages().filter((x) => missed.includes(x.message))) {
      assert.ok(!m.history, `replayed message ${show(m)} is marked as history`);
    }
    // Bob was there when Alice joined, and heard nothing since.
    assert.deepEqual(bob.presence(names.alice), ['+general'], `${bob.label} heard of alice's drops`);
    assert.deepEqual(alice.got('error'), [], 'alice got error events');
  });

  scenario('recovery fails: the client catches up with auth {since} and takes its name back with its token', async ({ tag, person }) => {
    const names = { alice: `Alice-${tag}`, bob: `Bob-${tag}` };
    // The auth function runs at each connection: since is the last message
    // of general that Alice has.
    let alice = null;
    alice = await person('alice', { auth: (cb) => cb({ since: alice?.lastId() ?? 0 }) });
    // A client that was not recovered names itself again, with its token.
    alice.socket.on('connect', () => {
      if (!alice.socket.recovered && alice.name) {
        alice.rejoin = alice.ack('new-user', alice.name, { token: alice.token });
      }
    });
    const bob = await person('bob');
    await alice.join(names.alice);
    const { token } = alice;
    await bob.join(names.bob);
    const before = Array.from({ length: 5 }, (_, i) => `before ${i} ${tag}`);
    for (const m of before) await bob.say(m);
    await barrier(bob, [alice], `hello ${tag}`);
    const seen = alice.lastId();

    const missed = Array.from({ length: MISSED }, (_, i) => `missed ${i} ${tag}`);
    await awayWhile(alice, async () => {
      for (const m of missed) await bob.say(m);
    }, { forget: true });
    assert.equal(alice.socket.recovered, false, 'recovered a forgotten session');
    const reply = await withDeadline('new-user again', WAIT_MS, alice.rejoin);
    assert.equal(reply?.ok, true, `new-user with the token: ${show(reply)}`);
    assert.equal(reply.name, names.alice);
    assert.ok(reply.users.includes(names.bob), `users ${show(reply.users)}`);
    await barrier(bob, [alice], `after the drop ${tag}`);

    // What she missed came as history, once, in order, and nothing she had
    // came again.
    checkOnceInOrder(alice, [...before, `hello ${tag}`, ...missed, `after the drop ${tag}`]);
    const caughtUp = alice.messages().filter((m) => m.history && m.id > seen);
    assert.deepEqual(caughtUp.map((m) => m.message), missed, `history after since ${seen}`);
    assert.deepEqual(bob.presence(names.alice), ['+general'], `${bob.label} heard of alice`);

    // Another tab: a new client with auth {since} and the token, while the
    // old one is still connected. It is the same person; the old tab
    // stays.
    const last = alice.lastId();
    await bob.say(`while opening a tab ${tag}`);
    const tab = await person('tab', { auth: { since: last } });
    const again = await tab.ack('new-user', names.alice, { token });
    assert.equal(again?.ok, true, `second tab: ${show(again)}`);
    assert.equal(again.id, reply.id, `second tab: ${show(again)} is not the same identity as ${show(reply)}`);
    assert.deepEqual(tab.messages().map((m) => [m.message, m.history]), [[`while opening a tab ${tag}`, true]]);
    await barrier(bob, [tab, alice], `after the tab ${tag}`);
    assert.ok(alice.socket.connected, 'the first tab was let go');
    assert.deepEqual(bob.presence(names.alice), ['+general'], `${bob.label} heard of alice's tab`);
  });

  scenario('engine.close() closes the connection as a page does: the client reconnects and is recovered, and nobody hears of it', async ({ tag, person }) => {
    const [alice, bob] = [await person('alice'), await person('bob')];
    const names = { alice: `Alice-${tag}`, bob: `Bob-${tag}` };
    await alice.join(names.alice);
    await bob.join(names.bob);
    await barrier(bob, [alice], `hello ${tag}`);

    const gone = next(alice.socket, 'disconnect');
    const back = next(alice.socket, 'connect');
    alice.socket.io.engine.close();
    const [reason] = await withDeadline('disconnect', WAIT_MS, gone);
    // Sent while she is away, or just back: either way, once.
    const during = Array.from({ length: 10 }, (_, i) => `during ${i} ${tag}`);
    for (const m of during) await bob.say(m);
    await withDeadline('reconnection', WAIT_MS, back);
    assert.equal(alice.socket.recovered, true, `not recovered after engine.close() ("${reason}")`);
    await barrier(bob, [alice], `after ${tag}`);
    checkOnceInOrder(alice, [...during, `after ${tag}`]);
    await barrier(alice, [bob], `alice is back ${tag}`);
    assert.deepEqual(bob.presence(names.alice), ['+general'], `${bob.label} heard of alice's closed connection`);
  });
});
