// admin-official.test.mjs plays the Socket.IO Admin UI's side of its
// protocol (@socket.io/admin-ui 0.5) against parley's /admin namespace with
// the OFFICIAL socket.io-client: the login and its session id, config,
// all_sockets, server_stats, the events of sockets and rooms, and the
// commands emit, join, leave and _disconnect, with exact counts.
//
//   go test -run TestOfficialClientAdmin ./cmd/parley/   (starts the servers)
//
// Environment (the Go test sets it):
//   PARLEY_URL             a fresh parley with the Admin UI on, development mode.
//   PARLEY_PROD_URL        a fresh parley with the Admin UI on, production mode.
//   PARLEY_OFF_URL         a parley without the Admin UI.
//   PARLEY_ADMIN_USER      the username of both,
//   PARLEY_ADMIN_PASSWORD  and the password whose hash they were given.
//
// The tests run in order on one server, each closing what it opened; the
// first counts every socket of the server. Nothing here sleeps bare: each
// wait ends on an event or at a deadline, and "none of these" is checked
// after a later server_stats, which the server sends after what it queued
// before.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { WAIT_MS, eventually } from './helpers.mjs';

const SERVER = process.env.PARLEY_URL;
const PROD = process.env.PARLEY_PROD_URL;
const OFF = process.env.PARLEY_OFF_URL;
const USER = process.env.PARLEY_ADMIN_USER;
const PASSWORD = process.env.PARLEY_ADMIN_PASSWORD;

const FEATURES = ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS'];
const STATS_MS = 2000; // the server's interval

const watchdog = setTimeout(() => {
  console.error('admin-official: deadline passed; exiting');
  process.exit(3);
}, 90_000);
watchdog.unref();

const opened = [];
after(() => {
  for (const s of opened) s.disconnect();
});

// admin logs in to url's /admin with auth, as the UI does, and records
// every event it gets. It resolves once connected, or rejects with the
// connect error.
async function admin(url, auth, opts = {}) {
  const socket = io(`${url}/admin`, { forceNew: true, reconnection: false, auth, ...opts });
  opened.push(socket);
  const events = [];
  socket.onAny((name, ...args) => events.push({ name, args }));
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  // next waits for the first event called name, after those already
  // taken, that matches pred, and takes it.
  let seen = 0;
  const next = (name, pred = () => true, ms = WAIT_MS) => eventually(() => {
    for (let i = seen; i < events.length; i++) {
      const e = events[i];
      if (e.name === name && pred(...e.args)) {
        seen = i + 1;
        return e.args;
      }
    }
    throw new Error(`no ${name} event yet; got: ${events.slice(seen).map((e) => e.name).join(', ')}`);
  }, ms);
  const all = (name, pred = () => true) => events.filter((e) => e.name === name && pred(...e.args)).map((e) => e.args);
  // has waits until some event called name, in any order, matches pred.
  const has = (name, pred, ms = WAIT_MS) => eventually(() => assert.ok(all(name, pred).length > 0, `no such ${name}`), ms);
  // index is the place of the first event called name that matches pred.
  const index = (name, pred) => events.findIndex((e) => e.name === name && pred(...e.args));
  return { socket, events, next, all, has, index };
}

// client connects one socket to url's main namespace.
async function client(url, opts = {}) {
  const socket = io(url, { forceNew: true, reconnection: false, ...opts });
  opened.push(socket);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

const login = { username: USER, password: PASSWORD };

// barrier waits for a server_stats that the server sent after everything
// it had queued when barrier was called: the second one from now.
async function barrier(a) {
  const n = a.all('server_stats').length;
  await eventually(() => assert.ok(a.all('server_stats').length >= n + 2), 3 * STATS_MS);
}

describe('the Admin UI protocol, development mode', () => {
  let session = '';

  it('lists every socket in all_sockets, and welcomes the UI with its session, config and stats', async () => {
    const clients = await Promise.all([client(SERVER), client(SERVER, { transports: ['websocket'] }), client(SERVER)]);
    const a = await admin(SERVER, login);
    const [id] = await a.next('session');
    assert.match(id, /^[0-9a-f]{32}$/);
    session = id;
    const [config] = await a.next('config');
    assert.deepEqual(config.supportedFeatures, [...FEATURES, 'ALL_EVENTS']);
    const [sockets] = await a.next('all_sockets');
    const main = sockets.filter((s) => s.nsp === '/');
    assert.equal(main.length, clients.length, JSON.stringify(main));
    assert.deepEqual(main.map((s) => s.id).sort(), clients.map((c) => c.id).sort());
    const own = sockets.filter((s) => s.nsp === '/admin');
    assert.deepEqual(own.map((s) => s.id), [a.socket.id]);
    assert.equal(sockets.length, clients.length + 1);
    for (const s of main) {
      assert.deepEqual(s.rooms, [s.id, 'room:general'], 'a socket of the chat is in its own room and hears the default room');
      assert.equal(s.clientId.length, 12);
      assert.equal(s.handshake.address, '127.0.0.1');
      assert.equal(s.handshake.headers.cookie, undefined, 'credentials are not shown');
      assert.equal(s.handshake.query.EIO, '4');
      assert.equal(typeof s.handshake.issued, 'number');
      assert.equal(typeof s.data, 'object');
    }
    const ws = main.find((s) => s.id === clients[1].id);
    assert.equal(ws.transport, 'websocket');
    // The first stats come at once, the next on the interval.
    const [stats] = await a.next('server_stats');
    assert.equal(typeof stats.serverId, 'string');
    assert.equal(typeof stats.hostname, 'string');
    assert.equal(typeof stats.pid, 'number');
    assert.ok(stats.uptime > 0);
    assert.equal(stats.clientsCount, clients.length + 1);
    const byName = Object.fromEntries(stats.namespaces.map((n) => [n.name, n.socketsCount]));
    assert.deepEqual(byName, { '/': clients.length, '/admin': 1 });
    // Every socket is one client's.
    assert.equal(new Set(main.map((s) => s.clientId)).size, clients.length);
    for (const c of clients) c.disconnect();
    a.socket.disconnect();
  });

  it('counts polling clients and aggregates connections and traffic in server_stats', async () => {
    // The UI alone, once the earlier tests' connections are gone; then
    // what is counted from the next interval on is this test's.
    const a = await admin(SERVER, login);
    await a.next('server_stats', (s) => s.clientsCount === 1, 5 * STATS_MS);
    await a.next('server_stats');
    const from = a.all('server_stats').length;
    const since = () => a.all('server_stats').slice(from).flatMap(([s]) => s.aggregatedEvents);
    const polling = await Promise.all([1, 2].map(() => client(SERVER, { transports: ['polling'] })));
    const ws = await client(SERVER, { transports: ['websocket'] });
    const [stats] = await a.next('server_stats', (s) => s.pollingClientsCount === 2, 3 * STATS_MS);
    assert.equal(stats.clientsCount, 4, 'three clients and the UI');
    assert.equal(stats.namespaces.find((n) => n.name === '/').socketsCount, 3);
    // The three connections are counted once each, in the intervals since.
    await eventually(() => {
      const events = since();
      const sum = (type) => events.filter((e) => e.type === type).reduce((n, e) => n + e.count, 0);
      assert.equal(sum('rawConnection'), 3);
      for (const type of ['packetsIn', 'packetsOut', 'bytesIn', 'bytesOut']) assert.ok(sum(type) > 0, type);
      for (const e of events) assert.equal(e.timestamp % 1000, 0, 'counted per second');
    }, 3 * STATS_MS);
    for (const c of [...polling, ws]) c.disconnect();
    await eventually(() => {
      const events = since();
      const closed = events.filter((e) => e.type === 'rawDisconnection');
      assert.equal(closed.reduce((n, e) => n + e.count, 0), 3);
      assert.deepEqual([...new Set(closed.map((e) => e.subType))], ['transport close']);
    }, 3 * STATS_MS);
    a.socket.disconnect();
  });

  it('tells of a socket that connects, upgrades, joins, leaves and disconnects', async () => {
    const a = await admin(SERVER, login);
    await a.next('all_sockets');
    const c = await client(SERVER); // polling, then the upgrade
    const cid = c.id; // the client forgets it once disconnected
    const [s, at] = await a.next('socket_connected', (s) => s.id === c.id);
    assert.equal(s.nsp, '/');
    assert.deepEqual(s.rooms, [c.id]);
    assert.ok(!Number.isNaN(Date.parse(at)));
    await a.next('socket_updated', (u) => u.id === c.id && u.transport === 'websocket');
    // Its own room was joined as it connected, before socket_connected;
    // then the chat makes it hear the default room.
    const own = a.index('room_joined', (nsp, room, id) => nsp === '/' && room === c.id && id === c.id);
    assert.ok(own >= 0 && own < a.index('socket_connected', (s) => s.id === c.id));
    await a.has('room_joined', (nsp, room, id) => id === c.id && room === 'room:general');

    a.socket.emit('join', '/', 'lobby-x', c.id);
    await a.next('room_joined', (nsp, room, id) => nsp === '/' && room === 'lobby-x' && id === c.id);
    a.socket.emit('leave', '/', 'lobby-x', c.id);
    await a.next('room_left', (nsp, room, id) => nsp === '/' && room === 'lobby-x' && id === c.id);

    const gone = new Promise((resolve) => c.once('disconnect', resolve));
    a.socket.emit('_disconnect', '/', false, c.id);
    assert.equal(await gone, 'io server disconnect');
    const [nsp, id, reason] = await a.next('socket_disconnected', (nsp, id) => id === cid);
    assert.equal(nsp, '/');
    assert.equal(reason, 'server namespace disconnect');
    await a.has('room_left', (nsp, room, id) => room === cid && id === cid);
    await barrier(a);
    // Exactly once each.
    const mine = (name) => a.all(name, (...args) => args.some((v) => v === cid || v?.id === cid)).length;
    assert.equal(mine('socket_connected'), 1);
    assert.equal(mine('socket_disconnected'), 1);
    const rooms = (name) => a.all(name, (n, room, id) => id === cid).map(([, room]) => room).sort();
    assert.deepEqual(rooms('room_joined'), [cid, 'lobby-x', 'room:general'].sort());
    assert.deepEqual(rooms('room_left'), [cid, 'lobby-x', 'room:general'].sort());
    a.socket.disconnect();
  });

  it('emits to a socket, a room or a namespace, and acknowledges commands', async () => {
    const a = await admin(SERVER, login);
    await a.next('all_sockets');
    const [c1, c2] = await Promise.all([client(SERVER), client(SERVER)]);
    const [id1, id2] = [c1.id, c2.id];
    // A broadcast's last argument is its offset (connection state
    // recovery, as in the reference): it is left out here.
    const got1 = [];
    const got2 = [];
    c1.on('notice', (...args) => got1.push(args.slice(0, -1)));
    c2.on('notice', (...args) => got2.push(args.slice(0, -1)));
    const ack = (...args) => a.socket.timeout(WAIT_MS).emitWithAck(...args);

    assert.deepEqual(await ack('emit', '/', c1.id, 'notice', 'to one', { n: 1 }), { ok: true });
    await eventually(() => assert.deepEqual(got1, [['to one', { n: 1 }]]));
    assert.deepEqual(await ack('join', '/', 'notified', c2.id), { ok: true });
    assert.deepEqual(await ack('emit', '/', 'notified', 'notice', 'to the room'), { ok: true });
    await eventually(() => assert.deepEqual(got2, [['to the room']]));
    assert.deepEqual(await ack('emit', '/', null, 'notice', 'to all'), { ok: true });
    await eventually(() => {
      assert.deepEqual(got1.at(-1), ['to all']);
      assert.deepEqual(got2.at(-1), ['to all']);
    });
    assert.equal(got1.length, 2);
    assert.equal(got2.length, 2);

    // Refusals are coded.
    const bad = await ack('emit', '/nowhere', null, 'notice');
    assert.equal(bad.ok, false);
    assert.equal(bad.code, 'no_such_namespace');
    assert.equal((await ack('emit', '/', null, 'disconnect')).code, 'bad_request');
    assert.equal((await ack('join', '/', 42)).code, 'bad_request');
    assert.equal((await ack('_disconnect', '/', 'yes')).code, 'bad_request');
    assert.equal((await ack('leave')).code, 'bad_request');

    // The multi-socket forms: every socket of a room leaves, disconnects.
    assert.deepEqual(await ack('join', '/', 'pair', null), { ok: true });
    await a.has('room_joined', (n, room, id) => room === 'pair' && id === c1.id);
    await a.has('room_joined', (n, room, id) => room === 'pair' && id === c2.id);
    assert.deepEqual(await ack('leave', '/', 'notified', 'pair'), { ok: true });
    await a.has('room_left', (n, room, id) => room === 'notified' && id === c2.id);
    const gone = Promise.all([c1, c2].map((c) => new Promise((resolve) => c.once('disconnect', resolve))));
    const before = a.events.length;
    assert.deepEqual(await ack('_disconnect', '/', true, 'pair'), { ok: true });
    assert.deepEqual(await gone, ['io server disconnect', 'io server disconnect']);
    await a.has('socket_disconnected', (n, id) => id === id1);
    await a.has('socket_disconnected', (n, id) => id === id2);
    // With close, the server closes the connections itself; the client,
    // left with no socket on "io server disconnect", closes its end too,
    // and may be first while the server runs the sockets' disconnect
    // handlers: each connection ends as a forced close or a transport
    // close (either, for both), counted in the server_stats sent after the
    // command (one interval, or two when its end fell between the closes).
    // The previous test's UI, closing by itself, may add a transport close.
    const closes = (sub) => a.events.slice(before)
      .filter((e) => e.name === 'server_stats')
      .flatMap((e) => e.args[0].aggregatedEvents)
      .filter((e) => e.type === 'rawDisconnection' && e.subType === sub)
      .reduce((n, e) => n + e.count, 0);
    await eventually(() => {
      const [forced, transport] = [closes('forced close'), closes('transport close')];
      assert.ok(forced + transport >= 2, `${forced} forced closes, ${transport} transport closes`);
    }, 3 * STATS_MS);
    assert.ok(closes('forced close') <= 2, `${closes('forced close')} forced closes of two connections`);
    a.socket.disconnect();
  });

  it('tells the events sockets receive, not the UI\'s own', async () => {
    const a = await admin(SERVER, login);
    await a.next('all_sockets');
    const c = await client(SERVER, { transports: ['websocket'] });
    c.emit('typing-check', 'hello', 7);
    const [nsp, id, args] = await a.next('event_received', (n, id) => id === c.id);
    assert.equal(nsp, '/');
    assert.deepEqual(args, ['typing-check', 'hello', 7]);
    a.socket.emit('join', '/', 'x', c.id);
    await a.next('room_joined', (n, room, id) => room === 'x' && id === c.id);
    await barrier(a);
    assert.equal(a.all('event_received').length, 1);
    c.disconnect();
    a.socket.disconnect();
  });

  it('logs in again with the session id, and refuses wrong credentials', async () => {
    assert.ok(session, 'the first test got a session id');
    const again = await admin(SERVER, { sessionId: session });
    await again.next('config');
    await again.next('all_sockets');
    assert.equal(again.all('session').length, 0, 'a session login gets no new id');
    again.socket.disconnect();

    for (const auth of [{ username: USER, password: 'wrong' }, { username: 'nobody', password: PASSWORD }, { sessionId: 'f'.repeat(32) }, {}]) {
      await assert.rejects(admin(SERVER, auth), (err) => {
        assert.equal(err.message, 'invalid credentials', JSON.stringify(auth));
        return true;
      });
    }
  });
});

describe('the Admin UI protocol, production mode', () => {
  it('sends config and stats, and no per-socket events', async () => {
    const a = await admin(PROD, login);
    const [config] = await a.next('config');
    assert.deepEqual(config.supportedFeatures, FEATURES);
    await a.next('server_stats');
    const c = await client(PROD);
    a.socket.emit('join', '/', 'quiet', c.id);
    const [stats] = await a.next('server_stats', (s) => s.namespaces.some((n) => n.name === '/' && n.socketsCount === 1), 3 * STATS_MS);
    assert.equal(stats.clientsCount, 2);
    c.disconnect();
    await barrier(a);
    const names = new Set(a.events.map((e) => e.name));
    assert.deepEqual([...names].sort(), ['config', 'server_stats', 'session']);
    a.socket.disconnect();
  });
});

describe('without the Admin UI', () => {
  it('has no /admin namespace', async () => {
    await assert.rejects(admin(OFF, login), (err) => {
      assert.equal(err.message, 'Invalid namespace');
      return true;
    });
  });
});
