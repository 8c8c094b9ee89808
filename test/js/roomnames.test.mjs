// roomnames.test.mjs: the page's fold of room names (roomKey of
// web/static/js/text.js) against the server's (names.Key), in Node: for
// names of ASCII letters, digits, spaces and punctuation, the page takes two
// names for one room exactly when the server does; for the others, only
// when the server does (what the page cannot tell, join-room's answer
// settles).
//
// Started by web's TestPageRoomKey, which writes the server's keys of many
// names to the file PARLEY_ROOM_KEYS: [{name, key}].

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const TEXT = new URL('../../web/static/js/text.js', import.meta.url);
const FILE = process.env.PARLEY_ROOM_KEYS;

test('the page folds room names as the server does', { skip: FILE ? false : 'PARLEY_ROOM_KEYS is not set' }, async () => {
  const { roomKey } = await import(TEXT.href);
  const cases = JSON.parse(await readFile(FILE, 'utf8'));
  assert.ok(cases.length > 100);
  const ascii = (s) => /^[\x20-\x7e]*$/.test(s);
  const byPage = new Map(); // the page's key -> the server's
  const byServer = new Map(); // the server's key -> the page's, for ASCII names
  for (const { name, key } of cases) {
    const mine = roomKey(name);
    if (byPage.has(mine)) {
      assert.equal(key, byPage.get(mine), `the page takes ${JSON.stringify(name)} for a room the server keeps apart`);
    } else {
      byPage.set(mine, key);
    }
    if (!ascii(name)) continue;
    if (byServer.has(key)) {
      assert.equal(mine, byServer.get(key), `the page keeps ${JSON.stringify(name)} apart from a room the server takes it for`);
    } else {
      byServer.set(key, mine);
    }
  }
  // A few the page folds as the server does beyond ASCII.
  for (const [a, b] of [['ｇｅｎｅｒａｌ', 'general'], ['Ｒａｎｄｏｍ', 'random'], ['ÜNÏCODE', 'ünïcode']]) {
    assert.equal(roomKey(a), roomKey(b), `${a} and ${b}`);
  }
});
