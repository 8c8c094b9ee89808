// cluster-peer.mjs: a Node.js Socket.IO 4.8 server in a cluster on Redis
// through @socket.io/redis-streams-adapter, the peer of parley's cluster
// adapter in internal/cluster's interop test. The test drives it: it
// reads one JSON command a line on stdin, {"id":1,"op":"emitTo","args":[...]},
// and writes one JSON line per answer, {"id":1,"result":...} or
// {"id":1,"error":"..."}, or event, {"event":"ready","port":1234}, on
// stdout. Logs go to stderr.
//
// Environment: PARLEY_REDIS_URL, PARLEY_STREAM (the stream's name) and
// PARLEY_CHANNEL_PREFIX, which the Go side shares.

import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { Server } from 'socket.io';
import { createClient } from 'redis';
import { createAdapter } from '@socket.io/redis-streams-adapter';

const { PARLEY_REDIS_URL, PARLEY_STREAM, PARLEY_CHANNEL_PREFIX } = process.env;

function out(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

const redis = createClient({ url: PARLEY_REDIS_URL });
redis.on('error', (err) => console.error('redis:', err.message));
await redis.connect();

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: createAdapter(redis, {
    streamName: PARLEY_STREAM,
    channelPrefix: PARLEY_CHANNEL_PREFIX,
    blockTimeInMs: 200,
  }),
});

io.on('connection', (socket) => {
  socket.data = { side: 'node' };
  socket.on('join', (room, cb) => {
    socket.join(room);
    if (typeof cb === 'function') cb(socket.id);
  });
  // The tutorial's chat: what a client says, every other client hears.
  socket.on('chat message', (msg) => {
    socket.broadcast.emit('chat message', msg);
  });
});

// A server-side event from another node; it answers when asked to.
io.of('/').on('ping', (arg, cb) => {
  out({ event: 'server-side', name: 'ping', arg });
  if (typeof cb === 'function') cb({ from: 'node', arg });
});

const describe = (s) => ({
  id: s.id,
  rooms: [...s.rooms].sort(),
  data: s.data ?? null,
  auth: s.handshake.auth,
  url: s.handshake.url,
  issued: s.handshake.issued,
});

// Each op takes the command's args and returns its result.
const ops = {
  emit: ([ev, ...args]) => io.emit(ev, ...args),
  emitTo: ([room, ev, ...args]) => io.to(room).emit(ev, ...args),
  emitBinary: ([room, ev, text]) => io.to(room).emit(ev, Buffer.from(text), { nested: Buffer.from([1, 2, 3]) }),
  emitExcept: ([room, ev, ...args]) => io.except(room).emit(ev, ...args),
  socketsJoin: ([room, join]) => io.in(room).socketsJoin(join),
  socketsLeave: ([room, leave]) => io.in(room).socketsLeave(leave),
  disconnectSockets: ([room]) => io.in(room).disconnectSockets(true),
  fetchSockets: async ([room]) => (await io.in(room).fetchSockets()).map(describe).sort((a, b) => (a.id < b.id ? -1 : 1)),
  emitWithAck: ([room, ev, ...args]) => io.timeout(3000).to(room).emitWithAck(ev, ...args),
  serverCount: () => io.of('/').adapter.serverCount(),
  serverSideEmit: ([ev, ...args]) => io.serverSideEmit(ev, ...args),
  serverSideEmitWithAck: ([ev, ...args]) => io.serverSideEmitWithAck(ev, ...args),
};

createInterface({ input: process.stdin }).on('line', async (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
    const op = ops[cmd.op];
    if (!op) throw new Error(`unknown op ${cmd.op}`);
    const result = await op(cmd.args ?? []);
    out({ id: cmd.id, result: result === undefined || result === io || typeof result === 'boolean' ? null : result });
  } catch (err) {
    out({ id: cmd?.id, error: String(err?.message ?? err) });
  }
});

// Stop on SIGTERM, or when the test's end of stdin closes.
const stop = () => {
  io.close();
  redis.quit().catch(() => {}).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);

httpServer.listen(0, '127.0.0.1', () => out({ event: 'ready', port: httpServer.address().port }));
