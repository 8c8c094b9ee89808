// format.test.mjs: how the page formats a message (web/static/js/format.js),
// in Node: the tokens of links, code, emphasis and mentions, what is left
// as text (javascript: and other schemes, unpaired marks), the DOM nodes
// built from them, and, over random texts, that nothing but the marks is
// ever dropped, that no link has another scheme, and that the time taken
// stays linear-ish.
//
// Started by web's TestPageFormat.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fold, mentions, parse, render, safeHref } from '../../web/static/js/format.js';

const text = (v) => ({ t: 'text', v });
const link = (v, href = v) => ({ t: 'link', v, href });
const code = (v) => ({ t: 'code', v });
const pre = (v) => ({ t: 'pre', v });
const b = (...c) => ({ t: 'b', c });
const i = (...c) => ({ t: 'i', c });
const at = (name) => ({ t: 'mention', v: `@${name}`, name });

const CASES = [
  ['plain text', 'hello there', [text('hello there')]],
  ['empty', '', []],
  ['an https link', 'see https://example.com/a?b=1&c=2#d', [text('see '), link('https://example.com/a?b=1&c=2#d')]],
  ['an http link', 'http://example.com', [link('http://example.com')]],
  ['a link in capitals', 'HTTPS://EXAMPLE.COM/X', [link('HTTPS://EXAMPLE.COM/X')]],
  ['a www. link goes to https', 'www.example.org/path', [link('www.example.org/path', 'https://www.example.org/path')]],
  ['a mailto link', 'write to mailto:team@example.com.', [text('write to '), link('mailto:team@example.com'), text('.')]],
  ['the end of a sentence is not the link', 'go to https://example.com/x, or https://example.com/y.', [
    text('go to '), link('https://example.com/x'), text(', or '), link('https://example.com/y'), text('.')]],
  ['closing brackets with no opening one are not the link', '(https://en.wikipedia.org/wiki/Foo_(bar)).', [
    text('('), link('https://en.wikipedia.org/wiki/Foo_(bar)'), text(').')]],
  ['a link stops at a quote or <', '"https://example.com/q"<x>', [text('"'), link('https://example.com/q'), text('"<x>')]],
  ['underscores in a link are the link', 'https://example.com/a_b_c_ d', [link('https://example.com/a_b_c'), text('_ d')]],
  ['javascript: is text', 'javascript:alert(document.cookie)', [text('javascript:alert(document.cookie)')]],
  ['JavaScript: in any case is text', 'JaVaScRiPt:alert(1)', [text('JaVaScRiPt:alert(1)')]],
  ['data: is text', 'data:text/html,<script>alert(1)</script>', [text('data:text/html,<script>alert(1)</script>')]],
  ['other schemes are text', 'ftp://example.com file:///etc/passwd vbscript:x', [text('ftp://example.com file:///etc/passwd vbscript:x')]],
  ['a scheme alone is text', 'https:// and www. and mailto:', [text('https:// and www. and mailto:')]],
  ['a link inside a word is text', 'xhttps://example.com', [text('xhttps://example.com')]],
  ['HTML is text', '<a href="https://example.com">x</a>', [text('<a href="'), link('https://example.com'), text('">x</a>')]],
  ['inline code', 'run `npm test` now', [text('run '), code('npm test'), text(' now')]],
  ['code keeps marks and links as typed', '`**x** https://example.com _y_`', [code('**x** https://example.com _y_')]],
  ['an unpaired backtick is text', 'a ` b', [text('a ` b')]],
  ['empty backticks are text', 'a `` b', [text('a `` b')]],
  ['a code block', 'look:\n```\nline 1\n  line 2 <b>\n```\nafter', [text('look:\n'), pre('line 1\n  line 2 <b>'), text('after')]],
  ['a code block with its language', '```js\nconst a = 1;\n```', [pre('const a = 1;')]],
  ['a code block on one line', '```x = 1```', [pre('x = 1')]],
  ['an empty code block is text', '`````` and ```  ```', [text('`````` and ```  ```')]],
  ['an unclosed code block is text', '```\nno end', [text('```\nno end')]],
  ['bold', 'a **b** c', [text('a '), b(text('b')), text(' c')]],
  ['italic with _', 'a _b_ c', [text('a '), i(text('b')), text(' c')]],
  ['italic with *', 'a *b* c', [text('a '), i(text('b')), text(' c')]],
  ['italic in bold', '**bold _and italic_**', [b(text('bold '), i(text('and italic')))]],
  ['a link in bold', '**https://example.com**', [b(link('https://example.com'))]],
  ['code in italic', '_see `x`_', [i(text('see '), code('x'))]],
  ['underscores in a word are text', 'snake_case_name', [text('snake_case_name')]],
  ['stars between digits are text', '2*3*4 = 24', [text('2*3*4 = 24')]],
  ['marks next to spaces are text', 'a * b * c and _ d _', [text('a * b * c and _ d _')]],
  ['an unclosed mark is text', '**unclosed and _this', [text('**unclosed and _this')]],
  ['three stars are text', '***x***', [text('***x***')]],
  ['empty emphasis is text', '** ** and __', [text('** ** and __')]],
  ['crossed marks pair what they can', '**a _b** c_', [b(text('a _b')), text(' c_')]],
  ['a mention', '@Alice hi', [at('Alice'), text(' hi')]],
  ['a mention ends at punctuation', 'thanks @Bob.', [text('thanks '), at('Bob'), text('.')]],
  ['an e-mail address is no mention', 'a@b.com', [text('a@b.com')]],
  ['@ alone is text', 'meet @ noon', [text('meet @ noon')]],
  ['an Arabic mention', 'مرحبا @سلمى!', [text('مرحبا '), at('سلمى'), text('!')]],
];

test('parse: links, code, emphasis and mentions', async (t) => {
  for (const [name, input, want] of CASES) {
    await t.test(name, () => assert.deepEqual(parse(input), want));
  }
});

test('parse: mentions of names with spaces, in any case, the longest first', () => {
  const names = ['Mary', 'Mary Ann', 'Bob'];
  assert.deepEqual(parse('hi @mary ann and @Mary, @Maryanne', { names }), [
    text('hi '), { t: 'mention', v: '@mary ann', name: 'mary ann' }, text(' and '), at('Mary'), text(', '), at('Maryanne')]);
  assert.deepEqual(mentions(parse('**@Bob** and _@Ann_ and @Bob', { names })), ['Bob', 'Ann', 'Bob']);
  assert.equal(fold('ＡＬＩＣＥ'), fold('alice'));
});

test('safeHref allows http, https and mailto only', () => {
  for (const ok of ['https://example.com', 'http://x.y', 'mailto:a@b.c', 'HTTPS://X.Y']) assert.equal(safeHref(ok), true, ok);
  for (const bad of ['javascript:alert(1)', 'data:,x', 'vbscript:x', 'file:///x', '//example.com', 'example.com', ' javascript:x']) {
    assert.equal(safeHref(bad), false, bad);
  }
});

// A tiny DOM: enough of Document for render.
class FakeNode {
  constructor(tag) {
    this.tagName = tag;
    this.attrs = {};
    this.children = [];
    this.className = '';
  }

  set textContent(v) { this.children = [new FakeText(v)]; }

  get textContent() { return this.children.map((c) => c.textContent).join(''); }

  setAttribute(k, v) { this.attrs[k] = String(v); }

  append(...nodes) { this.children.push(...nodes); }
}

class FakeText {
  constructor(v) { this.data = v; }

  get textContent() { return this.data; }
}

const fakeDoc = { createElement: (tag) => new FakeNode(tag), createTextNode: (v) => new FakeText(v) };

// shape is a node as [tag, attrs, ...children], a text node as its text.
function shape(n) {
  if (n instanceof FakeText) return n.data;
  const attrs = { ...n.attrs };
  if (n.className) attrs.class = n.className;
  return [n.tagName, attrs, ...n.children.map(shape)];
}

test('render builds elements and text nodes', () => {
  const tokens = parse('**hi** @Ann, see https://example.com and `x<y>` _now_\n```\n<b>\n```', { names: ['Ann'] });
  const nodes = render(tokens, fakeDoc, { me: 'ann' }).map(shape);
  assert.deepEqual(nodes, [
    ['strong', {}, 'hi'],
    ' ',
    ['span', { class: 'mention me', dir: 'auto', 'data-name': 'Ann' }, '@Ann'],
    ', see ',
    ['a', { class: 'link', href: 'https://example.com', rel: 'noopener noreferrer', target: '_blank', dir: 'ltr' }, 'https://example.com'],
    ' and ',
    ['code', { class: 'md-code' }, 'x<y>'],
    ' ',
    ['em', {}, 'now'],
    '\n',
    ['pre', { class: 'md-pre', dir: 'ltr' }, ['code', {}, '<b>']],
  ]);
  const other = render(parse('@Ann'), fakeDoc, { me: 'Bob' }).map(shape);
  assert.deepEqual(other, [['span', { class: 'mention', dir: 'auto', 'data-name': 'Ann' }, '@Ann']]);
});

// visible is the text tokens show.
const visible = (tokens) => tokens.map((t) => (t.c ? visible(t.c) : t.v)).join('');

// rand is a small seeded generator (mulberry32), so that a failure repeats.
function rand(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['*', '**', '_', '`', '```', ' ', 'a', 'é', 'م', '1', '.', ',', ')', '(', '@', '@Ann', 'https://', 'www.', 'x.io', 'mailto:', 'a@b.co',
  'javascript:', 'data:', '<', '>', '"', '/', ':', '\u200b', '😀'];

test('random texts: only marks are dropped, links are safe, nothing throws', () => {
  const next = rand(11);
  const marks = /[*_`]/g;
  for (let n = 0; n < 5000; n++) {
    let s = '';
    const len = Math.floor(next() * 40);
    for (let k = 0; k < len; k++) s += PIECES[Math.floor(next() * PIECES.length)];
    const tokens = parse(s, { names: ['Ann', 'a b'] });
    assert.equal(visible(tokens).replace(marks, ''), s.replace(marks, ''), `text kept: ${JSON.stringify(s)}`);
    const walk = (ts) => {
      for (const t of ts) {
        if (t.t === 'link') assert.ok(safeHref(t.href) && /^(https?:|mailto:)/i.test(t.href), `link ${t.href} in ${JSON.stringify(s)}`);
        if (t.c) walk(t.c);
      }
    };
    walk(tokens);
    render(tokens, fakeDoc, { me: 'Ann' });
  }
});

test('the longest message, of the worst marks, is formatted in a few milliseconds', () => {
  const worst = ['*a ', '_a ', '**a ', '`', 'https://', '@', '``` ', '(https://x.io/' + '('.repeat(20)];
  for (const piece of worst) {
    const s = piece.repeat(Math.ceil(2000 / piece.length)).slice(0, 2000);
    const start = performance.now();
    for (let k = 0; k < 10; k++) parse(s, { names: ['Ann', 'Mary Ann'] });
    const ms = (performance.now() - start) / 10;
    assert.ok(ms < 50, `${JSON.stringify(piece)} × 2000 characters: ${ms.toFixed(1)} ms`);
  }
});
