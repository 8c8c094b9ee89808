// client-peer.mjs: official Socket.IO 4.8 clients, driven by a Go test
// (internal/cluster's recovery tests) over stdin as testjs.Fixture does:
// one JSON command a line, {"id":1,"op":"open","args":[...]}, one JSON line
// per answer on stdout, {"id":1,"result":...} or {"id":1,"error":"..."},
// and {"event":"ready"} once. Each client records what it goes through:
// its connections (id, recovered), its disconnections (reason) and every
// event it gets, with all its arguments (the offset last, with recovery).

import { createInterface } from 'node:readline';
import { io } from 'socket.io-client';

function out(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

const clients = new Map();

// Each op takes the command's args and returns its result.
const ops = {
  // open(name, url[, opts]) starts a client over WebSocket, which
  // reconnects quickly.
  open: ([name, url, opts = {}]) => {
    const socket = io(url, {
      transports: ['websocket'], forceNew: true,
      reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0, ...opts,
    });
    const c = { socket, connects: [], disconnects: [], events: [] };
    socket.on('connect', () => c.connects.push({ id: socket.id, recovered: socket.recovered }));
    socket.on('disconnect', (reason) => c.disconnects.push(reason));
    socket.onAny((...args) => c.events.push(args));
    clients.set(name, c);
    return null;
  },
  // state(name) tells what the client went through.
  state: ([name]) => {
    const c = clients.get(name);
    if (!c) throw new Error(`no client ${name}`);
    return { connected: c.socket.connected, id: c.socket.id ?? null, connects: c.connects, disconnects: c.disconnects, events: c.events };
  },
  // emit(name, event, ...args) emits and waits for the acknowledgement.
  emit: ([name, ev, ...args]) => clients.get(name).socket.timeout(5000).emitWithAck(ev, ...args),
  close: ([name]) => {
    clients.get(name)?.socket.close();
    clients.delete(name);
    return null;
  },
};

createInterface({ input: process.stdin }).on('line', async (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
    const op = ops[cmd.op];
    if (!op) throw new Error(`unknown op ${cmd.op}`);
    const result = await op(cmd.args ?? []);
    out({ id: cmd.id, result: result === undefined ? null : result });
  } catch (err) {
    out({ id: cmd?.id, error: String(err?.message ?? err) });
  }
});

const stop = () => {
  for (const c of clients.values()) c.socket.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);

out({ event: 'ready' });
