// interop.test.mjs drives a parley server with the official socket.io-client
// (4.8.x), over each client transport configuration: WebSocket only,
// polling only, and polling upgraded to WebSocket.
//
//   go test ./internal/interop/      (starts the server, then runs this file)
//
// Environment:
//   PARLEY_URL        the server, e.g. http://127.0.0.1:1234/, set by the Go
//                     test. It must run the handlers of
//                     internal/interop/interop_test.go. Unset: the tests run
//                     against the reference npm `socket.io` server with the
//                     same handlers (startReferenceServer), which checks
//                     the tests themselves:
//                       node --test test/js/interop.test.mjs
//   PARLEY_TRANSPORT  comma-separated modes to run: websocket, polling,
//                     upgrade (default: all three).
//   PARLEY_DEADLINE_MS  the whole file exits with an error after this long
//                     (default 60000), so that nothing can hang.
//   DEBUG=socket.io-client:*,engine.io-client:*  logs the client's wire.
//
// The constants below are mirrored in interop_test.go, which checks what
// the Go handlers received.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MODES, TOKEN, Clients, ack, bytes, connectError, connected, delay,
  engineTransport, once, plain, startReferenceServer, upgraded,
} from './interop-helpers.mjs';
import { eventually } from './helpers.mjs';

// Without PARLEY_URL, the tests run against the reference server: a check
// of the tests themselves.
const reference = process.env.PARLEY_URL ? null : await startReferenceServer();
if (reference) after(() => reference.close());
const SERVER = process.env.PARLEY_URL || reference.url;
const SELECTED = (process.env.PARLEY_TRANSPORT || Object.keys(MODES).join(','))
  .split(',').map((m) => m.trim()).filter(Boolean);
const TEST_MS = 10_000;

const watchdog = setTimeout(() => {
  console.error('interop: deadline passed; exiting');
  process.exit(3);
}, Number(process.env.PARLEY_DEADLINE_MS) || 60_000);
watchdog.unref();

// ---------- shared with interop_test.go ----------

const AUTH_MAIN = { token: TOKEN, user: { name: 'Zoë 🌍', tags: ['a', 'b'] }, n: 7 };
const AUTH_ADMIN = { token: TOKEN, role: 'admin', nested: { deep: [1, { x: null }] } };
const REFUSAL = { message: 'unauthorized', data: { code: 4001, reason: 'bad token' } };

const TEXT = 'héllo wörld 🌍 日本語 \u0000 "quoted" </script>';
const INT = 42;
const FLOAT = -3.5;
const OBJ = { a: [1, 2, { b: 'c' }], n: null, t: true, s: 'line\nbreak\ttab\\' };
const BIG = 'parley-é🌍-'.repeat(8000); // 112,000 bytes of UTF-8

const BIN_TOP = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const BIN_OBJ = { nested: { buf: Buffer.from('héllo') }, arr: [Buffer.alloc(3, 7), 'x', Buffer.alloc(0)] };
const BIN_FROM_SERVER = [
  { bin: [0, 1, 2, 253, 254, 255] },
  { deep: [{ bin: bytes(Buffer.from('héllo')) }, { empty: { bin: [] } }], n: 1 },
  [{ bin: [1] }, { bin: [2, 2] }],
];

const SEQ_COUNT = 500;

// ---------- scenarios ----------

for (const mode of SELECTED) {
  if (!MODES[mode]) throw new Error(`unknown PARLEY_TRANSPORT mode ${mode}`);

  describe(`official client over ${mode}${reference ? ', reference server' : ''}`, () => {
    // scenario runs fn with a fresh Clients, closing them whatever happens.
    function scenario(name, fn) {
      it(name, { timeout: TEST_MS }, async () => {
        const c = new Clients(SERVER, mode);
        try {
          await fn(c);
        } finally {
          c.close();
        }
      });
    }

    // checkTransport asserts the connection's transport for this mode, on
    // the client and as the Go server sees it.
    async function checkTransport(socket) {
      const want = mode === 'polling' ? 'polling' : 'websocket';
      assert.equal(engineTransport(socket), want, 'client transport');
      const [me] = await ack(socket, 'whoami');
      assert.equal(me.transport, want, 'server transport');
    }

    scenario('connects to / with auth, echoed by the server', async (c) => {
      const s = await c.connect('/', { auth: AUTH_MAIN });
      await checkTransport(s);
      const [me] = await ack(s, 'whoami');
      assert.equal(me.id, s.id);
      assert.equal(me.nsp, '/');
      assert.deepEqual(me.auth, AUTH_MAIN);
    });

    scenario('connects to /admin with auth, echoed by the server', async (c) => {
      const s = await c.connect('/admin', { auth: AUTH_ADMIN });
      await checkTransport(s);
      const [me] = await ack(s, 'whoami');
      assert.equal(me.id, s.id);
      assert.equal(me.nsp, '/admin');
      assert.deepEqual(me.auth, AUTH_ADMIN);
    });

    scenario('middleware refusal gives connect_error with message and data', async (c) => {
      for (const nsp of ['/', '/admin']) {
        const s = c.socket(nsp, { auth: { token: 'wrong' } });
        const err = await connectError(s);
        assert.equal(err.message, REFUSAL.message, nsp);
        assert.deepEqual(err.data, REFUSAL.data, nsp);
        // A namespace refusal is final: the client does not retry.
        assert.equal(s.active, false, `${nsp}: socket still active`);
      }
    });

    scenario('unknown namespace gives connect_error "Invalid namespace"', async (c) => {
      const err = await connectError(c.socket('/nope'));
      assert.equal(err.message, 'Invalid namespace');
    });

    scenario('emit and receive strings, numbers, objects, unicode, 100 KB', async (c) => {
      const s = await c.connect();
      // Echoed verbatim by the server (EmitRaw), as an event.
      const echoed = once(s, 'echo');
      s.emit('echo', TEXT, INT, FLOAT, OBJ, BIG, true, null, [], {});
      assert.deepEqual(await echoed, [TEXT, INT, FLOAT, OBJ, BIG, true, null, [], {}]);
      // Decoded into Go types, then encoded again by Go, as an ack.
      const back = await ack(s, 'typed', TEXT, INT, FLOAT, OBJ, BIG);
      assert.deepEqual(back, [TEXT, INT, FLOAT, OBJ, Buffer.byteLength(BIG), BIG]);
    });

    scenario('client emit with ack callback (server Event.Ack)', async (c) => {
      const s = await c.connect();
      const reply = await new Promise((resolve) => {
        s.emit('echo-ack', 'a', 1, { b: [2] }, (...args) => resolve(args));
      });
      assert.deepEqual(reply, ['a', 1, { b: [2] }]);
      assert.deepEqual(await ack(s, 'echo-ack'), []);
    });

    scenario('server EmitWithAck, client replies, reply reaches the server', async (c) => {
      const s = await c.connect();
      let asked;
      s.on('question', (q, n, buf, cb) => {
        asked = [q, n, plain(buf)];
        cb('answer', n * 6, Buffer.from([1, 2, 3]));
      });
      const seen = once(s, 'answer-seen');
      s.emit('ask-me');
      const [text, n, buf] = await seen;
      assert.deepEqual(asked, ['what is six times seven?', 7, { bin: [9, 8, 7] }]);
      assert.deepEqual([text, n, plain(buf)], ['answer', 42, { bin: [1, 2, 3] }]);
    });

    scenario('server EmitWithAck times out when the client never replies', async (c) => {
      const s = await c.connect();
      let got = 0;
      s.on('silent', (cb) => {
        assert.equal(typeof cb, 'function');
        got++;
      });
      const timedOut = once(s, 'silent-timeout');
      s.emit('ask-silent');
      const [msg] = await timedOut;
      assert.equal(got, 1);
      assert.match(msg, /timed out/);
    });

    scenario('client timeout against a handler that never acks', async (c) => {
      const s = await c.connect();
      const started = Date.now();
      const err = await new Promise((resolve) => {
        s.timeout(200).emit('never-ack', 1, (err) => resolve(err));
      });
      assert.ok(err instanceof Error, 'expected a timeout error');
      assert.equal(err.message, 'operation has timed out');
      assert.ok(Date.now() - started >= 190, 'timed out too early');
      // The connection is still fine.
      assert.deepEqual(await ack(s, 'echo-ack', 'still here'), ['still here']);
    });

    scenario('binary from client, top level and nested, echoed back', async (c) => {
      const s = await c.connect();
      const back = await ack(s, 'bin', BIN_TOP, BIN_OBJ);
      assert.deepEqual(plain(back), plain([BIN_TOP, BIN_OBJ]));
      // Also as an event, echoed verbatim with its attachments.
      const echoed = once(s, 'echo');
      s.emit('echo', BIN_OBJ, BIN_TOP);
      assert.deepEqual(plain(await echoed), plain([BIN_OBJ, BIN_TOP]));
    });

    scenario('binary from server, top level and nested', async (c) => {
      const s = await c.connect();
      const got = once(s, 'bin-from-server');
      assert.deepEqual(await ack(s, 'bin-please'), [true]);
      assert.deepEqual(plain(await got), BIN_FROM_SERVER);
    });

    scenario('rooms: join, leave, to-room, broadcast', async (c) => {
      const [a, b, d] = await Promise.all([c.connect(), c.connect(), c.connect()]);
      const name = new Map([[a.id, 'a'], [b.id, 'b'], [d.id, 'd']]);
      const inbox = { a: [], b: [], d: [] };
      for (const [who, s] of [['a', a], ['b', b], ['d', d]]) {
        s.on('room-msg', (from, msg) => inbox[who].push(`${name.get(from)}:${msg}`));
        s.on('broadcast-msg', (from, msg) => inbox[who].push(`*${name.get(from)}:${msg}`));
      }
      // Every broadcast is queued before the sender's ack; a round trip on
      // each receiver after that ack flushes whatever it was sent.
      const settle = () => Promise.all([a, b, d].map((s) => ack(s, 'sync')));

      await ack(a, 'join', 'r1');
      await ack(a, 'join', 'r2');
      await ack(b, 'join', 'r1');
      await ack(a, 'to-room', ['r1'], 'm1'); // b only: the sender is excluded
      await ack(d, 'to-room', ['r1', 'r2'], 'm2'); // a (in both) once, b
      await ack(b, 'leave', 'r1');
      await ack(d, 'to-room', ['r1'], 'm3'); // a only
      await ack(b, 'to-room', ['r2'], 'm4'); // a: b is not in r2, still sends
      await ack(a, 'broadcast', 'm5'); // b, d
      await settle();

      assert.deepEqual(inbox, {
        a: ['d:m2', 'd:m3', 'b:m4'],
        b: ['a:m1', 'd:m2', '*a:m5'],
        d: ['*a:m5'],
      });
    });

    scenario('server Disconnect(false): "io server disconnect", no reconnection', async (c) => {
      const s = await c.connect();
      let reconnects = 0;
      const gone = once(s, 'disconnect');
      s.on('connect', () => reconnects++);
      s.emit('kick-me');
      const [reason] = await gone;
      assert.equal(reason, 'io server disconnect');
      assert.equal(s.connected, false);
      assert.equal(s.active, false, 'the client would reconnect');
      await delay(300); // reconnectionDelay is 50 ms: time for a wrong retry
      assert.equal(reconnects, 0, 'the client reconnected');
    });

    scenario('server closes the transport: "transport close", reconnect, works again', async (c) => {
      const s = await c.connect();
      const first = s.id;
      const gone = once(s, 'disconnect');
      const back = once(s, 'connect');
      s.emit('drop-transport');
      const [reason] = await gone;
      assert.equal(reason, 'transport close');
      assert.equal(s.active, true, 'the client gave up');
      await back;
      assert.notEqual(s.id, first, 'same socket id after reconnecting');
      if (mode === 'upgrade') await upgraded(s);
      await checkTransport(s);
      assert.deepEqual(await ack(s, 'echo-ack', 'again'), ['again']);
    });

    scenario(`${SEQ_COUNT} messages arrive in order`, async (c) => {
      // In upgrade mode, send at once: the burst straddles the upgrade.
      const s = await c.connect('/', { waitUpgrade: false });
      const got = [];
      s.on('seq', (n) => got.push(n));
      for (let i = 0; i < SEQ_COUNT; i++) s.emit('seq', i);
      await eventually(() => assert.equal(got.length, SEQ_COUNT), 8000);
      assert.deepEqual(got, Array.from({ length: SEQ_COUNT }, (_, i) => i));
      if (mode === 'upgrade') await upgraded(s);
      await checkTransport(s);
    });

    scenario('two namespaces multiplexed on one connection', async (c) => {
      const tag = `mux-${mode}-${Date.now()}`;
      const m = c.manager({ query: { mux: tag } });
      const main = m.socket('/', { auth: AUTH_MAIN });
      const admin = m.socket('/admin', { auth: AUTH_ADMIN });
      await Promise.all([connected(main), connected(admin)]);
      assert.equal(main.io, admin.io);
      if (mode === 'upgrade') await upgraded(main);
      const engineID = m.engine.id;

      const [[wm], [wa]] = await Promise.all([ack(main, 'whoami'), ack(admin, 'whoami')]);
      assert.deepEqual([wm.nsp, wm.mux, wm.id], ['/', tag, main.id]);
      assert.deepEqual([wa.nsp, wa.mux, wa.id], ['/admin', tag, admin.id]);
      assert.deepEqual(wa.auth, AUTH_ADMIN);

      // Interleaved traffic on both namespaces.
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => (
        ack(i % 2 ? admin : main, 'echo-ack', i, i % 2 ? 'admin' : 'main')
      )));
      assert.deepEqual(replies, Array.from({ length: 20 }, (_, i) => [i, i % 2 ? 'admin' : 'main']));

      // Leaving one namespace leaves the other, and the connection, up.
      main.disconnect();
      assert.deepEqual(await ack(admin, 'echo-ack', 'alone'), ['alone']);
      assert.equal(m.engine.id, engineID, 'a new Engine.IO connection was made');
      await checkTransport(admin);
    });
  });
}
