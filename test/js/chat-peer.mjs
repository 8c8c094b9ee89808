// chat-peer.mjs: people in the chat, each an OFFICIAL socket.io-client 4.8
// connection, driven by a Go test (cmd/parley's nginx tests) over stdin as
// testjs.Fixture does: one JSON command a line,
// {"id":1,"op":"open","args":[...]}, one JSON line per answer on stdout,
// {"id":1,"result":...} or {"id":1,"error":"..."}, and {"event":"ready"}
// once.
//
// Each client may come from a loopback address of its own (127.0.0.2,
// 127.0.0.3...: Linux answers for all of 127.0.0.0/8), so that a load
// balancer that hashes the client's address sends it to the node it sends
// that address to: over WebSocket through ws's localAddress, which
// engine.io-client passes on, and over polling through an http.Agent bound
// to the address (engine.io-client's XMLHttpRequest takes an agent).
//
// Each client records what it goes through: its connections (socket id,
// engine id, recovered), its disconnections (reason) and every event it
// gets, with all its arguments (with recovery on, the offset last). Every
// wait is bounded.

import http from 'node:http';
import { createInterface } from 'node:readline';
import { io } from 'socket.io-client';

const WAIT_MS = 5000; // one connection, one acknowledgement
const SEND_MS = 30_000; // one message, rate limits and retries included

function out(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

const clients = new Map();

function client(name) {
  const c = clients.get(name);
  if (!c) throw new Error(`no client ${name}`);
  return c;
}

// connected resolves once c's socket is connected (at once if it is),
// rejects on a connection error or after WAIT_MS.
function connected(c) {
  const s = c.socket;
  if (s.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err) => {
      clearTimeout(timer);
      s.off('connect', ok);
      s.off('connect_error', fail);
      if (err) reject(err); else resolve();
    };
    const ok = () => done();
    const fail = (err) => done(new Error(`${c.name}: connect_error: ${err?.message ?? err}`));
    const timer = setTimeout(() => done(new Error(`${c.name}: not connected within ${WAIT_MS} ms`)), WAIT_MS);
    s.once('connect', ok);
    s.once('connect_error', fail);
  });
}

function where(c) {
  const engine = c.socket.io.engine;
  return {
    id: c.socket.id ?? null,
    engine: engine?.id ?? null,
    transport: engine?.transport?.name ?? null,
    recovered: c.socket.recovered,
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// send sends one message with its clientId, waiting out rate limits, and
// says how it went: {text, ok, id} or {text, ok: false, code | error}.
async function send(c, text) {
  const end = Date.now() + SEND_MS;
  for (let pause = 20; ; pause = Math.min(200, pause * 2)) {
    let reply;
    try {
      reply = await c.socket.timeout(WAIT_MS).emitWithAck('send-chat-message', text, { clientId: text });
    } catch (err) {
      return { text, ok: false, error: String(err?.message ?? err) };
    }
    if (reply?.ok) return { text, ok: true, id: reply.id };
    if (reply?.code !== 'rate_limited' || Date.now() > end) {
      return { text, ok: false, code: reply?.code ?? null, error: reply?.error ?? JSON.stringify(reply) };
    }
    await sleep(pause);
  }
}

// Each op takes the command's args and returns its result.
const ops = {
  // open(name, url, {localAddress, transports, ...}) connects a new
  // client, which reconnects quickly by itself, and returns where it is.
  open: async ([name, url, opts = {}]) => {
    const { localAddress, ...rest } = opts;
    const bound = localAddress ? { localAddress, agent: new http.Agent({ localAddress, keepAlive: true }) } : {};
    const socket = io(url, {
      forceNew: true,
      reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0,
      ...bound, ...rest,
    });
    const c = { name, socket, agent: bound.agent, connects: [], disconnects: [], events: [], sends: [], sending: null };
    socket.on('connect', () => c.connects.push(where(c)));
    socket.on('disconnect', (reason) => c.disconnects.push(reason));
    socket.onAny((...args) => c.events.push(args));
    clients.set(name, c);
    await connected(c);
    return where(c);
  },
  // where(name) says where the client is: socket and engine ids, the
  // transport, whether the connection was recovered.
  where: ([name]) => where(client(name)),
  // state(name) tells what the client went through.
  state: ([name]) => {
    const c = client(name);
    return { connected: c.socket.connected, ...where(c), connects: c.connects, disconnects: c.disconnects, events: c.events };
  },
  // emit(name, event, ...args) emits and returns the acknowledgement.
  emit: ([name, ev, ...args]) => client(name).socket.timeout(WAIT_MS).emitWithAck(ev, ...args),
  // sendAll(name, texts, pauseMs) starts sending texts, one after the
  // other, each once the previous one is answered (and pauseMs after it),
  // and returns at once: sent(name) says how far it got.
  sendAll: ([name, texts, pauseMs = 0]) => {
    const c = client(name);
    if (c.sending) throw new Error(`${name} is already sending`);
    c.sends = [];
    c.sending = (async () => {
      for (const text of texts) {
        c.sends.push(await send(c, text));
        if (pauseMs > 0) await sleep(pauseMs);
      }
    })().finally(() => { c.sending = null; });
    return null;
  },
  // sent(name) returns the results of the last sendAll so far, and
  // whether it is done.
  sent: ([name]) => {
    const c = client(name);
    return { done: c.sending === null, sends: c.sends };
  },
  // reconnection(name, on) turns the client's automatic reconnection on
  // or off.
  reconnection: ([name, on]) => {
    client(name).socket.io.reconnection(on);
    return null;
  },
  // connect(name) connects the client again (the same Manager, session
  // and offset, as a reconnection would) and returns where it is.
  connect: async ([name]) => {
    const c = client(name);
    c.socket.connect();
    await connected(c);
    return where(c);
  },
  // close(name) leaves: the server hears a goodbye. What the client went
  // through is still told by state.
  close: ([name]) => {
    const c = client(name);
    c.socket.close();
    c.agent?.destroy();
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
  for (const c of clients.values()) {
    c.socket.close();
    c.agent?.destroy();
  }
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);

out({ event: 'ready' });
