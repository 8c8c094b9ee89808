// format.js: a message's text as the page shows it. Links (http://,
// https://, www. and mailto:) become links that open in a new tab without
// telling it where they came from; `inline code` and ``` code blocks ```
// are shown as code, as typed; **bold**, _italic_ and *italic* are
// emphasised; @name is a mention. Everything else stays text: no other
// scheme (javascript:, data:, ...) is ever a link.
//
// parse turns a text into tokens, plain data that Node can test; render
// builds them into DOM nodes with createElement and text nodes, never
// innerHTML, so that what someone typed cannot become markup. It owns no
// state.
//
// Tokens:
//   {t: 'text', v}              text
//   {t: 'code', v}              inline code
//   {t: 'pre', v}               a code block
//   {t: 'link', v, href}        a link: v as typed, href where it goes
//   {t: 'mention', v, name}     "@" and a name
//   {t: 'b', c: [tokens]}       bold
//   {t: 'i', c: [tokens]}       italic

// SCHEMES are the only ones a link may have.
const SCHEMES = new Set(['http:', 'https:', 'mailto:']);

const FENCE = '```';
const WORD = /[\p{L}\p{N}]/u;
const SPACE = /\s/u;
// A link starts with one of these, in any case; it runs to a space or to
// one of <>" and loses the punctuation that ends a sentence.
const LINK_START = /^(?:https?:\/\/[^\s<>"/?#]|www\.[\p{L}\p{N}-]+\.[\p{L}\p{N}]|mailto:[^\s<>"@]+@[\p{L}\p{N}-]+\.[\p{L}\p{N}])/iu;
const LINK_BODY = /^[^\s<>"]+/u;
const TRAILING = /[.,;:!?'"*_~]$/u;
const MENTION_NAME = /^[\p{L}\p{N}\p{M}_.-]+/u;

// parse returns the tokens of text. opts.names lists the names a mention
// may be (people in the room: names with spaces are mentioned whole); any
// other "@word" is a mention of word.
export function parse(text, opts = {}) {
  const names = [...new Set((opts.names || []).filter((n) => typeof n === 'string' && n))]
    .sort((a, b) => b.length - a.length);
  const out = [];
  let before = ''; // text before the next block, not parsed yet
  let rest = text;
  for (;;) {
    const open = rest.indexOf(FENCE);
    const close = open < 0 ? -1 : rest.indexOf(FENCE, open + FENCE.length);
    if (close < 0) break;
    let body = rest.slice(open + FENCE.length, close);
    // A first line of one word names the language (```js): not shown.
    const lang = /^[\w+#.-]*\n/.exec(body);
    if (lang) body = body.slice(lang[0].length);
    if (body.endsWith('\n')) body = body.slice(0, -1);
    if (body.trim() === '') {
      // Nothing in it: text, fences and all.
      before += rest.slice(0, close + FENCE.length);
      rest = rest.slice(close + FENCE.length);
      continue;
    }
    out.push(...inline(before + rest.slice(0, open), names));
    out.push({ t: 'pre', v: body });
    before = '';
    rest = rest.slice(close + FENCE.length);
    // The line break after a block is the block's.
    if (rest.startsWith('\n')) rest = rest.slice(1);
  }
  out.push(...inline(before + rest, names));
  return merge(out);
}

// inline parses text with no code block: first what cannot be split (code,
// links, mentions) and the runs of * and _ that may open or close an
// emphasis, then pairs those runs.
function inline(text, names) {
  const items = [];
  let plain = '';
  const flush = () => {
    if (plain) items.push({ t: 'text', v: plain });
    plain = '';
  };
  for (let i = 0; i < text.length;) {
    const ch = text[i];
    const prev = i > 0 ? text[i - 1] : '';
    if (ch === '`') {
      // One backtick opens code up to the next; more are text.
      const end = text[i + 1] === '`' ? -1 : text.indexOf('`', i + 1);
      if (end > i + 1 && text[end + 1] !== '`') {
        flush();
        items.push({ t: 'code', v: text.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
      let n = 1;
      while (text[i + n] === '`') n++;
      plain += text.slice(i, i + n);
      i += n;
      continue;
    }
    if ('hHwWmM'.includes(ch) && !WORD.test(prev) && prev !== '@' && prev !== '/') {
      const link = linkAt(text, i);
      if (link) {
        flush();
        items.push(link);
        i += link.v.length;
        continue;
      }
    }
    if (ch === '@' && !/[\p{L}\p{N}.+-]/u.test(prev)) {
      const name = mentionAt(text, i + 1, names);
      if (name) {
        flush();
        items.push({ t: 'mention', v: `@${name}`, name });
        i += 1 + name.length;
        continue;
      }
    }
    if (ch === '*' || ch === '_') {
      let n = 1;
      while (text[i + n] === ch) n++;
      const next = i + n < text.length ? text[i + n] : '';
      if (n <= (ch === '*' ? 2 : 1)) {
        const open = next !== '' && !SPACE.test(next) && !WORD.test(prev);
        const close = prev !== '' && !SPACE.test(prev) && !WORD.test(next);
        if (open || close) {
          flush();
          items.push({ t: 'delim', v: text.slice(i, i + n), open, close });
          i += n;
          continue;
        }
      }
      plain += text.slice(i, i + n);
      i += n;
      continue;
    }
    plain += ch;
    i++;
  }
  flush();
  return emphasis(items);
}

// emphasis pairs each closing run with the nearest open run like it, and
// wraps what is between them; runs left unpaired are text.
function emphasis(items) {
  const stack = []; // {delim, at}: open runs, and where their content starts
  const out = [];
  for (const item of items) {
    if (item.t !== 'delim') {
      out.push(item);
      continue;
    }
    if (item.close) {
      let k = stack.length - 1;
      while (k >= 0 && stack[k].delim.v !== item.v) k--;
      if (k >= 0 && out.length > stack[k].at) {
        const opener = stack[k];
        stack.length = k;
        const inner = out.splice(opener.at).map(unpaired);
        out.pop(); // the opening run
        out.push({ t: item.v === '**' ? 'b' : 'i', c: merge(inner) });
        continue;
      }
    }
    if (item.open) {
      out.push(item);
      stack.push({ delim: item, at: out.length });
      continue;
    }
    out.push({ t: 'text', v: item.v });
  }
  return out.map(unpaired);
}

const unpaired = (item) => (item.t === 'delim' ? { t: 'text', v: item.v } : item);

// linkAt returns the link that starts at text[i], or null.
function linkAt(text, i) {
  const rest = text.slice(i);
  if (!LINK_START.test(rest)) return null;
  let v = LINK_BODY.exec(rest)[0];
  // Leave out what ends a sentence, and closing brackets with no opening
  // one in the link: "(see https://example.com/a_(b))." keeps "(b)".
  for (;;) {
    if (TRAILING.test(v)) {
      v = v.slice(0, -1);
      continue;
    }
    const last = v[v.length - 1];
    const pair = { ')': '(', ']': '[', '}': '{' }[last];
    if (pair && count(v, last) > count(v, pair)) {
      v = v.slice(0, -1);
      continue;
    }
    break;
  }
  const href = /^www\./i.test(v) ? `https://${v}` : v;
  return safeHref(href) ? { t: 'link', v, href } : null;
}

const count = (s, ch) => s.split(ch).length - 1;

// safeHref reports whether href parses as a URL of an allowed scheme.
export function safeHref(href) {
  try {
    return SCHEMES.has(new URL(href).protocol);
  } catch {
    return false;
  }
}

// mentionAt returns the name mentioned at text[i] (after its "@"): the
// longest of names found there, in any case, and ending there; else the
// word there, without the dots, dashes and underscores that end it; else ''.
function mentionAt(text, i, names) {
  for (const name of names) {
    const got = text.slice(i, i + name.length);
    if (got.length === name.length && fold(got) === fold(name) && !WORD.test(text[i + name.length] || '')) return got;
  }
  const m = MENTION_NAME.exec(text.slice(i));
  if (!m) return '';
  return m[0].replace(/[._-]+$/, '');
}

// fold is how names are compared: in one case, of one form.
export const fold = (name) => name.normalize('NFKC').toLowerCase();

// mentions returns the names mentioned in tokens.
export function mentions(tokens) {
  const out = [];
  for (const tok of tokens) {
    if (tok.t === 'mention') out.push(tok.name);
    else if (tok.c) out.push(...mentions(tok.c));
  }
  return out;
}

// merge joins neighbouring text tokens.
function merge(items) {
  const out = [];
  for (const item of items) push(out, item);
  return out;
}

function push(out, item) {
  const last = out[out.length - 1];
  if (item.t === 'text' && last && last.t === 'text') last.v += item.v;
  else if (item.t !== 'text' || item.v) out.push(item);
}

// render returns DOM nodes for tokens, made by doc (a Document). opts.me
// is our name: a mention of it is marked.
export function render(tokens, doc, opts = {}) {
  const me = opts.me ? fold(opts.me) : null;
  return tokens.map((tok) => node(tok, doc, me));
}

function node(tok, doc, me) {
  const el = (tag, className, text) => {
    const e = doc.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  switch (tok.t) {
    case 'code':
      return el('code', 'md-code', tok.v);
    case 'pre': {
      const pre = el('pre', 'md-pre');
      pre.setAttribute('dir', 'ltr');
      pre.append(el('code', '', tok.v));
      return pre;
    }
    case 'link': {
      const a = el('a', 'link', tok.v);
      a.setAttribute('href', tok.href);
      a.setAttribute('rel', 'noopener noreferrer');
      a.setAttribute('target', '_blank');
      a.setAttribute('dir', 'ltr');
      return a;
    }
    case 'mention': {
      const m = el('span', me !== null && fold(tok.name) === me ? 'mention me' : 'mention', tok.v);
      m.setAttribute('dir', 'auto');
      m.setAttribute('data-name', tok.name);
      return m;
    }
    case 'b':
    case 'i': {
      const e = el(tok.t === 'b' ? 'strong' : 'em');
      e.append(...tok.c.map((c) => node(c, doc, me)));
      return e;
    }
    default:
      return doc.createTextNode(tok.v);
  }
}
