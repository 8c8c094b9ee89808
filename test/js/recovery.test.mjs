// recovery.test.mjs: connection state recovery with the official client.
// Alice's transport is dropped; while she is away Bob has 100 events sent
// to their room; Alice reconnects with socket.recovered === true and gets
// each of them once, in order, then the live ones after them.
//
//   PARLEY_URL        server under test (started by internal/interop)
//   PARLEY_TRANSPORT  websocket | polling | upgrade

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { eventually } from './helpers.mjs';

const URL = process.env.PARLEY_URL;
const MODE = process.env.PARLEY_TRANSPORT || 'websocket';
const transports = { websocket: ['websocket'], polling: ['polling'], upgrade: ['polling', 'websocket'] }[MODE];

function client(opts = {}) {
  const socket = io(URL, {
    transports, upgrade: MODE === 'upgrade', forceNew: true,
    reconnectionDelay: 1500, reconnectionDelayMax: 1500, randomizationFactor: 0, ...opts,
  });
  socket.seqs = [];
  socket.welcomes = [];
  socket.on('seq', (i, text) => socket.seqs.push([i, text]));
  socket.on('welcome', (id, recovered) => socket.welcomes.push({ id, recovered }));
  return socket;
}

test(`missed events are replayed once, in order (${MODE})`, { skip: !URL && 'PARLEY_URL is not set', timeout: 30_000 }, async () => {
  const alice = client();
  const bob = client();
  try {
    await eventually(() => assert.ok(alice.welcomes.length && bob.welcomes.length, 'welcome'), 10_000);
    await alice.timeout(5000).emitWithAck('join', 'room');
    await bob.timeout(5000).emitWithAck('join', 'room');
    const firstID = alice.id;
    assert.equal(alice.recovered, false);

    // Live events reach Alice, and give her an offset.
    await bob.timeout(5000).emitWithAck('burst', 'room', 0, 5);
    await eventually(() => assert.ok(alice.seqs.length === 5, 'live events'), 5000);

    const disconnected = new Promise((resolve) => alice.once('disconnect', resolve));
    alice.emit('drop-me');
    assert.equal(await disconnected, 'transport close');

    // While she is away.
    await bob.timeout(5000).emitWithAck('burst', 'room', 5, 100);

    await eventually(() => assert.ok(alice.connected, 'reconnection'), 10_000);
    assert.equal(alice.recovered, true, 'socket.recovered');
    assert.equal(alice.id, firstID, 'the socket keeps its id');
    await eventually(() => assert.ok(alice.seqs.length >= 105, 'missed events'), 5000);

    // And live again, in the room she was in.
    await bob.timeout(5000).emitWithAck('burst', 'room', 105, 10);
    await eventually(() => assert.ok(alice.seqs.length >= 115, 'live events after recovery'), 5000);
    const want = Array.from({ length: 115 }, (_, i) => [i, String(i)]);
    assert.deepEqual(alice.seqs, want, 'every event once, in order');
    assert.equal(bob.seqs.length, 115);
    assert.deepEqual(alice.welcomes.map((w) => w.recovered), [false, true]);
  } finally {
    alice.close();
    bob.close();
  }
});

test(`an unknown session is not recovered (${MODE})`, { skip: !URL && 'PARLEY_URL is not set', timeout: 30_000 }, async () => {
  const carol = client({ auth: { pid: 'not-a-session', offset: 'nothing' } });
  try {
    await eventually(() => assert.ok(carol.welcomes.length, 'welcome'), 10_000);
    assert.equal(carol.recovered, false);
    assert.deepEqual(carol.welcomes.map((w) => w.recovered), [false]);
  } finally {
    carol.close();
  }
});
