// cluster-recovery.test.mjs: the OFFICIAL socket.io-client recovered on
// another node of a parley cluster: its chat messages missed while away
// come from the cluster's stream, each once, in order, and it is still the
// person it was (it can send without joining again); nobody hears of its
// absence.
//
//   go test -run TestRunClusterRecovery ./cmd/parley/   (starts the nodes)
//
// Environment:
//   PARLEY_URL_A, PARLEY_URL_B  two nodes of one cluster (required).
//   PARLEY_DEADLINE_MS          the file exits with an error after this
//                               long (default 60000).
//
// How the client moves: a load balancer would send its reconnection to
// another node when the first is gone. Here its first socket's connection
// is closed as a page's is (the node sees "transport close" and keeps the
// session), then a socket on the other node is given that socket's private
// session id and offset, as the official client's reconnection sends them.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { WAIT_MS, eventually, withDeadline } from './helpers.mjs';

const A = process.env.PARLEY_URL_A;
const B = process.env.PARLEY_URL_B;
const MISSED = 30;

const watchdog = setTimeout(() => {
  console.error('cluster-recovery: deadline passed; exiting');
  process.exit(3);
}, Number(process.env.PARLEY_DEADLINE_MS) || 60_000);
watchdog.unref();

function connect(url, opts = {}) {
  const socket = io(url, { forceNew: true, transports: ['websocket'], reconnection: false, ...opts });
  const events = [];
  socket.onAny((event, ...args) => events.push({ event, args }));
  return { socket, events };
}

function connected(socket, label) {
  if (socket.connected) return Promise.resolve();
  return withDeadline(`${label}: connect`, WAIT_MS, new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  }));
}

const ids = (events) => events.filter((e) => e.event === 'chat-message').map((e) => e.args[0].id);

const open = [];
function track(client) {
  open.push(client.socket);
  return client;
}

describe('a client recovered on another node', () => {
  after(() => open.forEach((s) => s.disconnect()));

  it('gets the messages it missed, once, in order, and is still itself', async () => {
    assert.ok(A && B, 'PARLEY_URL_A and PARLEY_URL_B must be set');
    const ann = track(connect(A));
    await connected(ann.socket, 'ann');
    const joined = await ann.socket.timeout(WAIT_MS).emitWithAck('new-user', 'Ann');
    assert.equal(joined.ok, true, JSON.stringify(joined));
    const bob = track(connect(B));
    await connected(bob.socket, 'bob');
    assert.equal((await bob.socket.timeout(WAIT_MS).emitWithAck('new-user', 'Bob')).ok, true);
    for (let i = 0; i < 3; i++) {
      assert.equal((await bob.socket.timeout(WAIT_MS).emitWithAck('send-chat-message', `before ${i}`)).ok, true);
    }
    await eventually(() => assert.equal(ids(ann.events).length, 3));
    const before = ids(ann.events);
    assert.deepEqual(before, [before[0], before[0] + 1, before[0] + 2]);

    // Ann's connection to A closes; her session stays in the cluster.
    const { _pid: pid, _lastOffset: offset, id: sid } = ann.socket;
    assert.ok(pid && offset, 'the server gave a session id and an offset');
    const closed = new Promise((resolve) => ann.socket.once('disconnect', resolve));
    ann.socket.io.engine.close();
    await withDeadline('ann: disconnect', WAIT_MS, closed);
    const missed = [];
    for (let i = 0; i < MISSED; i++) {
      const r = await bob.socket.timeout(WAIT_MS).emitWithAck('send-chat-message', `during ${i}`);
      assert.equal(r.ok, true, JSON.stringify(r));
      missed.push(r.id);
    }

    // Back, on B.
    const back = track(connect(B, { autoConnect: false }));
    back.socket._pid = pid;
    back.socket._lastOffset = offset;
    back.socket.connect();
    await connected(back.socket, 'ann on b');
    assert.equal(back.socket.recovered, true, 'recovered on the other node');
    assert.equal(back.socket.id, sid, 'the same socket id');
    await eventually(() => assert.ok(ids(back.events).length >= MISSED, `${ids(back.events).length} messages`));
    assert.deepEqual(ids(back.events), missed, 'every missed message, once, in order');

    // Still Ann: she sends without joining again, and Bob gets it.
    const sent = await back.socket.timeout(WAIT_MS).emitWithAck('send-chat-message', 'I am back');
    assert.equal(sent.ok, true, JSON.stringify(sent));
    await eventually(() => assert.ok(bob.events.some((e) => e.event === 'chat-message' && e.args[0].message === 'I am back')));
    const from = bob.events.find((e) => e.event === 'chat-message' && e.args[0].message === 'I am back').args[0];
    assert.equal(from.name, 'Ann');
    assert.deepEqual(ids(back.events), missed, 'her own message is not sent back to her');
    // Within the presence grace, Bob heard nothing of her absence.
    const presence = bob.events.filter((e) => e.event === 'user-connected' || e.event === 'user-disconnected');
    assert.deepEqual(presence, [], 'Bob heard of Ann coming and going');
  });
});
