// chat-catchup.test.mjs: catch-ups larger than a connection's send queue,
// with the OFFICIAL socket.io-client. The server's rooms "general" and
// "dev" each hold 400 messages of 2,000 CJK characters (2.4 MB, over the
// 2 MB the server queues for one connection). A client that comes back
// with auth {since}, one that joins a room with since, and one that pages
// through history 200 at a time each get every message once, in order, and
// stay connected.
//
//   go test -run TestOfficialClientCatchUp ./internal/chat/   (starts the server)
//
// Environment:
//   PARLEY_URL        the chat server (required; the Go test sets it).
//   PARLEY_TRANSPORT  websocket, polling or upgrade (default websocket).
//   PARLEY_STORED     the messages each room holds (the Go test sets it).
//
// Nothing here sleeps bare: every wait ends on an event or at a deadline.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { eventually } from './helpers.mjs';

const URL = process.env.PARLEY_URL;
const MODE = process.env.PARLEY_TRANSPORT || 'websocket';
const STORED = Number(process.env.PARLEY_STORED) || 400;
const OPTIONS = {
  websocket: { transports: ['websocket'] },
  polling: { transports: ['polling'], upgrade: false },
  upgrade: {}, // the client's default: polling, then upgrade to WebSocket
}[MODE];
const CJK = '漢字かな'.repeat(500);
const skip = !URL && 'PARLEY_URL is not set';

// client connects a socket that records the chat messages and disconnects
// it gets.
function client(auth) {
  const socket = io(URL, { ...OPTIONS, forceNew: true, reconnection: false, auth });
  socket.messages = [];
  socket.drops = [];
  socket.on('chat-message', (m) => socket.messages.push(m));
  socket.on('disconnect', (reason) => socket.drops.push(reason));
  return socket;
}

// ids returns the ids of the messages of room.
const ids = (msgs, room) => msgs.filter((m) => m.room === room).map((m) => m.id);

// range returns from..to.
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// checkStored checks that msgs are the stored messages from..to of room,
// in order, marked as history.
function checkStored(msgs, room, from, to) {
  const mine = msgs.filter((m) => m.room === room);
  assert.deepEqual(mine.map((m) => m.id), range(from, to), `${room}: every message once, in order`);
  for (const m of mine) {
    assert.equal(m.message, CJK, `message ${m.id}: its text`);
    assert.equal(m.history, true, `message ${m.id}: marked as history`);
  }
}

test(`auth {since} catches up on 2.4 MB (${MODE})`, { skip, timeout: 30_000 }, async () => {
  const s = client({ since: 1 });
  try {
    await eventually(() => assert.equal(ids(s.messages, 'general').length, STORED - 1), 20_000);
    checkStored(s.messages, 'general', 2, STORED);
    assert.ok(s.connected, 'still connected');
    assert.deepEqual(s.drops, [], 'never cut off');
    // And the connection goes on: events after the catch-up are handled.
    const res = await s.timeout(10_000).emitWithAck('new-user', `since-${MODE}`);
    assert.equal(res.ok, true, JSON.stringify(res));
  } finally {
    s.close();
  }
});

test(`join-room with since catches up on 2.4 MB (${MODE})`, { skip, timeout: 30_000 }, async () => {
  const s = client();
  try {
    const joined = await s.timeout(10_000).emitWithAck('new-user', `joiner-${MODE}`);
    assert.equal(joined.ok, true, JSON.stringify(joined));
    const res = await s.timeout(20_000).emitWithAck('join-room', { room: 'dev', since: 1 });
    assert.equal(res.ok, true, JSON.stringify(res));
    // The history came before the acknowledgement.
    checkStored(s.messages, 'dev', 2, STORED);
    assert.ok(s.connected, 'still connected');
    assert.deepEqual(s.drops, [], 'never cut off');
  } finally {
    s.close();
  }
});

test(`history pages through 2.4 MB, 200 at a time (${MODE})`, { skip, timeout: 30_000 }, async () => {
  const s = client();
  try {
    const joined = await s.timeout(10_000).emitWithAck('new-user', `reader-${MODE}`);
    assert.equal(joined.ok, true, JSON.stringify(joined));
    const got = [];
    let before = 0;
    let cut = 0; // pages the server cut short
    while (!got.length || got[0].id > 1) {
      const res = await s.timeout(10_000).emitWithAck('history', { room: 'general', before, limit: 200 });
      assert.equal(res.ok, true, JSON.stringify(res).slice(0, 200));
      assert.ok(res.messages.length > 0, `a page before ${before}`);
      if (res.messages.length < 200) {
        assert.ok(res.more || res.messages[0].id === 1, `a short page before ${before} says there is more`);
        if (res.more) cut++;
      }
      got.unshift(...res.messages);
      before = res.messages[0].id;
    }
    checkStored(got, 'general', 1, STORED);
    assert.ok(cut > 0, 'pages of 200 long messages are cut short');
    assert.ok(s.connected, 'still connected');
    assert.deepEqual(s.drops, [], 'never cut off');
  } finally {
    s.close();
  }
});
