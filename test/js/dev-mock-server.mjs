// dev-mock-server.mjs is a test-only stand-in for parley's Go server. It
// implements the chat event contract with the reference npm `socket.io`
// server and serves ../../web/static, so the page can be developed and
// tested before (and independently of) the Go server. The reference server
// also serves its own client at /socket.io/socket.io.js.
//
// With --client parley it serves parley's own client, web/static/socket.io.js,
// at /socket.io/socket.io.js instead, to check it against the reference server.
//
// Usage: node test/js/dev-mock-server.mjs [--port 0] [--host 127.0.0.1] [--client reference|parley]
// It prints "parley mock listening on http://HOST:PORT/" once listening.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Server } from 'socket.io';

const STATIC_DIR = fileURLToPath(new URL('../../web/static/', import.meta.url));

export const MAX_NAME = 32;
export const MAX_MESSAGE = 2000;
// Rate limit: a token bucket per socket. The burst is large enough for the
// browser test's 50 quick messages.
const BUCKET_SIZE = 60;
const REFILL_PER_SEC = 20;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

async function serveStatic(req, res) {
  let path;
  try {
    path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    res.writeHead(400).end('bad request');
    return;
  }
  if (path.endsWith('/')) path += 'index.html';
  const file = normalize(join(STATIC_DIR, path));
  if (!file.startsWith(STATIC_DIR)) {
    res.writeHead(403).end('forbidden');
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  }
}

function codePoints(s) {
  return [...s].length;
}

// startMockServer listens on host:port (port 0 picks a free one) and resolves
// to { url, io, close }. close() disconnects every client and stops listening.
// client is "reference" (the npm server's own client) or "parley".
export async function startMockServer({ port = 0, host = '127.0.0.1', client = 'reference', log = () => {} } = {}) {
  if (client !== 'reference' && client !== 'parley') throw new Error(`unknown client ${client}`);
  const http = createServer((req, res) => {
    serveStatic(req, res).catch(() => res.writeHead(500).end());
  });
  const io = new Server(http, { serveClient: client === 'reference' });
  if (client === 'parley') {
    // Socket.IO took over the request listeners; answer the client script
    // path before it sees the request.
    const inner = http.listeners('request');
    http.removeAllListeners('request');
    http.on('request', (req, res) => {
      if (req.url.split('?')[0] === '/socket.io/socket.io.js') {
        req.url = '/socket.io.js';
        serveStatic(req, res).catch(() => res.writeHead(500).end());
        return;
      }
      for (const fn of inner) fn.call(http, req, res);
    });
  }

  const names = new Map(); // name -> socket.id
  let nextId = 1;

  io.on('connection', (socket) => {
    let name = null;
    let tokens = BUCKET_SIZE;
    let last = Date.now();

    const fail = (ack, error) => {
      if (typeof ack === 'function') ack({ ok: false, error });
      else socket.emit('error', { message: error });
    };

    socket.on('new-user', (raw, ack) => {
      if (typeof raw !== 'string') return fail(ack, 'name must be a string');
      const n = raw.trim();
      if (n === '') return fail(ack, 'name is empty');
      if (codePoints(n) > MAX_NAME) return fail(ack, `name is longer than ${MAX_NAME} characters`);
      if (name !== null && name !== n) return fail(ack, 'already joined as ' + name);
      if (name === null) {
        if (names.has(n)) return fail(ack, 'name is already taken');
        name = n;
        names.set(n, socket.id);
        log(`join ${n} (${socket.id})`);
        socket.broadcast.emit('user-connected', n);
      }
      if (typeof ack === 'function') ack({ ok: true, name: n, users: [...names.keys()] });
    });

    socket.on('send-chat-message', (raw, ack) => {
      if (name === null) return fail(ack, 'join first');
      if (typeof raw !== 'string') return fail(ack, 'message must be a string');
      if (raw.trim() === '') return fail(ack, 'message is empty');
      if (codePoints(raw) > MAX_MESSAGE) return fail(ack, `message is longer than ${MAX_MESSAGE} characters`);
      const now = Date.now();
      tokens = Math.min(BUCKET_SIZE, tokens + ((now - last) / 1000) * REFILL_PER_SEC);
      last = now;
      if (tokens < 1) return fail(ack, 'rate limited, slow down');
      tokens -= 1;
      const msg = { name, message: raw, id: String(nextId++), time: now };
      socket.broadcast.emit('chat-message', msg);
      if (typeof ack === 'function') ack({ ok: true, id: msg.id, time: msg.time });
    });

    socket.on('disconnect', (reason) => {
      if (name !== null && names.get(name) === socket.id) {
        names.delete(name);
        log(`leave ${name} (${reason})`);
        socket.broadcast.emit('user-disconnected', name);
      }
    });
  });

  await new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, resolve);
  });
  const addr = http.address();
  const url = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}/`;

  async function close() {
    io.disconnectSockets(true);
    await new Promise((resolve) => io.close(() => resolve()));
    http.closeAllConnections?.();
  }
  return { url, io, close };
}

function parseArgs(argv) {
  const opts = { port: 0, host: '127.0.0.1', client: 'reference' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? a.split(/=(.*)/s) : [a, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === '--port') opts.port = Number(value());
    else if (flag === '--host') opts.host = value();
    else if (flag === '--client') opts.client = value();
    else if (flag === '-h' || flag === '--help') {
      console.log('usage: node dev-mock-server.mjs [--port N] [--host ADDR] [--client reference|parley]');
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (opts.client !== 'reference' && opts.client !== 'parley') {
    console.error('--client must be reference or parley');
    process.exit(2);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    console.error('--port must be 0..65535');
    process.exit(2);
  }
  return opts;
}

// Run as a program, except when `node --test` picks this file up as a test
// file (it runs every .mjs under test/): then there is nothing to do.
const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && !process.env.NODE_TEST_CONTEXT) {
  const opts = parseArgs(process.argv.slice(2));
  const srv = await startMockServer({ ...opts, log: (s) => console.log(s) });
  console.log(`parley mock listening on ${srv.url}`);
  const stop = () => srv.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
