// Browser tests for our own Socket.IO client, web/static/socket.io.js.
//
//   node --test test/js/client.test.mjs      (from the repo root or test/js)
//
// Chromium (/usr/bin/chromium, driven by playwright-core) loads a tiny page
// and our client from the server under test, and each scenario runs inside
// the page over every transport mode: ["websocket"], ["polling"],
// ["polling","websocket"] (must upgrade) and the default (websocket first).
//
// The server under test is a parameter. By default it is an in-process
// reference server (the npm socket.io package, test-only, serveClient off).
// With PARLEY_URL=http://127.0.0.1:PORT the same scenarios run against that
// server instead; our client is then injected into whatever page it serves
// at /__client_test__.html (a 404 with a body, like Go's http.NotFound, will
// do), so it only has to implement this test app:
//
//   namespaces "/" and "/second", on each socket:
//     "whoami" (ack)            ack({ id, nsp, auth, query }) from the handshake
//     "echo" (...args[, ack])   ack(...args), or without ack emit("echo", ...args)
//     "ask" (ev, ...args)       emit(ev, ...args, ack) to the client with a
//                               5 s timeout, then emit("answer", [...ackArgs])
//                               or emit("answer", { error })
//     "no-ack" (...args, ack)   never acks
//     "server-disconnect"       disconnect the socket (DISCONNECT packet)
//     "server-drop"             close the Engine.IO connection (transport)
//   namespace "/private": refuse every connection with CONNECT_ERROR
//     { message: "not authorized", data: { code: 42 } }
//   with connection state recovery (PARLEY_RECOVERY_URL, may equal PARLEY_URL):
//     "recovery-baseline" (ack) broadcast "seq" 0 to the socket's own room, then ack()
//     "recovery-drop" (n)       close the transport; once the server sees the
//                               disconnect, broadcast "seq" 1..n to that room
//
// Reference-server-only: the fallback test against a server that refuses
// WebSocket. Transport-independent: tests against a mocked WebSocket server
// (Playwright routeWebSocket) for ping timeout and parse errors.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';
import { chromium } from 'playwright-core';
import { WAIT_MS, eventually } from './helpers.mjs';

const CHROMIUM = '/usr/bin/chromium';
const CLIENT_FILE = fileURLToPath(new URL('../../web/static/socket.io.js', import.meta.url));
const PAGE_PATH = '/__client_test__.html';
const TEST_TIMEOUT = 20_000; // per test
const PAGE_DEADLINE = 15_000; // per page.evaluate

const skipAll = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium); skipping browser tests`;

// Helpers available in the page, next to our client.
function pageHelpers() {
  window.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  // waitFor resolves with the arguments of the next `ev` on emitter.
  window.waitFor = (emitter, ev, ms = 5000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(ev, on);
      reject(new Error(`timed out after ${ms} ms waiting for "${ev}"`));
    }, ms);
    function on(...args) {
      clearTimeout(timer);
      resolve(args);
    }
    emitter.once(ev, on);
  });
  // until waits for cond() to hold, polling to a deadline with eventually
  // (helpers.mjs, see PAGE_SCRIPT).
  window.until = (cond, what, ms = 5000) => eventually(() => {
    if (!cond()) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }, ms);
  window.connect = async (url, opts) => {
    const socket = io(url, opts);
    await waitFor(socket, 'connect');
    return socket;
  };
  window.bytes = (buf) => Array.from(new Uint8Array(buf));
  window.pollingRequests = () => performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('transport=polling')).length;
  // ack turns a callback-style emit into a promise of all ack arguments.
  window.ack = (socket, ...args) => new Promise((resolve) => socket.emit(...args, (...resp) => resolve(resp)));
}

// PAGE_SCRIPT installs the helpers in a page: the one eventually of
// helpers.mjs, then pageHelpers.
const PAGE_SCRIPT = `window.eventually = ((WAIT_MS) => ${eventually})(${WAIT_MS});\n(${pageHelpers})();\n`;

const PAGE_HTML = `<!doctype html>
<meta charset="utf-8">
<title>parley client test</title>
<script src="/client.js"></script>
<script>${PAGE_SCRIPT}</script>
`;

// ---- servers under test ---------------------------------------------------

// installTestApp installs the test app described at the top.
function installTestApp(io) {
  for (const name of ['/', '/second']) {
    io.of(name).on('connection', (socket) => {
      socket.on('whoami', (ack) => {
        const { id, nsp, handshake } = socket;
        ack({ id, nsp: nsp.name, auth: handshake.auth, query: handshake.query });
      });
      socket.on('echo', (...args) => {
        if (typeof args.at(-1) === 'function') args.pop()(...args);
        else socket.emit('echo', ...args);
      });
      socket.on('ask', (ev, ...args) => {
        socket.timeout(5000).emit(ev, ...args, (err, ...resp) => {
          socket.emit('answer', err ? { error: err.message } : resp);
        });
      });
      socket.on('no-ack', () => {});
      socket.on('server-disconnect', () => socket.disconnect());
      socket.on('server-drop', () => socket.conn.close());
      socket.on('recovery-baseline', (ack) => {
        socket.nsp.to(socket.id).emit('seq', 0);
        ack();
      });
      socket.on('recovery-drop', (n) => {
        socket.once('disconnect', () => {
          for (let i = 1; i <= n; i++) socket.nsp.to(socket.id).emit('seq', i);
        });
        socket.conn.close();
      });
    });
  }
  io.of('/private').use((socket, next) => {
    const err = new Error('not authorized');
    err.data = { code: 42 };
    next(err);
  });
}

// startReferenceServer serves the page and our client, and the test app on
// the npm socket.io server, on 127.0.0.1 and an ephemeral port.
async function startReferenceServer(opts = {}) {
  const client = fs.readFileSync(CLIENT_FILE);
  const httpServer = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost');
    if (pathname === PAGE_PATH) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE_HTML);
    } else if (pathname === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(client);
    } else {
      res.writeHead(404).end();
    }
  });
  // Frequent pings exercise the heartbeat in every test; the generous
  // pingTimeout tolerates a loaded machine (event-loop stalls near 1 s seen).
  const io = new Server(httpServer, { serveClient: false, pingInterval: 500, pingTimeout: 5000, ...opts });
  installTestApp(io);
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${httpServer.address().port}`;
  return {
    url,
    async close() {
      const closed = io.close();
      httpServer.closeAllConnections();
      await closed;
    },
  };
}

// externalServer is a server we did not start. The page is whatever it
// answers at PAGE_PATH (a 404 with a body will do): the document must come from the
// server itself, as Chromium's local network access checks block WebSockets
// to loopback from documents Playwright fulfils. Our client and the helpers
// are injected into it at document start.
function externalServer(url) {
  url = url.replace(/\/+$/, '');
  const script = `${fs.readFileSync(CLIENT_FILE, 'utf8')}\n;${PAGE_SCRIPT}`;
  return {
    url,
    async prepare(page) {
      await page.addInitScript({ content: script });
    },
    async close() {},
  };
}

// freePort returns a loopback port that nothing listens on (just closed).
async function freePort() {
  const srv = http.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// ---- harness ----------------------------------------------------------------

let browser;
const servers = {}; // main, recovery (optional), noWebSocket (reference only)

before(async () => {
  if (skipAll) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  if (process.env.PARLEY_URL) {
    servers.main = externalServer(process.env.PARLEY_URL);
    if (process.env.PARLEY_RECOVERY_URL) servers.recovery = externalServer(process.env.PARLEY_RECOVERY_URL);
  } else {
    servers.main = await startReferenceServer();
    servers.recovery = await startReferenceServer({ connectionStateRecovery: {} });
    servers.noWebSocket = await startReferenceServer({ transports: ['polling'] });
  }
});

after(async () => {
  if (browser) await browser.close();
  await Promise.all(Object.values(servers).map((s) => s.close()));
});

// inPage runs fn(arg) in a fresh browser context on server's page and returns
// its result. setup(page) may add routes first. The context is always closed.
async function inPage(server, fn, arg, setup) {
  const context = await browser.newContext();
  const pageErrors = [];
  let timer;
  try {
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    if (server.prepare) await server.prepare(page);
    if (setup) await setup(page);
    await page.goto(server.url + PAGE_PATH);
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`page scenario exceeded ${PAGE_DEADLINE} ms`)), PAGE_DEADLINE);
    });
    const result = await Promise.race([page.evaluate(fn, arg), deadline]);
    assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
    return result;
  } finally {
    clearTimeout(timer);
    await context.close();
  }
}

// Client options of every scenario: fast reconnects, bounded connect.
const FAST = { reconnectionDelay: 100, reconnectionDelayMax: 400, timeout: 5000 };

const MODES = [
  { name: 'websocket', transports: ['websocket'], expect: 'websocket' },
  { name: 'polling', transports: ['polling'], expect: 'polling' },
  { name: 'polling+upgrade', transports: ['polling', 'websocket'], expect: 'websocket' },
  { name: 'default (websocket first)', expect: 'websocket' },
];

// ---- scenarios over every transport mode ----------------------------------

for (const mode of MODES) {
  const opts = { ...FAST, transports: mode.transports };
  const arg = { opts, mode };

  describe(`client over ${mode.name}`, { skip: skipAll }, () => {
    test('connects with auth and the expected transport', { timeout: TEST_TIMEOUT }, async () => {
      const r = await inPage(servers.main, async ({ opts, mode }) => {
        const s = io({ ...opts, auth: { token: 'abc', n: 1 }, query: { room: 'lobby' } });
        const states = [[s.connected, s.disconnected]];
        await waitFor(s, 'connect');
        states.push([s.connected, s.disconnected]);
        const atConnect = s.io.engine.transport.name;
        const who = await s.emitWithAck('whoami');
        if (mode.expect === 'websocket') await until(() => s.io.engine.transport.name === 'websocket', 'the upgrade');
        else await sleep(300); // give a wrong upgrade the time to happen
        const echo = await ack(s, 'echo', 'after', { upgrade: true });
        // auth as a function, called on each connect
        const s2 = io('/second', { ...opts, auth: (cb) => cb({ via: 'function' }) });
        await waitFor(s2, 'connect');
        const who2 = await s2.emitWithAck('whoami');
        return {
          who, who2, id: s.id, states, atConnect, recovered: s.recovered, echo,
          transport: s.io.engine.transport.name, polling: pollingRequests(),
        };
      }, arg);
      assert.deepEqual(r.who.auth, { token: 'abc', n: 1 });
      assert.equal(r.who.query.room, 'lobby');
      assert.equal(r.who.query.EIO, '4');
      assert.equal(r.who.nsp, '/');
      assert.equal(r.who.id, r.id);
      assert.deepEqual(r.states, [[false, true], [true, false]]);
      assert.equal(r.recovered, false);
      assert.deepEqual(r.who2.auth, { via: 'function' });
      assert.equal(r.who2.nsp, '/second');
      assert.deepEqual(r.echo, ['after', { upgrade: true }]);
      assert.equal(r.transport, mode.expect);
      if (mode.name === 'polling+upgrade') {
        assert.ok(r.polling > 0, 'the session starts on polling'); // may upgrade before CONNECT's reply
      } else if (mode.expect === 'websocket') {
        assert.equal(r.atConnect, 'websocket');
        assert.equal(r.polling, 0, 'no polling request on a websocket-first connection');
      }
    });

    test('emits and receives, buffering emits made before connect', { timeout: TEST_TIMEOUT }, async () => {
      const got = await inPage(servers.main, async ({ opts }) => {
        const s = io(opts);
        const got = [];
        s.on('echo', (...args) => got.push(args));
        s.emit('echo', 'early', 1); // not connected yet: buffered
        const chained = s.emit('echo', 'second') === s;
        await waitFor(s, 'connect');
        s.emit('echo', 'héllo ✓ 🎉 \x1e sep', { a: [1, 2, null], b: true }, null);
        await until(() => got.length === 3, '3 echoes');
        got.push(chained);
        return got;
      }, arg);
      assert.deepEqual(got, [
        ['early', 1],
        ['second'],
        ['héllo ✓ 🎉 \x1e sep', { a: [1, 2, null], b: true }, null],
        true,
      ]);
    });

    test('acks both ways', { timeout: TEST_TIMEOUT }, async () => {
      const r = await inPage(servers.main, async ({ opts }) => {
        const s = await connect('/', opts);
        const clientAck = await ack(s, 'echo', 'a', 2, { c: 3 });
        const withAck = await s.emitWithAck('echo', 'x', 'ignored');
        s.on('question', (a, b, cb) => cb(a * 2, b + '!'));
        const answer = waitFor(s, 'answer');
        s.emit('ask', 'question', 21, 'ok');
        return { clientAck, withAck, serverAck: (await answer)[0] };
      }, arg);
      assert.deepEqual(r.clientAck, ['a', 2, { c: 3 }]);
      assert.equal(r.withAck, 'x');
      assert.deepEqual(r.serverAck, [42, 'ok!']);
    });

    test('timeout().emit fails with an Error when the server never acks', { timeout: TEST_TIMEOUT }, async () => {
      const r = await inPage(servers.main, async ({ opts }) => {
        const s = await connect('/', opts);
        const t0 = Date.now();
        const [err, ...rest] = await new Promise((resolve) => s.timeout(200).emit('no-ack', 1, (...a) => resolve(a)));
        const elapsed = Date.now() - t0;
        let rejected = null;
        try {
          await s.timeout(100).emitWithAck('no-ack');
        } catch (e) {
          rejected = e instanceof Error && e.message;
        }
        const acked = await new Promise((resolve) => s.timeout(3000).emit('echo', 'y', (...a) => resolve(a)));
        const ackedWithPromise = await s.timeout(3000).emitWithAck('echo', 'z');
        return { isError: err instanceof Error, message: err.message, rest, elapsed, rejected, acked, ackedWithPromise };
      }, arg);
      assert.equal(r.isError, true);
      assert.match(r.message, /timed out/);
      assert.deepEqual(r.rest, []);
      assert.ok(r.elapsed >= 190 && r.elapsed < 2000, `timed out after ${r.elapsed} ms`);
      assert.match(r.rejected, /timed out/);
      assert.deepEqual(r.acked, [null, 'y']);
      assert.equal(r.ackedWithPromise, 'z');
    });

    test('binary both ways, top-level and nested', { timeout: TEST_TIMEOUT }, async () => {
      const r = await inPage(servers.main, async ({ opts }) => {
        const s = await connect('/', opts);
        // client -> server (BINARY_EVENT) and the server's BINARY_ACK back
        const view = new Uint8Array([9, 9, 1, 2, 3, 9]).subarray(2, 5); // a view with an offset
        const nested = { label: 'n', inner: { ab: new Uint8Array([4, 5]).buffer, list: [new Uint8Array([6, 7]), 'x'] } };
        const [a, b] = await ack(s, 'echo', view, nested);
        // server -> client BINARY_EVENT
        const event = waitFor(s, 'echo');
        s.emit('echo', new Uint8Array([250, 251]), 'tail');
        const [c, tail] = await event;
        // client -> server BINARY_ACK
        s.on('question', (x, cb) => cb({ data: new Uint8Array([x, x + 1]).buffer }));
        const answer = waitFor(s, 'answer');
        s.emit('ask', 'question', 7);
        const [[d]] = await answer;
        // a large payload (base64 in polling)
        const big = new Uint8Array(300_000).map((_, i) => (i * 31) % 256);
        const [bigBack] = await ack(s, 'echo', big);
        const bigOk = bigBack.byteLength === big.length && new Uint8Array(bigBack).every((v, i) => v === big[i]);
        return {
          a: bytes(a), aType: a.constructor.name,
          b: { label: b.label, ab: bytes(b.inner.ab), list0: bytes(b.inner.list[0]), list1: b.inner.list[1] },
          c: bytes(c), cType: c.constructor.name, tail,
          d: bytes(d.data), bigOk,
        };
      }, arg);
      assert.deepEqual(r.a, [1, 2, 3]);
      assert.equal(r.aType, 'ArrayBuffer');
      assert.deepEqual(r.b, { label: 'n', ab: [4, 5], list0: [6, 7], list1: 'x' });
      assert.deepEqual(r.c, [250, 251]);
      assert.equal(r.cType, 'ArrayBuffer');
      assert.equal(r.tail, 'tail');
      assert.deepEqual(r.d, [7, 8]);
      assert.equal(r.bigOk, true);
    });

    test('splits polling payloads to respect maxPayload', { timeout: TEST_TIMEOUT }, async () => {
      const r = await inPage(servers.main, async ({ opts }) => {
        const s = await connect('/', opts);
        const maxPayload = s.io.engine.maxPayload;
        const big = 'x'.repeat(Math.ceil(maxPayload / 3)); // 6 of them exceed maxPayload
        const got = [];
        const reasons = [];
        s.on('echo', (m, i) => got.push(m === big ? i : 'corrupt'));
        s.on('disconnect', (reason) => reasons.push(reason));
        for (let i = 0; i < 6; i++) s.emit('echo', big, i);
        await until(() => got.length === 6, '6 echoes', 10_000);
        return { maxPayload, got, reasons };
      }, arg);
      assert.ok(r.maxPayload > 0);
      assert.deepEqual(r.got, [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(r.reasons, []);
    });

    test('retries with backoff while the server is down, then reconnect_failed', { timeout: TEST_TIMEOUT }, async () => {
      const port = await freePort();
      const r = await inPage(servers.main, async ({ opts, port }) => {
        const s = io(`http://127.0.0.1:${port}`, { ...opts, reconnectionAttempts: 2 });
        const events = [];
        s.on('connect_error', (e) => events.push('connect_error:' + (e instanceof Error)));
        for (const ev of ['reconnect_attempt', 'reconnect_error', 'reconnect_failed']) {
          s.io.on(ev, (x) => events.push(ev + (typeof x === 'number' ? ':' + x : '')));
        }
        await until(() => events.includes('reconnect_failed'), 'reconnect_failed', 10_000);
        await sleep(300); // nothing after reconnect_failed
        return { events, connected: s.connected, active: s.active };
      }, { ...arg, port });
      assert.deepEqual(r.events, [
        'connect_error:true',
        'reconnect_attempt:1', 'connect_error:true', 'reconnect_error',
        'reconnect_attempt:2', 'connect_error:true', 'reconnect_failed', 'reconnect_error',
      ]);
      assert.equal(r.connected, false);
      assert.equal(r.active, true); // socket.connect() would try again
    });

    test('namespaces share one connection', { timeout: TEST_TIMEOUT }, async () => {
      const r = await inPage(servers.main, async ({ opts }) => {
        const main = io(location.origin, opts); // absolute URL
        const second = io('/second', opts); // relative URL, same origin
        await Promise.all([waitFor(main, 'connect'), waitFor(second, 'connect')]);
        const sameManager = main.io === second.io;
        const engineId = main.io.engine.id;
        const [whoMain, whoSecond] = await Promise.all([main.emitWithAck('whoami'), second.emitWithAck('whoami')]);
        const heard = [];
        main.on('echo', (x) => heard.push('main:' + x));
        second.on('echo', (x) => heard.push('second:' + x));
        second.emit('echo', 'B');
        main.emit('echo', 'A');
        await until(() => heard.length === 2, 'two echoes');
        await sleep(100);
        second.disconnect();
        const afterSecond = { main: main.connected, engine: main.io.engine.readyState, echo: await main.emitWithAck('echo', 'still') };
        main.disconnect();
        await until(() => main.io.engine.readyState === 'closed', 'the connection to close');
        return { sameManager, engineId, whoMain, whoSecond, heard: heard.sort(), afterSecond };
      }, arg);
      assert.equal(r.sameManager, true);
      assert.ok(r.engineId);
      assert.equal(r.whoMain.nsp, '/');
      assert.equal(r.whoSecond.nsp, '/second');
      assert.notEqual(r.whoMain.id, r.whoSecond.id);
      assert.deepEqual(r.heard, ['main:A', 'second:B']);
      assert.deepEqual(r.afterSecond, { main: true, engine: 'open', echo: 'still' });
    });

    test('connect_error carries the middleware error data', { timeout: TEST_TIMEOUT }, async () => {
      const r = await inPage(servers.main, async ({ opts }) => {
        const s = io('/private', { ...opts, auth: { token: 'nope' } });
        const errors = [];
        s.on('connect_error', (e) => errors.push({ isError: e instanceof Error, message: e.message, data: e.data }));
        s.on('connect', () => errors.push('connected?!'));
        await until(() => errors.length > 0, 'connect_error');
        await sleep(500); // reconnectionDelay is 100 ms: a retry would show by now
        return { errors, connected: s.connected, active: s.active };
      }, arg);
      assert.deepEqual(r.errors, [{ isError: true, message: 'not authorized', data: { code: 42 } }]);
      assert.equal(r.connected, false);
      assert.equal(r.active, false);
    });

    test('server disconnect: "io server disconnect", no reconnect', { timeout: TEST_TIMEOUT }, async () => {
      const r = await inPage(servers.main, async ({ opts }) => {
        const s = await connect('/', opts);
        const events = [];
        s.on('disconnect', (reason) => events.push('disconnect:' + reason));
        s.on('connect', () => events.push('connect'));
        s.io.on('reconnect_attempt', () => events.push('reconnect_attempt'));
        s.emit('server-disconnect');
        await until(() => events.length > 0, 'disconnect');
        await sleep(500); // reconnectionDelay is 100 ms: a reconnect would show by now
        const state = { events: events.slice(), connected: s.connected, active: s.active, id: s.id };
        s.connect(); // a manual connect works
        await waitFor(s, 'connect');
        return { ...state, reconnected: s.connected, echo: await s.emitWithAck('echo', 'again') };
      }, arg);
      assert.deepEqual(r.events, ['disconnect:io server disconnect']);
      assert.equal(r.connected, false);
      assert.equal(r.active, false);
      assert.equal(r.id, undefined);
      assert.equal(r.reconnected, true);
      assert.equal(r.echo, 'again');
    });

    test('client disconnect: "io client disconnect", no reconnect', { timeout: TEST_TIMEOUT }, async () => {
      const r = await inPage(servers.main, async ({ opts }) => {
        const s = await connect('/', opts);
        const events = [];
        s.on('disconnect', (reason) => events.push('disconnect:' + reason));
        s.io.on('reconnect_attempt', () => events.push('reconnect_attempt'));
        const returned = s.disconnect() === s;
        await sleep(400);
        return { events, returned, connected: s.connected, engine: s.io.engine.readyState };
      }, arg);
      assert.deepEqual(r.events, ['disconnect:io client disconnect']);
      assert.deepEqual([r.returned, r.connected, r.engine], [true, false, 'closed']);
    });

    test('transport drop: "transport close", then automatic reconnect', { timeout: TEST_TIMEOUT }, async () => {
      const r = await inPage(servers.main, async ({ opts, mode }) => {
        const s = await connect('/', opts);
        if (mode.expect === 'websocket') await until(() => s.io.engine.transport.name === 'websocket', 'the upgrade');
        const firstId = s.id;
        const events = [];
        const echoes = [];
        s.on('echo', (x) => echoes.push(x));
        s.on('disconnect', (reason) => {
          events.push('disconnect:' + reason);
          s.emit('echo', 'while away'); // buffered, sent after the reconnect
        });
        s.on('connect', () => events.push('connect'));
        s.io.on('reconnect_attempt', (n) => events.push('reconnect_attempt:' + n));
        s.io.on('reconnect', (n) => events.push('reconnect:' + n));
        s.emit('server-drop');
        await until(() => events.includes('connect'), 'the reconnect', 15000); // the backoff's first delay, under a loaded machine's timers
        const echo = await s.emitWithAck('echo', 'after');
        await until(() => echoes.length > 0, 'the buffered echo');
        return { events, newId: s.id !== firstId, echo, echoes };
      }, arg);
      assert.deepEqual(r.events, ['disconnect:transport close', 'reconnect_attempt:1', 'reconnect:1', 'connect']);
      assert.equal(r.newId, true);
      assert.equal(r.echo, 'after');
      assert.deepEqual(r.echoes, ['while away']);
    });

    test('heartbeat keeps the session alive', { timeout: TEST_TIMEOUT }, async (t) => {
      const r = await inPage(servers.main, async ({ opts }) => {
        const s = await connect('/', opts);
        const interval = s.io.engine.pingInterval;
        if (interval > 2000) return { skipped: `pingInterval is ${interval} ms` };
        const id = s.id;
        let pings = 0;
        s.io.on('ping', () => pings++);
        const reasons = [];
        s.on('disconnect', (reason) => reasons.push(reason));
        await until(() => pings >= 3, '3 pings', interval * 3 + 6000);
        return { pings, reasons, id: s.id === id };
      }, arg);
      if (r.skipped) return t.skip(r.skipped);
      assert.deepEqual(r.reasons, []);
      assert.equal(r.id, true);
    });

    test('connection state recovery replays missed events once, in order', { timeout: TEST_TIMEOUT }, async (t) => {
      if (!servers.recovery) return t.skip('no recovery server (set PARLEY_RECOVERY_URL)');
      const r = await inPage(servers.recovery, async ({ opts, mode }) => {
        const s = await connect('/', opts);
        if (mode.expect === 'websocket') await until(() => s.io.engine.transport.name === 'websocket', 'the upgrade');
        const firstRecovered = s.recovered;
        const seen = [];
        s.on('seq', (n, offset) => seen.push([n, typeof offset]));
        await s.emitWithAck('recovery-baseline');
        await until(() => seen.length === 1, 'seq 0');
        const firstId = s.id;
        const reasons = [];
        s.on('disconnect', (reason) => reasons.push(reason));
        const back = new Promise((resolve) => s.once('connect', resolve));
        s.emit('recovery-drop', 3);
        await back;
        await until(() => seen.length >= 4, 'the missed events');
        await sleep(300); // duplicates would show by now
        return { firstRecovered, recovered: s.recovered, sameId: s.id === firstId, seen, reasons };
      }, arg);
      assert.equal(r.firstRecovered, false);
      assert.deepEqual(r.reasons, ['transport close']);
      assert.equal(r.recovered, true);
      assert.equal(r.sameId, true);
      assert.deepEqual(r.seen, [[0, 'string'], [1, 'string'], [2, 'string'], [3, 'string']]);
    });
  });
}

// ---- transport fallback -----------------------------------------------------

describe('websocket-first fallback to polling', { skip: skipAll }, () => {
  test('a WebSocket that fails before opening falls back to polling', { timeout: TEST_TIMEOUT }, async () => {
    const r = await inPage(servers.main, async ({ opts }) => {
      // A network that blocks WebSocket: every WebSocket errors before opening.
      let attempts = 0;
      window.WebSocket = class {
        constructor() {
          attempts++;
          setTimeout(() => {
            if (this.onerror) this.onerror(new Event('error'));
            if (this.onclose) this.onclose(new CloseEvent('close', { code: 1006 }));
          }, 10);
        }
        send() {}
        close() {}
      };
      const s = await connect('/', opts);
      const who = await s.emitWithAck('whoami');
      await sleep(300); // no probe: the WebSocket just failed
      return { transport: s.io.engine.transport.name, attempts, nsp: who.nsp };
    }, { opts: FAST });
    assert.deepEqual(r, { transport: 'polling', attempts: 1, nsp: '/' });
  });

  test('a server refusing WebSocket gets a polling session', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!servers.noWebSocket) return t.skip('reference server only');
    const r = await inPage(servers.noWebSocket, async ({ opts }) => {
      const s = await connect('/', opts);
      return { transport: s.io.engine.transport.name, echo: await s.emitWithAck('echo', 'via polling') };
    }, { opts: FAST });
    assert.deepEqual(r, { transport: 'polling', echo: 'via polling' });
  });
});

// ---- a mocked server: heartbeat and protocol errors ------------------------

// mockServer answers the handshake and namespace CONNECT over a WebSocket that
// Playwright intercepts, then runs script(ws) for the scenario.
function mockServer(handshake, script) {
  return (page) => page.routeWebSocket(/\/socket\.io\//, (ws) => {
    ws.send('0' + JSON.stringify({ sid: 'mock-sid', upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6, ...handshake }));
    ws.onMessage((msg) => {
      if (msg === '40') ws.send('40{"sid":"mock-socket"}');
      else script(ws, msg);
    });
  });
}

describe('client against a mocked server', { skip: skipAll }, () => {
  const opts = { ...FAST, transports: ['websocket'], reconnection: false };

  test('answers pings and closes with "ping timeout" when they stop', { timeout: TEST_TIMEOUT }, async () => {
    const received = [];
    const setup = mockServer({ pingInterval: 200, pingTimeout: 200 }, (ws, msg) => {
      received.push(msg);
      if (msg === '42["ping-me"]') ws.send('2');
    });
    const r = await inPage(servers.main, async ({ opts }) => {
      const s = await connect('/', opts);
      s.emit('ping-me');
      await waitFor(s.io, 'ping');
      const t0 = Date.now();
      const [reason] = await waitFor(s, 'disconnect', 3000);
      return { reason, elapsed: Date.now() - t0 };
    }, { opts }, setup);
    assert.equal(r.reason, 'ping timeout');
    assert.ok(r.elapsed >= 350 && r.elapsed < 1500, `ping timeout after ${r.elapsed} ms`);
    assert.deepEqual(received, ['42["ping-me"]', '3']);
  });

  for (const [name, bad] of [
    ['an unknown packet type', '4Z["x"]'],
    ['invalid JSON', '42["x"'],
    ['an event with a reserved name', '42["connect"]'],
    ['binary data outside a packet', new Uint8Array([1, 2]).buffer],
  ]) {
    test(`closes with "parse error" on ${name}`, { timeout: TEST_TIMEOUT }, async () => {
      const setup = mockServer({}, (ws, msg) => {
        if (msg === '42["send-bad"]') ws.send(typeof bad === 'string' ? bad : Buffer.from(bad));
      });
      const r = await inPage(servers.main, async ({ opts }) => {
        const s = await connect('/', opts);
        s.emit('send-bad');
        const [reason] = await waitFor(s, 'disconnect');
        return { reason, engine: s.io.engine.readyState };
      }, { opts }, setup);
      assert.deepEqual(r, { reason: 'parse error', engine: 'closed' });
    });
  }
});
