// phase.test.mjs: the chat page's connection phase (web/static/js/phase.js),
// in Node: the transitions it allows, the ones it refuses and reports as
// bugs, and what each phase says about who we are. Also checks that the
// page knows every refusal code the chat server sends
// (web/static/js/codes.js against internal/chat/errors.go), and that the
// page preloads each of its modules.
//
// Started by web's TestPagePhase.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';

const PHASE = new URL('../../web/static/js/phase.js', import.meta.url);
const CODES = new URL('../../web/static/js/codes.js', import.meta.url);
const SERVER_CODES = new URL('../../internal/chat/errors.go', import.meta.url);
const STATIC = new URL('../../web/static/', import.meta.url);

let instances = 0;

// fresh imports a new instance of phase.js, in its first phase.
const fresh = () => import(`${PHASE.href}?${++instances}`);

// PATHS reach each phase from the first one, by allowed transitions.
const PATHS = {
  'signed-out': [],
  joining: [['joining', { mode: 'new', name: 'Alice' }]],
  resyncing: [['joining', { mode: 'new', name: 'Alice' }], ['resyncing', { mode: 'new', name: 'Alice' }]],
  joined: [['joining', { mode: 'new', name: 'Alice' }], ['resyncing', { mode: 'new', name: 'Alice' }], ['joined']],
  away: [['joining', { mode: 'new', name: 'Alice' }], ['resyncing', { mode: 'new', name: 'Alice' }], ['joined'], ['away']],
  rejoining: [['joining', { mode: 'new', name: 'Alice' }], ['resyncing', { mode: 'new', name: 'Alice' }], ['joined'], ['away'], ['rejoining']],
};

// ALLOWED is what the page may do from each phase.
const ALLOWED = {
  'signed-out': ['joining'],
  joining: ['resyncing', 'signed-out'],
  resyncing: ['joined', 'away', 'rejoining'],
  joined: ['away', 'rejoining'],
  away: ['joined', 'resyncing', 'rejoining', 'signed-out'],
  rejoining: ['resyncing', 'signed-out'],
};

// at returns a fresh machine in phase name, reached without an error.
async function at(t, name) {
  const m = await fresh();
  const errors = t.mock.method(console, 'error', () => {});
  for (const [next, opts] of PATHS[name]) assert.equal(m.go(next, opts), true, `${next} on the way to ${name}`);
  assert.equal(errors.mock.callCount(), 0, `no error on the way to ${name}`);
  errors.mock.restore();
  assert.equal(m.phase(), name);
  return m;
}

test('each transition from each phase is allowed or refused as the table says', async (t) => {
  for (const from of Object.keys(PATHS)) {
    for (const to of Object.keys(PATHS)) {
      await t.test(`${from} → ${to}`, async (t) => {
        const m = await at(t, from);
        const errors = t.mock.method(console, 'error', () => {});
        const ok = m.go(to, { mode: 'rejoin', name: 'Bob' });
        if (ALLOWED[from].includes(to)) {
          assert.equal(ok, true, 'allowed');
          assert.equal(m.phase(), to);
          assert.equal(errors.mock.callCount(), 0, 'no error logged');
        } else {
          assert.equal(ok, false, 'refused');
          assert.equal(m.phase(), from, 'the phase stays');
          assert.equal(errors.mock.callCount(), 1, 'logged as a bug');
          assert.match(String(errors.mock.calls[0].arguments[0]), new RegExp(`no transition from ${from} to ${to}`));
        }
      });
    }
  }
});

test('what each phase says about us', async (t) => {
  const cases = [
    { phase: 'signed-out', named: false, known: false, restoring: false, name: null, wanted: null },
    { phase: 'joining', named: false, known: false, restoring: false, name: null, wanted: 'Alice' },
    { phase: 'resyncing', named: true, known: true, restoring: false, name: 'Alice', wanted: null },
    { phase: 'joined', named: true, known: true, restoring: false, name: 'Alice', wanted: null },
    { phase: 'away', named: true, known: false, restoring: false, name: 'Alice', wanted: null },
    { phase: 'rejoining', named: true, known: false, restoring: false, name: 'Alice', wanted: null },
  ];
  for (const c of cases) {
    await t.test(c.phase, async (t) => {
      const m = await at(t, c.phase);
      assert.equal(m.named(), c.named, 'named');
      assert.equal(m.known(), c.known, 'known');
      assert.equal(m.restoring(), c.restoring, 'restoring');
      assert.equal(m.myName(), c.name, 'myName');
      assert.equal(m.wantedName(), c.wanted, 'wantedName');
    });
  }
});

test('a reload restores: joining in mode restore, then resyncing as restore', async () => {
  const m = await fresh();
  m.go('joining', { mode: 'restore', name: 'Alice' });
  assert.equal(m.restoring(), true);
  assert.equal(m.wantedName(), 'Alice');
  m.go('resyncing', { mode: 'restore', name: 'Alice' });
  assert.equal(m.restoring(), false, 'restoring ends once the server knows us');
  assert.equal(m.phaseMode(), 'restore');
});

test('away remembers where to resume, and the mode of a resync it cut short', async (t) => {
  await t.test('from joined', async (t) => {
    const m = await at(t, 'joined');
    m.go('away');
    assert.equal(m.resumeTo(), 'joined');
  });
  await t.test('from resyncing', async (t) => {
    const m = await fresh();
    m.go('joining', { mode: 'restore', name: 'Alice' });
    m.go('resyncing', { mode: 'restore', name: 'Alice' });
    m.go('away');
    assert.equal(m.resumeTo(), 'resyncing');
    assert.equal(m.phaseMode(), 'restore');
    m.go('resyncing');
    assert.equal(m.phaseMode(), 'restore', 'kept when not given');
    assert.equal(m.myName(), 'Alice', 'kept when not given');
  });
});

test('a rejoin may come back under the name the server gives', async (t) => {
  const m = await at(t, 'rejoining');
  m.go('resyncing', { mode: 'rejoin', name: 'Alice2' });
  assert.equal(m.myName(), 'Alice2');
});

test('signing out forgets the name and the mode', async (t) => {
  for (const from of ['joining', 'away', 'rejoining']) {
    await t.test(`from ${from}`, async (t) => {
      const m = await at(t, from);
      assert.equal(m.go('signed-out'), true);
      assert.equal(m.myName(), null);
      assert.equal(m.wantedName(), null);
      assert.equal(m.phaseMode(), null);
      assert.equal(m.named(), false);
    });
  }
});

test('the page knows every refusal code the chat server sends', async () => {
  const { Code } = await import(CODES.href);
  const source = await readFile(SERVER_CODES, 'utf8');
  const server = [...source.matchAll(/^\s*Code\w+\s+Code\s*=\s*"([a-z_]+)"/gm)].map((m) => m[1]);
  assert.ok(server.length >= 10, `found the server's codes in internal/chat/errors.go: ${server}`);
  assert.deepEqual([...Object.values(Code)].sort(), [...server].sort());
});

test('index.html preloads each module of the page, and only those', async () => {
  const html = await readFile(new URL('index.html', STATIC), 'utf8');
  const preloaded = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]);
  const modules = (await readdir(new URL('js/', STATIC))).filter((f) => f.endsWith('.js')).map((f) => `js/${f}`);
  assert.ok(modules.length > 0);
  assert.deepEqual([...preloaded].sort(), [...modules].sort());
  assert.match(html, /<script type="module" src="app.js"><\/script>/);
});
