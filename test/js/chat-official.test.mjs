// chat-official.test.mjs plays several people against parley's chat
// contract (README.md, "Events") with the OFFICIAL socket.io-client, over
// WebSocket only, polling only, and the client's default (polling, then the
// upgrade to WebSocket).
//
//   go test -run TestOfficialClientChat ./cmd/parley/   (starts the server)
//
// Environment:
//   PARLEY_URL          the parley server, e.g. http://127.0.0.1:1234
//                       (required; the Go test sets it).
//   PARLEY_TRANSPORT    comma-separated modes to run: websocket, polling,
//                       upgrade (default: all three).
//   PARLEY_DEADLINE_MS  the whole file exits with an error after this long
//                       (default 90000), so that nothing can hang.
//   PARLEY_GRACE_MS     the server's presence grace (--presence-grace;
//                       default 10000): how long a person whose connection
//                       closed stays listed.
//
// The server is shared by every scenario and may still hold people of an
// earlier one for a moment after it closed its sockets: each scenario names
// its people with a tag of its own and only counts what concerns them.
// Nothing here sleeps bare: every wait ends on an event or at a deadline.
// "Exactly once" and "not at all" are checked after a barrier: a message
// that every recipient receives after what is being counted, on the same
// ordered connection.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { WAIT_MS, eventually, withDeadline } from './helpers.mjs';

const SERVER = process.env.PARLEY_URL;
const MODES = {
  websocket: { transports: ['websocket'] },
  polling: { transports: ['polling'], upgrade: false },
  upgrade: {}, // the client's default: polling, then upgrade to WebSocket
};
const SELECTED = (process.env.PARLEY_TRANSPORT || Object.keys(MODES).join(','))
  .split(',').map((m) => m.trim()).filter(Boolean);

const TEST_MS = 20_000; // one scenario
const GRACE_MS = Number(process.env.PARLEY_GRACE_MS) || 10_000;

// The contract's limits and its one documented error text.
const MAX_NAME = 32;
const MAX_MESSAGE = 2000;
const RATE = 20; // events per second, per connection
const BURST = 60;
const RATE_LIMITED = 'too many events; slow down';

const watchdog = setTimeout(() => {
  console.error('chat-official: deadline passed; exiting');
  process.exit(3);
}, Number(process.env.PARLEY_DEADLINE_MS) || 90_000);
watchdog.unref();

// ---------- helpers ----------

let tagCount = 0;

// newTag returns a short string that makes a scenario's names its own.
function newTag(mode) {
  tagCount++;
  return `${mode[0]}${tagCount}${Math.random().toString(36).slice(2, 6)}`;
}

const show = (v) => {
  const s = JSON.stringify(v);
  return s && s.length > 120 ? `${s.slice(0, 120)}…` : s;
};

// Person is one chat client: an official socket that records every event
// the server sends it, in order.
class Person {
  constructor(socket, label) {
    this.socket = socket;
    this.label = label;
    this.name = undefined; // set once joined
    this.events = []; // {event, args}
    this.waiters = new Set();
    socket.onAny((event, ...args) => {
      this.events.push({ event, args });
      for (const w of this.waiters) w();
    });
  }

  // got returns the first arguments of the events received so far named
  // event whose first argument satisfies pred.
  got(event, pred = () => true) {
    return this.events.filter((e) => e.event === event && pred(e.args[0])).map((e) => e.args[0]);
  }

  // waitFor resolves with the first arguments of the first n events named
  // event whose first argument satisfies pred, or rejects at the deadline.
  waitFor(event, pred = () => true, { n = 1, ms = WAIT_MS, what = '' } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.got(event, pred);
        if (found.length < n) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found.slice(0, n));
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const recent = this.events.slice(-5).map((e) => `${e.event} ${show(e.args)}`).join('; ');
        reject(new Error(`${this.label}: waited ${ms} ms for ${n} "${event}" ${what}; ` +
          `got ${this.got(event, pred).length}; last events: ${recent || 'none'}`));
      }, ms);
      if (!check()) this.waiters.add(check);
    });
  }

  // ack emits with an acknowledgement and resolves with the reply.
  ack(event, ...args) {
    return this.socket.timeout(WAIT_MS).emitWithAck(event, ...args);
  }

  // join joins as name, with an acknowledgement, and checks it succeeded.
  async join(name) {
    const reply = await this.ack('new-user', name);
    assert.equal(reply?.ok, true, `${this.label}: new-user ${show(name)}: ${show(reply)}`);
    this.name = reply.name;
    return reply;
  }

  // say sends a message with an acknowledgement and checks it was accepted.
  async say(message) {
    const reply = await this.ack('send-chat-message', message);
    assert.equal(reply?.ok, true, `${this.label}: send-chat-message ${show(message)}: ${show(reply)}`);
    return reply;
  }

  // refusedAck sends event with an acknowledgement and checks it was refused
  // with an error matching re; it returns the error.
  async refusedAck(re, event, ...args) {
    const reply = await this.ack(event, ...args);
    const what = `${this.label}: ${event} ${show(args)}`;
    assert.equal(reply?.ok, false, `${what} was not refused: ${show(reply)}`);
    assert.equal(typeof reply.error, 'string', `${what}: error ${show(reply)}`);
    assert.match(reply.error, re, what);
    assert.ok(this.socket.connected, `${what}: disconnected after the refusal`);
    return reply.error;
  }

  // refusedEvent sends event without an acknowledgement and checks the
  // server answered with an error event matching re.
  async refusedEvent(re, event, ...args) {
    const before = this.got('error').length;
    this.socket.emit(event, ...args);
    const what = `${this.label}: ${event} ${show(args)} without ack`;
    const [err] = (await this.waitFor('error', () => true, { n: before + 1, what })).slice(before);
    assert.equal(err?.ok, false, `${what}: error event ${show(err)}`);
    assert.equal(typeof err.message, 'string', `${what}: error event ${show(err)}`);
    assert.match(err.message, re, what);
    assert.equal(err.error, err.message, `${what}: error event ${show(err)}`);
    assert.ok(this.socket.connected, `${what}: disconnected after the refusal`);
    return err.message;
  }

  // messagesFrom returns the chat-messages received from name.
  messagesFrom(name) {
    return this.got('chat-message', (m) => m?.name === name);
  }
}

// Room holds the people of one scenario and closes them all.
class Room {
  constructor(mode) {
    this.mode = mode;
    this.tag = newTag(mode);
    this.people = [];
    this.syncs = 0;
  }

  // connect returns a connected Person over transport mode (the room's by
  // default).
  async connect(label, mode = this.mode) {
    const socket = io(SERVER, { forceNew: true, reconnection: false, ...MODES[mode] });
    const p = new Person(socket, `${label}(${mode})`);
    this.people.push(p);
    await withDeadline(`${p.label}: connect`, WAIT_MS, new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    }));
    return p;
  }

  // name returns a name unique to this scenario.
  name(base) {
    return `${base}-${this.tag}`;
  }

  // barrier has from (joined) say a message and waits for every one of to
  // to receive it: whatever was sent to them before has arrived.
  async barrier(from, to) {
    const message = `sync ${this.tag} ${++this.syncs}`;
    await from.say(message);
    await Promise.all(to.map((p) => p.waitFor('chat-message', (m) => m?.message === message, { what: 'barrier' })));
  }

  close() {
    for (const p of this.people) p.socket.disconnect();
  }
}

// upgraded waits until p's connection runs over WebSocket.
function upgraded(p) {
  return eventually(() => {
    const name = p.socket.io.engine?.transport?.name;
    assert.equal(name, 'websocket', `${p.label}: transport is ${name} after the upgrade`);
  });
}

// checkChatMessage checks a chat-message payload.
function checkChatMessage(m, name, message) {
  assert.equal(m.name, name);
  assert.equal(m.message, message);
  assert.equal(typeof m.id, 'number', `id of ${show(m)}`);
  assert.equal(typeof m.time, 'number', `time of ${show(m)}`);
}

// checkTime checks that a server time (ms since the epoch) is now.
function checkTime(time, before) {
  assert.ok(time >= before - 5000 && time <= Date.now() + 5000,
    `time ${time} is not now (${before}..${Date.now()})`);
}

// scenario runs fn with a fresh Room in mode, closing it whatever happens.
function scenario(mode, name, fn) {
  it(name, { timeout: TEST_MS }, async () => {
    const room = new Room(mode);
    try {
      await fn(room);
      if (mode === 'upgrade') {
        for (const p of room.people.filter((q) => q.socket.connected)) await upgraded(p);
      }
    } finally {
      room.close();
    }
  });
}

// ---------- scenarios ----------

if (!SERVER) {
  it('chat with the official client', { skip: 'PARLEY_URL is not set: run `go test ./cmd/parley/`' }, () => {});
}

for (const mode of SERVER ? SELECTED : []) {
  if (!MODES[mode]) throw new Error(`unknown PARLEY_TRANSPORT mode ${mode}`);

  describe(`official client over ${mode}`, () => {
    scenario(mode, 'four people join, chat and leave', async (room) => {
      const [alice, bob, carol, dave] = await Promise.all(
        ['alice', 'bob', 'carol', 'dave'].map((l) => room.connect(l)));
      const people = [alice, bob, carol, dave];
      const names = {
        alice: room.name('Alice'), bob: room.name('Bob'), carol: room.name('Carol'), dave: room.name('Dave'),
      };
      const all = Object.values(names);
      const mine = (n) => all.includes(n);

      // Alice joins with an acknowledgement: she is the only one of hers.
      let reply = await alice.join(names.alice);
      assert.equal(reply.name, names.alice);
      assert.ok(Array.isArray(reply.users), `users: ${show(reply)}`);
      assert.deepEqual(reply.users.filter(mine), [names.alice]);
      await Promise.all([bob, carol, dave].map((p) => p.waitFor('user-connected', (n) => n === names.alice)));

      // Bob joins as the tutorial does, without one, and with spaces around
      // his name, which the server trims.
      bob.socket.emit('new-user', `  ${names.bob}\t`);
      bob.name = names.bob;
      await Promise.all([alice, carol, dave].map((p) => p.waitFor('user-connected', (n) => n === names.bob)));

      reply = await carol.join(names.carol);
      assert.deepEqual(reply.users.filter(mine).sort(), [names.alice, names.bob, names.carol].sort());
      await Promise.all([alice, bob, dave].map((p) => p.waitFor('user-connected', (n) => n === names.carol)));

      dave.socket.emit('new-user', names.dave);
      dave.name = names.dave;
      await Promise.all([alice, bob, carol].map((p) => p.waitFor('user-connected', (n) => n === names.dave)));

      // Each heard of each other exactly once, and nobody of themselves.
      await room.barrier(alice, [bob, carol, dave]);
      await room.barrier(dave, [alice, bob, carol]);
      for (const p of people) {
        for (const n of all) {
          const want = n === p.name ? 0 : 1;
          assert.equal(p.got('user-connected', (x) => x === n).length, want,
            `${p.label} heard "${n}" connect ${p.got('user-connected', (x) => x === n).length} times`);
        }
      }
      assert.equal(people.flatMap((p) => p.got('error')).length, 0, 'error events while joining');

      // Alice chats as the tutorial does, without acknowledgements; Bob with
      // them. Each message reaches each other person once, in order.
      const t0 = Date.now();
      const aliceSays = ['hello from alice', 'second from alice', 'third from alice'];
      for (const m of aliceSays) alice.socket.emit('send-chat-message', m);
      const bobSays = ['hello from bob', 'second from bob'];
      const acks = [];
      for (const m of bobSays) acks.push(await bob.say(m));
      for (const a of acks) {
        assert.equal(typeof a.id, 'number', `ack ${show(a)}`);
        checkTime(a.time, t0);
      }
      assert.notEqual(acks[0].id, acks[1].id, 'message ids must differ');
      await Promise.all([bob, carol, dave].map((p) => p.waitFor('chat-message',
        (m) => m?.name === names.alice, { n: aliceSays.length })));
      await Promise.all([alice, carol, dave].map((p) => p.waitFor('chat-message',
        (m) => m?.name === names.bob, { n: bobSays.length })));
      await room.barrier(alice, [bob, carol, dave]);
      await room.barrier(bob, [alice, carol, dave]);

      for (const p of [bob, carol, dave]) {
        const got = p.messagesFrom(names.alice).filter((m) => !m.message.startsWith('sync '));
        assert.deepEqual(got.map((m) => m.message), aliceSays, `${p.label} got from alice`);
        got.forEach((m, i) => {
          checkChatMessage(m, names.alice, aliceSays[i]);
          checkTime(m.time, t0);
        });
      }
      for (const p of [alice, carol, dave]) {
        const got = p.messagesFrom(names.bob).filter((m) => !m.message.startsWith('sync '));
        assert.deepEqual(got.map((m) => m.message), bobSays, `${p.label} got from bob`);
        got.forEach((m, i) => {
          checkChatMessage(m, names.bob, bobSays[i]);
          assert.equal(m.id, acks[i].id, 'the id of the chat-message is the ack\'s');
          assert.equal(m.time, acks[i].time, 'the time of the chat-message is the ack\'s');
        });
      }
      const ids = carol.got('chat-message', (m) => mine(m?.name)).map((m) => m.id);
      assert.equal(new Set(ids).size, ids.length, `message ids repeat: ${ids}`);
      for (const p of people) {
        assert.equal(p.messagesFrom(p.name).length, 0, `${p.label} received its own messages`);
      }

      // Dave leaves cleanly; Carol's connection just closes, as a page
      // does when it is closed or reloaded: she joined with an ack, which
      // gave her a token to come back with, so she stays listed for the
      // presence grace. The others hear each once; a person who never
      // joined leaves without a word.
      const stranger = await room.connect('stranger');
      dave.socket.disconnect();
      await Promise.all([alice, bob, carol].map((p) => p.waitFor('user-disconnected', (n) => n === names.dave)));
      carol.socket.io.engine.close();
      await Promise.all([alice, bob].map((p) => p.waitFor('user-disconnected', (n) => n === names.carol,
        { ms: GRACE_MS + WAIT_MS })));
      stranger.socket.disconnect();
      await room.barrier(alice, [bob]);
      await room.barrier(bob, [alice]);
      for (const p of [alice, bob]) {
        for (const n of [names.dave, names.carol]) {
          assert.equal(p.got('user-disconnected', (x) => x === n).length, 1, `${p.label} heard "${n}" leave`);
        }
        for (const n of [names.alice, names.bob]) {
          assert.equal(p.got('user-disconnected', (x) => x === n).length, 0, `${p.label} heard "${n}" leave`);
        }
        const odd = p.got('user-disconnected', (x) => typeof x !== 'string' || x === '');
        assert.deepEqual(odd, [], `${p.label}: user-disconnected without a name`);
      }

      // Dave's name is free again, whatever its case: he joined as the
      // tutorial does, with no ack and no cookie, so nothing could prove
      // him again, and his name went with him.
      const dave2 = await room.connect('dave2');
      reply = await dave2.join(names.dave.toUpperCase());
      assert.equal(reply.name, names.dave.toUpperCase());
      assert.deepEqual(reply.users.filter((n) => mine(n) || n === reply.name).sort(),
        [names.alice, names.bob, reply.name].sort());
    });

    scenario(mode, 'bad names are refused and the connection stays usable', async (room) => {
      const [watcher, newcomer] = await Promise.all([room.connect('watcher'), room.connect('newcomer')]);
      await watcher.join(room.name('Watcher'));
      const cases = [
        ['empty', /empty/, ''],
        ['whitespace', /empty/, ' \t\n '],
        [`${MAX_NAME + 1} characters`, /too long/, 'n'.repeat(MAX_NAME + 1)],
        [`${MAX_NAME + 1} emoji`, /too long/, '🌍'.repeat(MAX_NAME + 1)],
        ['a number', /string/, 42],
        ['an object', /string/, { name: room.name('Obj') }],
        ['an array', /string/, [room.name('Arr')]],
        ['null', /string/, null],
        ['true', /string/, true],
        ['binary', /string/, Buffer.from(room.name('Bin'))],
        ['taken', /taken/, room.name('Watcher')],
        ['taken, other case', /taken/, room.name('Watcher').toLowerCase()],
        ['taken, other case and spaces', /taken/, `  ${room.name('Watcher').toUpperCase()} `],
      ];
      let events = 0;
      for (const [what, re, name] of cases) {
        await newcomer.refusedAck(re, 'new-user', name).catch((err) => {
          err.message = `${what}, with ack: ${err.message}`;
          throw err;
        });
        await newcomer.refusedEvent(re, 'new-user', name).catch((err) => {
          err.message = `${what}, without ack: ${err.message}`;
          throw err;
        });
        events++;
      }
      // No name at all.
      await newcomer.refusedAck(/string/, 'new-user');
      newcomer.socket.emit('new-user');
      events++;
      await newcomer.waitFor('error', () => true, { n: events });

      // Refused with an ack means no error event as well.
      const good = room.name('Newcomer');
      const reply = await newcomer.join(good);
      assert.equal(reply.name, good);
      assert.equal(newcomer.got('error').length, events, 'an acknowledged refusal also sent an error event');

      // The watcher heard of the newcomer once, and of no refused name.
      await watcher.waitFor('user-connected', (n) => n === good);
      await room.barrier(newcomer, [watcher]);
      assert.deepEqual(watcher.got('user-connected', (n) => n !== good && String(n).includes(room.tag)), []);
      assert.deepEqual(watcher.got('user-connected', (n) => typeof n !== 'string'), []);
      assert.equal(watcher.got('user-connected', (n) => n === good).length, 1);

      // Joining twice is refused; the first name stays.
      await newcomer.refusedAck(/./, 'new-user', room.name('Other'));
      const { id } = await newcomer.say('still me');
      const [m] = await watcher.waitFor('chat-message', (x) => x?.id === id);
      assert.equal(m.name, good);

      // Several race for one name: exactly one gets it.
      const racers = await Promise.all([0, 1, 2, 3, 4].map((i) => room.connect(`racer${i}`)));
      const contested = room.name('Racer');
      const replies = await Promise.all(racers.map((p, i) => p.ack('new-user', i % 2 ? contested.toUpperCase() : contested)));
      const winners = replies.filter((r) => r.ok);
      assert.equal(winners.length, 1, `replies: ${show(replies)}`);
      for (const r of replies.filter((x) => !x.ok)) assert.match(r.error, /taken/);
      await watcher.waitFor('user-connected', (n) => n === winners[0].name);
      await room.barrier(newcomer, [watcher]);
      assert.equal(watcher.got('user-connected', (n) => String(n).toLowerCase() === contested.toLowerCase()).length, 1);

      // The limits are in characters, inclusive.
      const edge = await Promise.all([room.connect('ascii'), room.connect('emoji')]);
      const longest = [`${room.tag}-`.padEnd(MAX_NAME, 'x'), room.tag + '🌍'.repeat(MAX_NAME - room.tag.length)];
      for (const [i, p] of edge.entries()) {
        assert.equal((await p.join(longest[i])).name, longest[i]);
      }
    });

    scenario(mode, 'bad messages are refused and the connection stays usable', async (room) => {
      const [sender, watcher, stranger] = await Promise.all(
        [room.connect('sender'), room.connect('watcher'), room.connect('stranger')]);

      // Before new-user, nothing can be said.
      await stranger.refusedAck(/new-user/, 'send-chat-message', 'too early');
      await stranger.refusedEvent(/new-user/, 'send-chat-message', 'too early, no ack');

      const name = room.name('Sender');
      await sender.join(name);
      await watcher.join(room.name('Watcher'));
      const cases = [
        ['empty', /empty/, ''],
        ['whitespace', /empty/, '  \n\t '],
        [`${MAX_MESSAGE + 1} characters`, /too long/, 'm'.repeat(MAX_MESSAGE + 1)],
        [`${MAX_MESSAGE + 1} emoji`, /too long/, '🌍'.repeat(MAX_MESSAGE + 1)],
        ['a number', /string/, 42],
        ['an object', /string/, { message: 'hi' }],
        ['an array', /string/, ['hi']],
        ['null', /string/, null],
        ['binary', /string/, Buffer.from('hi')],
      ];
      const accepted = [];
      const check = async (what, f) => {
        await f().catch((err) => {
          err.message = `${what}: ${err.message}`;
          throw err;
        });
        // Still usable: a good message goes through to the watcher.
        const ok = `after ${what} ${room.tag}`;
        accepted.push(ok);
        await sender.say(ok);
        await watcher.waitFor('chat-message', (m) => m?.message === ok);
      };
      for (const [what, re, message] of cases) {
        await check(`${what}, with ack`, () => sender.refusedAck(re, 'send-chat-message', message));
        await check(`${what}, without ack`, () => sender.refusedEvent(re, 'send-chat-message', message));
      }
      await check('no message, with ack', () => sender.refusedAck(/string/, 'send-chat-message'));
      await check('no message, without ack', () => sender.refusedEvent(/string/, 'send-chat-message'));

      // The longest messages pass, whole.
      for (const m of ['m'.repeat(MAX_MESSAGE), '🌍'.repeat(MAX_MESSAGE)]) {
        accepted.push(m);
        await sender.say(m);
      }

      await room.barrier(sender, [watcher]);
      const got = watcher.messagesFrom(name).map((m) => m.message).filter((m) => !m.startsWith('sync '));
      assert.equal(got.length, accepted.length, 'the watcher got a refused message, or missed one');
      assert.deepEqual(got, accepted);
      assert.deepEqual(watcher.got('error'), [], 'the watcher got error events');

      // The stranger can still join.
      await stranger.join(room.name('Stranger'));
    });

    scenario(mode, 'a flood is rate-limited, the connection stays up, the others keep chatting', async (room) => {
      const [flooder, acker, alice, bob] = await Promise.all(
        ['flooder', 'acker', 'alice', 'bob'].map((l) => room.connect(l)));
      const names = { flooder: room.name('Flooder'), acker: room.name('Acker'), alice: room.name('Alice'), bob: room.name('Bob') };
      await flooder.join(names.flooder);
      await acker.join(names.acker);
      await alice.join(names.alice);
      await bob.join(names.bob);

      // Two floods at once: the flooder without acknowledgements, the
      // acker with them.
      const N = 200;
      const flood = Array.from({ length: N }, (_, i) => `flood ${i}`);
      const floodStart = Date.now();
      for (const m of flood) flooder.socket.emit('send-chat-message', m);
      const ackerReplies = Promise.all(flood.map((m) => acker.ack('send-chat-message', m)));
      // At most a burst, plus what the rate refills while the flood lasts;
      // at least the burst but the join.
      const checkAccepted = (who, n) => {
        const most = BURST + Math.ceil(RATE * (Date.now() - floodStart) / 1000) + 1;
        assert.ok(n >= BURST - 1 && n <= most, `${who}: ${n} of ${N} accepted, want ${BURST - 1}..${most}`);
      };

      // Meanwhile Alice and Bob keep chatting.
      await alice.say(`alice during the flood ${room.tag}`);
      await bob.waitFor('chat-message', (m) => m?.message === `alice during the flood ${room.tag}`);

      // Every one of the flooder's messages is either delivered or refused.
      await eventually(() => {
        const delivered = alice.messagesFrom(names.flooder).length;
        const refused = flooder.got('error').length;
        assert.equal(delivered + refused, N, `delivered ${delivered} + refused ${refused}`);
      }, 10_000);
      const refused = flooder.got('error');
      assert.ok(refused.length > 0, 'nothing refused');
      for (const e of refused) {
        assert.deepEqual({ ok: e.ok, error: e.error, message: e.message },
          { ok: false, error: RATE_LIMITED, message: RATE_LIMITED });
      }
      const delivered = alice.messagesFrom(names.flooder).map((m) => m.message);
      checkAccepted('flooder', delivered.length);
      // A subsequence of what was sent, in order.
      let at = 0;
      for (const m of delivered) {
        at = flood.indexOf(m, at) + 1;
        assert.ok(at > 0, `delivered out of order or unknown: ${m}`);
      }

      const replies = await ackerReplies;
      const ok = replies.filter((r) => r.ok);
      const no = replies.filter((r) => !r.ok);
      checkAccepted('acker', ok.length);
      for (const r of no) assert.equal(r.error, RATE_LIMITED);
      assert.equal(acker.got('error').length, 0, 'acknowledged refusals also sent error events');

      // The connections stay up, and once the burst is over, go on.
      for (const p of [flooder, acker]) {
        assert.ok(p.socket.connected, `${p.label} was disconnected`);
        const after = `${p.label} after the flood ${room.tag}`;
        await eventually(async () => {
          const r = await p.ack('send-chat-message', after);
          assert.equal(r.ok, true, `${p.label} still refused: ${show(r)}`);
        }, 10_000, 100);
        await Promise.all([alice, bob].map((q) => q.waitFor('chat-message', (m) => m?.message === after)));
      }
      await alice.say(`alice after the flood ${room.tag}`);
      await flooder.waitFor('chat-message', (m) => m?.message === `alice after the flood ${room.tag}`);

      await room.barrier(alice, [flooder, acker, bob]);
      const ackerGot = bob.messagesFrom(names.acker).map((m) => m.message).filter((m) => m.startsWith('flood '));
      assert.equal(ackerGot.length, ok.length, 'bob got other than the accepted messages of the acker');
      assert.equal(bob.messagesFrom(names.flooder).filter((m) => m.message.startsWith('flood ')).length,
        delivered.length, 'alice and bob got different floods');
      assert.equal(flooder.messagesFrom(names.flooder).length, 0, 'the flooder got its own messages');
      assert.deepEqual(alice.got('error'), [], 'alice was refused');
      assert.deepEqual(bob.got('error'), [], 'bob was refused');
    });

    scenario(mode, 'unicode and HTML-looking text pass through unchanged', async (room) => {
      const [sender, receiver] = await Promise.all([room.connect('sender'), room.connect('receiver')]);
      const names = [`Zoë 🌍 日本語 ${room.tag}`, `<b>${room.tag}</b> &amp; "'`];
      assert.equal((await sender.join(names[0])).name, names[0]);
      const reply = await receiver.join(names[1]);
      assert.equal(reply.name, names[1]);
      assert.ok(reply.users.includes(names[0]), `users ${show(reply.users)}`);
      await sender.waitFor('user-connected', (n) => n === names[1]);

      const texts = [
        '<script>alert("x")</script>',
        '<img src=x onerror=alert(1)> &amp; &lt; &#39; \' " ` \\',
        'Zoë 🌍 日本語 עברית العربية Ελληνικά',
        '👩‍👩‍👧‍👦 e\u0301 \u200b\u2028\u2029 \ufeff',
        'line\nbreak\r\ntab\t"quotes"',
        'control \u0001 \u001f \u007f',
        '  spaces kept  ',
        '42',
        'true',
        'null',
        '{"json": [1, 2]}',
        '</script><!--',
      ];
      for (const t of texts) {
        const a = await sender.say(t);
        const [m] = await receiver.waitFor('chat-message', (x) => x?.id === a.id);
        checkChatMessage(m, names[0], t);
      }
      // NUL cannot be stored: it is refused, with a clear error.
      const nul = await sender.socket.timeout(5000).emitWithAck('send-chat-message', 'nul \u0000 here');
      assert.equal(nul.ok, false);
      assert.match(nul.error, /cannot be stored/);
      await room.barrier(sender, [receiver]);
      const got = receiver.messagesFrom(names[0]).map((m) => m.message).filter((m) => !m.startsWith('sync '));
      assert.deepEqual(got, texts);
    });
  });
}

if (SERVER) {
  describe('official clients on different transports', () => {
    it('chat together', { timeout: TEST_MS }, async () => {
      const room = new Room('mixed');
      try {
        const people = await Promise.all(Object.keys(MODES).map((m) => room.connect(m, m)));
        for (const [i, p] of people.entries()) await p.join(room.name(`P${i}`));
        for (const p of people) {
          const m = `hello from ${p.label} ${room.tag}`;
          await p.say(m);
          await Promise.all(people.filter((q) => q !== p).map((q) => q.waitFor('chat-message', (x) => x?.message === m)));
        }
        await room.barrier(people[0], people.slice(1));
        for (const p of people) {
          for (const q of people) {
            assert.equal(p.messagesFrom(q.name).filter((x) => !x.message.startsWith('sync ')).length,
              p === q ? 0 : 1, `${p.label} from ${q.label}`);
          }
        }
        await upgraded(people[2]);
      } finally {
        room.close();
      }
    });
  });
}
