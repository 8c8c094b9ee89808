// interop-helpers.mjs: helpers for interop.test.mjs, which drives parley
// with the official socket.io-client. Nothing here sleeps bare: waits end on
// an event or at a deadline.

import { io, Manager } from 'socket.io-client';
import { WAIT_MS, eventually, withDeadline } from './helpers.mjs';

// MODES are the client transport configurations every scenario runs over.
// "upgrade" is the client's default: polling first, then WebSocket.
export const MODES = {
  websocket: { transports: ['websocket'] },
  polling: { transports: ['polling'], upgrade: false },
  upgrade: { transports: ['polling', 'websocket'] },
};

// TOKEN is the auth token the server's middleware accepts.
export const TOKEN = 'secret';

// once resolves with the arguments of the next `event` on emitter.
export function once(emitter, event, ms = WAIT_MS) {
  return withDeadline(`waiting for "${event}"`, ms, () => new Promise((resolve) => {
    emitter.once(event, (...args) => resolve(args));
  }));
}

// delay waits ms. Only for asserting that something does NOT happen.
export function delay(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// connected resolves once socket is connected, and rejects on connect_error.
export function connected(socket, ms = WAIT_MS) {
  if (socket.connected) return Promise.resolve(socket);
  return withDeadline('connect', ms, () => new Promise((resolve, reject) => {
    const onConnect = () => {
      socket.off('connect_error', onError);
      resolve(socket);
    };
    const onError = (err) => {
      socket.off('connect', onConnect);
      reject(err);
    };
    socket.once('connect', onConnect);
    socket.once('connect_error', onError);
  }));
}

// connectError resolves with the error of the next connect_error, and fails
// if the socket connects instead.
export function connectError(socket, ms = WAIT_MS) {
  return withDeadline('connect_error', ms, () => new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected, expected connect_error')));
    socket.once('connect_error', resolve);
  }));
}

// engineTransport is the name of the Engine.IO transport a socket uses now.
export function engineTransport(socket) {
  return socket.io.engine?.transport?.name;
}

// upgraded resolves once the socket's connection runs over WebSocket.
export function upgraded(socket, ms = WAIT_MS) {
  return eventually(() => {
    if (engineTransport(socket) !== 'websocket') {
      throw new Error(`transport is ${engineTransport(socket)}, want websocket after the upgrade`);
    }
  }, ms);
}

// ack emits with an acknowledgement and resolves with all the reply's
// arguments (emitWithAck keeps only the first); it fails after WAIT_MS.
export function ack(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(WAIT_MS).emit(event, ...args, (err, ...reply) => (err ? reject(err) : resolve(reply)));
  });
}

// Clients makes the sockets of one test in one mode and closes them all.
export class Clients {
  constructor(url, mode) {
    this.url = url;
    this.mode = mode;
    this.opts = MODES[mode];
    this.sockets = [];
    this.managers = [];
  }

  // socket returns a socket on its own connection (forceNew), not yet
  // waited for. opts are merged over the mode's and the default auth.
  socket(nsp = '/', opts = {}) {
    const s = io(new URL(nsp, this.url).href, {
      forceNew: true,
      auth: { token: TOKEN },
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
      ...this.opts,
      ...opts,
    });
    this.sockets.push(s);
    return s;
  }

  // connect returns a connected socket; in upgrade mode, it waits for the
  // upgrade too unless opts.waitUpgrade is false.
  async connect(nsp = '/', opts = {}) {
    const { waitUpgrade = true, ...rest } = opts;
    const s = await connected(this.socket(nsp, rest));
    if (this.mode === 'upgrade' && waitUpgrade) await upgraded(s);
    return s;
  }

  // manager returns a Manager (one connection for many namespaces).
  manager(opts = {}) {
    const m = new Manager(this.url, {
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
      ...this.opts,
      ...opts,
    });
    this.managers.push(m);
    return m;
  }

  // close disconnects every socket and manager made.
  close() {
    for (const s of this.sockets) s.disconnect();
    for (const m of this.managers) {
      for (const s of Object.values(m.nsps)) s.disconnect();
      m.disconnect();
    }
  }
}

// bytes returns a Buffer-like value as a plain array of numbers, so that
// Buffers, ArrayBuffers and typed arrays compare equal to expected arrays.
export function bytes(v) {
  if (v instanceof ArrayBuffer) return Array.from(new Uint8Array(v));
  if (ArrayBuffer.isView(v)) return Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  throw new Error(`not binary: ${Object.prototype.toString.call(v)}`);
}

// isBinary reports whether v is a Buffer, ArrayBuffer or typed array.
export function isBinary(v) {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

// plain turns every binary value inside v into {bin: [bytes]}, so that a
// decoded argument can be compared with deepStrictEqual.
export function plain(v) {
  if (isBinary(v)) return { bin: bytes(v) };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

// startReferenceServer starts the reference npm `socket.io` server on a free
// loopback port, with the handlers of internal/interop/interop_test.go, and
// returns its URL and a close function. Running interop.test.mjs against it
// (PARLEY_URL unset) checks that the tests expect what the reference does.
export async function startReferenceServer() {
  const { createServer } = await import('node:http');
  const { Server } = await import('socket.io');
  const http = createServer();
  const srv = new Server(http);
  for (const name of ['/', '/admin']) {
    const nsp = srv.of(name);
    nsp.use((socket, next) => {
      if (socket.handshake.auth?.token === TOKEN) return next();
      const err = new Error('unauthorized');
      err.data = { code: 4001, reason: 'bad token' };
      return next(err);
    });
    nsp.on('connection', (socket) => referenceHandlers(socket));
  }
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => srv.close(() => resolve())),
  };
}

function referenceHandlers(socket) {
  const on = (event, h) => socket.on(event, h);
  on('whoami', (cb) => cb({
    id: socket.id,
    nsp: socket.nsp.name,
    auth: socket.handshake.auth,
    transport: socket.conn.transport.name,
    mux: socket.handshake.query.mux ?? '',
  }));
  on('echo', (...args) => socket.emit('echo', ...args));
  on('echo-ack', (...args) => args.pop()(...args));
  on('typed', (text, int, float, obj, big, cb) => cb(text, int, float, obj, Buffer.byteLength(big), big));
  on('bin', (...args) => args.pop()(...args));
  on('bin-please', (cb) => {
    socket.emit('bin-from-server',
      Buffer.from([0, 1, 2, 253, 254, 255]),
      { deep: [Buffer.from('héllo'), { empty: Buffer.alloc(0) }], n: 1 },
      [Buffer.from([1]), Buffer.from([2, 2])]);
    cb(true);
  });
  on('ask-me', () => {
    socket.timeout(5000).emit('question', 'what is six times seven?', 7, Buffer.from([9, 8, 7]),
      (err, text, n, buf) => {
        if (!err) socket.emit('answer-seen', text, n, buf);
      });
  });
  on('ask-silent', () => {
    socket.timeout(200).emit('silent', (err) => socket.emit('silent-timeout', err?.message ?? 'acknowledged'));
  });
  on('never-ack', () => {});
  on('join', (room, cb) => { socket.join(room); cb(); });
  on('leave', (room, cb) => { socket.leave(room); cb(); });
  on('to-room', (rooms, msg, cb) => { socket.to(rooms).emit('room-msg', socket.id, msg); cb(); });
  on('broadcast', (msg, cb) => { socket.broadcast.emit('broadcast-msg', socket.id, msg); cb(); });
  on('sync', (cb) => cb());
  on('kick-me', () => socket.disconnect());
  on('drop-transport', () => socket.conn.close());
  on('seq', (n) => socket.emit('seq', n));
}
