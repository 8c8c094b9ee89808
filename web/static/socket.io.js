/*
 * socket.io.js: parley's own browser client for Socket.IO v4 servers
 * (Engine.IO protocol v4, Socket.IO protocol v5). A classic script with no
 * dependencies and no build step. It defines the global `io`, compatible with
 * the part of the official client's API that chat pages use:
 *
 *   const socket = io("http://localhost:3000", { auth: { token } });
 *   socket.on("chat-message", (data) => { ... });
 *   socket.emit("send-chat-message", message, (reply) => { ... });
 *
 * Transport strategy: WebSocket first. A WebSocket connects in one round
 * trip, costs the server no polling session, and needs no sticky sessions
 * behind a load balancer. HTTP long-polling is the fallback for networks
 * that block WebSocket: if the WebSocket fails before the Engine.IO
 * handshake, the same connection attempt continues over polling. A session
 * that starts on polling (transports: ["polling", "websocket"]) upgrades to
 * WebSocket with the spec's probe (2probe/3probe, pause polling, 5) when
 * the handshake offers "websocket".
 *
 * Sections: 1 emitter, 2 Engine.IO packets, 3 transports, 4 engine,
 * 5 Socket.IO packet codec, 6 manager, 7 socket, 8 io().
 */
(function (global) {
  'use strict';

  // ---- 1. Emitter ---------------------------------------------------------

  // Emitter is a minimal event emitter. A once() wrapper keeps the original
  // listener in .fn so that off(ev, fn) finds it.
  class Emitter {
    on(ev, fn) {
      const map = this._listeners || (this._listeners = new Map());
      if (!map.has(ev)) map.set(ev, []);
      map.get(ev).push(fn);
      return this;
    }

    once(ev, fn) {
      const self = this;
      function wrapper(...args) {
        self.off(ev, wrapper);
        fn.apply(self, args);
      }
      wrapper.fn = fn;
      return this.on(ev, wrapper);
    }

    // off() removes every listener, off(ev) those of ev, off(ev, fn) one.
    off(ev, fn) {
      const map = this._listeners;
      if (!map) return this;
      if (ev === undefined) map.clear();
      else if (fn === undefined) map.delete(ev);
      else {
        const list = map.get(ev) || [];
        const i = list.findIndex((l) => l === fn || l.fn === fn);
        if (i >= 0) list.splice(i, 1);
        if (!list.length) map.delete(ev);
      }
      return this;
    }

    listeners(ev) {
      return ((this._listeners && this._listeners.get(ev)) || []).slice();
    }

    hasListeners(ev) {
      return this.listeners(ev).length > 0;
    }

    // _fire calls the listeners of ev. Socket overrides emit() to send to
    // the server, so internal code always uses _fire.
    _fire(ev, ...args) {
      for (const fn of this.listeners(ev)) fn.apply(this, args);
      return this;
    }

    emit(ev, ...args) {
      return this._fire(ev, ...args);
    }
  }
  const ep = Emitter.prototype;
  ep.addEventListener = ep.on;
  ep.removeListener = ep.removeEventListener = ep.removeAllListeners = ep.off;

  // listen subscribes fn to ev and returns a function that unsubscribes it.
  function listen(emitter, ev, fn) {
    emitter.on(ev, fn);
    return () => emitter.off(ev, fn);
  }

  // ---- 2. Engine.IO packets -----------------------------------------------

  const EIO_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];
  const SEPARATOR = '\x1e'; // between packets of a polling payload

  function isBinary(x) {
    return x instanceof ArrayBuffer || ArrayBuffer.isView(x) ||
      (typeof Blob !== 'undefined' && x instanceof Blob);
  }

  function bytesOf(x) {
    return x instanceof ArrayBuffer ? new Uint8Array(x) : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  }

  function toBase64(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }

  function fromBase64(b64) {
    const s = atob(b64);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    return bytes.buffer;
  }

  // encodeFrame encodes a packet for a WebSocket frame: "<type><data>", or
  // the binary data as is for a binary message.
  function encodeFrame(p) {
    if (isBinary(p.data)) return p.data;
    return EIO_TYPES.indexOf(p.type) + (p.data === undefined ? '' : p.data);
  }

  // encodeText encodes a packet for a polling payload, where binary data is
  // "b" + base64. It is async because reading a Blob is.
  async function encodeText(p) {
    if (!isBinary(p.data)) return encodeFrame(p);
    const data = p.data instanceof ArrayBuffer || ArrayBuffer.isView(p.data) ? p.data : await p.data.arrayBuffer();
    return 'b' + toBase64(bytesOf(data));
  }

  // decodeFrame decodes one packet; an unknown type decodes as "error".
  function decodeFrame(frame) {
    if (typeof frame !== 'string') return { type: 'message', data: frame };
    if (frame[0] === 'b') return { type: 'message', data: fromBase64(frame.slice(1)) };
    const type = EIO_TYPES[frame[0]];
    if (!type) return { type: 'error', data: frame };
    return { type, data: frame.length > 1 ? frame.slice(1) : undefined };
  }

  // encodedSize estimates the UTF-8 size of a packet in a polling payload,
  // to respect the server's maxPayload.
  function encodedSize(p) {
    if (isBinary(p.data)) return 1 + Math.ceil((p.data.byteLength || p.data.size || 0) / 3) * 4;
    const s = p.data === undefined ? '' : String(p.data);
    let n = 1;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c < 0xdc00) { n += 4; i++; } // surrogate pair
      else n += 3;
    }
    return n;
  }

  // ---- 3. Transports ------------------------------------------------------
  //
  // A transport carries Engine.IO packets for an Engine. It emits "packet",
  // "drain" (writable again), "error" and "close". send(packets) sends a
  // prefix of packets and returns how many it took; while `writable` is false
  // the engine keeps the rest. close(sendClose) stops it without events.

  class WebSocketTransport extends Emitter {
    constructor(engine) {
      super();
      this.name = 'websocket';
      this.engine = engine;
      this.state = 'closed';
      this.writable = false;
    }

    open() {
      this.state = 'opening';
      let ws;
      try {
        ws = new WebSocket(this.engine._uri('websocket'));
      } catch (err) {
        setTimeout(() => this._fail(err));
        return;
      }
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => {
        this.state = 'open';
        this.writable = true;
        this._fire('open');
      };
      ws.onmessage = (ev) => this._fire('packet', decodeFrame(ev.data));
      ws.onerror = () => this._fail(new Error('websocket error'));
      ws.onclose = (ev) => {
        this.close();
        this._fire('close', ev);
      };
      this.ws = ws;
    }

    send(packets) {
      for (const p of packets) this.ws.send(encodeFrame(p));
      return packets.length;
    }

    _fail(err) {
      if (this.state === 'closed') return;
      this.close();
      this._fire('error', err);
    }

    // close closes the socket; the official client sends no close packet
    // over WebSocket either, the closing handshake says it all.
    close() {
      this.state = 'closed';
      this.writable = false;
      if (this.ws) {
        const ws = this.ws;
        this.ws = null;
        ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
        ws.close();
      }
    }
  }

  // PollingTransport runs one long-polling GET at a time (the first one
  // returns the handshake) and one POST at a time, as the spec requires.
  class PollingTransport extends Emitter {
    constructor(engine) {
      super();
      this.name = 'polling';
      this.engine = engine;
      this.state = 'closed'; // opening, open, pausing, paused, closed
      this.writable = false; // no POST in flight, handshake done
      this.polling = false; // a GET in flight
      this._abort = new AbortController();
    }

    open() {
      this.state = 'opening';
      this._poll();
    }

    _request(body, abortable) {
      const init = {
        method: body === undefined ? 'GET' : 'POST',
        cache: 'no-store',
        credentials: this.engine.opts.withCredentials ? 'include' : 'same-origin',
      };
      if (body !== undefined) {
        init.body = body;
        init.headers = { 'Content-Type': 'text/plain;charset=UTF-8' };
      }
      if (abortable) init.signal = this._abort.signal;
      return fetch(this.engine._uri('polling'), init).then((res) => {
        if (!res.ok) throw new Error('polling request failed: HTTP ' + res.status);
        return res.text();
      });
    }

    _poll() {
      this.polling = true;
      this._request(undefined, true).then((text) => {
        this.polling = false;
        for (const frame of text.split(SEPARATOR)) {
          if (this.state === 'closed') return;
          if (!frame) continue;
          const p = decodeFrame(frame);
          if (p.type === 'open' && this.state === 'opening') {
            this.state = 'open';
            this.writable = true;
          }
          this._fire('packet', p);
        }
        if (this.state === 'opening') this._fail(new Error('polling: no handshake'));
        else if (this.state === 'open') this._poll();
        else this._checkPaused();
      }, (err) => this._fail(err));
    }

    send(packets) {
      // Join as many packets as fit in the server's maxPayload (at least one).
      const max = this.engine.maxPayload;
      let n = 0;
      let size = 0;
      while (n < packets.length) {
        size += encodedSize(packets[n]) + 1;
        if (n > 0 && max && size > max) break;
        n++;
      }
      this.writable = false;
      Promise.all(packets.slice(0, n).map(encodeText))
        .then((texts) => this._request(texts.join(SEPARATOR), true))
        .then(() => {
          if (this.state === 'closed') return;
          this.writable = true;
          this._checkPaused();
          this._fire('drain');
        }, (err) => this._fail(err));
      return n;
    }

    // pause stops polling for an upgrade: cb runs once no GET and no POST is
    // in flight. The server ends a pending GET with a noop packet.
    pause(cb) {
      this.state = 'pausing';
      this._onPaused = cb;
      this._checkPaused();
    }

    _checkPaused() {
      if (this.state !== 'pausing' || this.polling || !this.writable) return;
      this.state = 'paused';
      const cb = this._onPaused;
      this._onPaused = null;
      cb();
    }

    resume() {
      this.state = 'open';
      this._onPaused = null;
      if (!this.polling) this._poll();
    }

    _fail(err) {
      if (this.state === 'closed') return;
      this.close(false);
      this._fire('error', err);
    }

    // close aborts the requests in flight; with sendClose it POSTs a close
    // packet so the server ends the session now rather than at ping timeout.
    close(sendClose) {
      if (this.state === 'closed') return;
      const wasOpen = this.state !== 'opening';
      this.state = 'closed';
      this.writable = false;
      this._abort.abort();
      if (sendClose && wasOpen) this._request('1', false).catch(() => {});
    }
  }

  // ---- 4. Engine ----------------------------------------------------------

  let requestCounter = 0;

  // Engine is one Engine.IO session: handshake, heartbeat, write buffer,
  // transport fallback and upgrade. It emits "open", "data", "ping",
  // "packet", "upgrade", "error" and "close" (reason, description).
  class Engine extends Emitter {
    constructor(origin, opts) {
      super();
      this.opts = opts;
      this.origin = origin; // "http(s)://host:port"
      this.path = (opts.path || '/socket.io').replace(/\/$/, '') + '/';
      this.query = typeof opts.query === 'string'
        ? Object.fromEntries(new URLSearchParams(opts.query))
        : Object.assign({}, opts.query);
      this.transports = (opts.transports || ['websocket', 'polling'])
        .filter((t) => t === 'websocket' || t === 'polling');
      this.readyState = 'closed'; // opening, open, closing, closed
      this.id = null;
      this.transport = null;
      this.writeBuffer = [];
      this.upgrading = false;
      this.upgrades = [];
      this.pingInterval = 0;
      this.pingTimeout = 0;
      this.maxPayload = 0;
    }

    _uri(transport) {
      const q = new URLSearchParams(this.query);
      q.set('EIO', '4');
      q.set('transport', transport);
      if (this.id) q.set('sid', this.id);
      // A unique t defeats caches between the page and the server.
      if (transport === 'polling') q.set('t', Date.now().toString(36) + '.' + (requestCounter++).toString(36));
      const base = transport === 'websocket' ? this.origin.replace(/^http/, 'ws') : this.origin;
      return base + this.path + '?' + q;
    }

    open() {
      this.readyState = 'opening';
      this._tryTransport(0);
      return this;
    }

    _tryTransport(i) {
      if (i >= this.transports.length) {
        this._fire('error', new Error('no usable transport in ' + JSON.stringify(this.opts.transports)));
        this._onClose('transport error');
        return;
      }
      this._next = i + 1;
      const name = this.transports[i];
      this._setTransport(name === 'websocket' ? new WebSocketTransport(this) : new PollingTransport(this));
      this.transport.open();
    }

    _setTransport(t) {
      if (this.transport) this.transport.off();
      this.transport = t;
      t.on('packet', (p) => this._onPacket(p));
      t.on('drain', () => this._flush());
      t.on('error', (err) => this._onError(err));
      t.on('close', (ev) => {
        if (this.readyState === 'opening') this._onError(new Error('transport closed before the handshake'));
        else this._onClose('transport close', ev);
      });
    }

    _onError(err) {
      // A transport that fails before the handshake hands over to the next.
      if (this.readyState === 'opening' && this._next < this.transports.length) {
        if (this.transport.name === 'websocket') this._wsFailed = true;
        this.transport.off();
        this.transport.close(false);
        this._tryTransport(this._next);
        return;
      }
      this._fire('error', err);
      this._onClose('transport error', err);
    }

    _onPacket(p) {
      if (this.readyState === 'closed') return;
      this._fire('packet', p);
      switch (p.type) {
        case 'open':
          if (this.readyState === 'opening') this._onHandshake(p.data);
          break;
        case 'ping':
          this._resetPing();
          this._send('pong');
          this._fire('ping');
          break;
        case 'message':
          this._fire('data', p.data);
          break;
        case 'close':
          if (this.readyState === 'opening') this._onError(new Error('closed by the server during the handshake'));
          else this._onClose('transport close', new Error('transport closed by the server'));
          break;
        case 'error':
          this._onError(new Error('invalid Engine.IO packet'));
          break;
        // pong (only to our probe), noop, upgrade: nothing to do.
      }
    }

    _onHandshake(json) {
      let hs = null;
      try {
        hs = JSON.parse(json);
      } catch (e) {
        // handled below
      }
      if (!hs || typeof hs.sid !== 'string') {
        this._onError(new Error('invalid handshake'));
        return;
      }
      this.id = hs.sid;
      this.upgrades = hs.upgrades || [];
      this.pingInterval = hs.pingInterval || 0;
      this.pingTimeout = hs.pingTimeout || 0;
      this.maxPayload = hs.maxPayload || 0;
      this.readyState = 'open';
      this._resetPing();
      this._fire('open');
      this._flush();
      if (this.readyState === 'open' && this.transport.name === 'polling' && this.opts.upgrade !== false &&
          !this._wsFailed && this.transports.includes('websocket') && this.upgrades.includes('websocket')) {
        this._probe();
      }
    }

    // _resetPing arms the heartbeat: the server pings every pingInterval, so
    // silence for pingInterval + pingTimeout means the connection is gone.
    _resetPing() {
      clearTimeout(this._pingTimer);
      const ms = this.pingInterval + this.pingTimeout;
      if (!ms) return;
      this._pingDeadline = Date.now() + ms;
      this._pingTimer = setTimeout(() => this._onClose('ping timeout'), ms);
    }

    // _hasPingExpired catches a deadline that passed while timers were
    // throttled (background tab), so emits are buffered, not lost.
    _hasPingExpired() {
      if (this.readyState !== 'open' || !this._pingDeadline || Date.now() <= this._pingDeadline) return false;
      if (!this._expiring) {
        this._expiring = true;
        setTimeout(() => this._onClose('ping timeout'));
      }
      return true;
    }

    // _probe tries to move a polling session to WebSocket.
    _probe() {
      const ws = new WebSocketTransport(this);
      const polling = this.transport;
      this._probing = ws;
      const fail = (err) => {
        if (this._probing !== ws) return;
        this._abortProbe();
        if (polling.state === 'pausing' || polling.state === 'paused') polling.resume();
        this._fire('upgradeError', err instanceof Error ? err : new Error('probe error'));
        this._flush();
      };
      ws.on('open', () => ws.send([{ type: 'ping', data: 'probe' }]));
      ws.on('error', fail);
      ws.on('close', fail);
      ws.on('packet', (p) => {
        if (p.type !== 'pong' || p.data !== 'probe') {
          fail(new Error('probe error'));
          return;
        }
        this.upgrading = true; // hold the write buffer until the switch
        polling.pause(() => {
          if (this._probing !== ws || this.readyState !== 'open') return;
          this._probing = null;
          ws.off();
          polling.off();
          polling.close(false);
          this._setTransport(ws);
          ws.send([{ type: 'upgrade' }]);
          this.upgrading = false;
          this._fire('upgrade', ws);
          this._flush();
        });
      });
      ws.open();
    }

    _abortProbe() {
      const ws = this._probing;
      if (!ws) return;
      this._probing = null;
      ws.off();
      ws.close();
      this.upgrading = false;
    }

    write(data) {
      this._send('message', data);
    }

    _send(type, data) {
      if (this.readyState !== 'opening' && this.readyState !== 'open') return;
      this.writeBuffer.push({ type, data });
      this._flush();
    }

    _flush() {
      const t = this.transport;
      if (!t || this.readyState === 'closed') return;
      while (this.writeBuffer.length && t.writable && !this.upgrading) {
        this.writeBuffer.splice(0, t.send(this.writeBuffer));
      }
      if (this.readyState === 'closing' && !this.writeBuffer.length && t.writable && !this.upgrading) {
        this._onClose('forced close');
      }
    }

    // close ends the session once the write buffer is out.
    close() {
      if (this.readyState === 'opening') this._onClose('forced close');
      if (this.readyState !== 'open') return this;
      this.readyState = 'closing';
      this._abortProbe(); // a paused polling transport can still POST
      this._flush();
      return this;
    }

    _onClose(reason, description) {
      if (this.readyState === 'closed') return;
      clearTimeout(this._pingTimer);
      this._abortProbe();
      if (this.transport) {
        this.transport.off();
        this.transport.close(reason === 'forced close');
      }
      this.readyState = 'closed';
      this.id = null;
      this.writeBuffer = [];
      this._fire('close', reason, description);
    }
  }

  // ---- 5. Socket.IO packet codec ------------------------------------------

  const CONNECT = 0;
  const DISCONNECT = 1;
  const EVENT = 2;
  const ACK = 3;
  const CONNECT_ERROR = 4;
  const BINARY_EVENT = 5;
  const BINARY_ACK = 6;

  // Event names the client uses itself; neither side may emit them.
  const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

  function isPlainObject(x) {
    return x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Date) && typeof x.toJSON !== 'function';
  }

  // extractBinary copies data with every binary value replaced by a
  // placeholder {"_placeholder":true,"num":N} and appended to buffers.
  function extractBinary(data, buffers) {
    if (isBinary(data)) {
      buffers.push(data);
      return { _placeholder: true, num: buffers.length - 1 };
    }
    if (Array.isArray(data)) return data.map((x) => extractBinary(x, buffers));
    if (isPlainObject(data)) {
      const out = {};
      for (const k of Object.keys(data)) out[k] = extractBinary(data[k], buffers);
      return out;
    }
    return data;
  }

  // insertBinary replaces the placeholders in data, in place.
  function insertBinary(data, buffers) {
    if (Array.isArray(data)) {
      for (let i = 0; i < data.length; i++) data[i] = insertBinary(data[i], buffers);
    } else if (data !== null && typeof data === 'object') {
      if (data._placeholder === true) {
        if (Number.isInteger(data.num) && data.num >= 0 && data.num < buffers.length) return buffers[data.num];
        throw new Error('illegal attachments');
      }
      for (const k of Object.keys(data)) data[k] = insertBinary(data[k], buffers);
    }
    return data;
  }

  // encodePacket returns the Engine.IO messages for a packet: the text
  //   <type>[<attachments>-][<nsp>,][<id>][<JSON data>]
  // followed by the binary attachments.
  function encodePacket(p) {
    const buffers = [];
    const data = p.data === undefined ? undefined : extractBinary(p.data, buffers);
    let type = p.type;
    let s = '';
    if (buffers.length) {
      type = type === ACK ? BINARY_ACK : BINARY_EVENT;
      s = buffers.length + '-';
    }
    s = type + s;
    if (p.nsp && p.nsp !== '/') s += p.nsp + ',';
    if (p.id !== undefined) s += p.id;
    if (data !== undefined) s += JSON.stringify(data);
    return [s].concat(buffers);
  }

  function validPayload(p) {
    switch (p.type) {
      case CONNECT: return isPlainObject(p.data);
      case DISCONNECT: return p.data === undefined;
      case CONNECT_ERROR: return typeof p.data === 'string' || isPlainObject(p.data);
      case EVENT:
      case BINARY_EVENT:
        return Array.isArray(p.data) && (typeof p.data[0] === 'number' ||
          (typeof p.data[0] === 'string' && !RESERVED.includes(p.data[0])));
      case ACK:
      case BINARY_ACK:
        return Array.isArray(p.data);
    }
    return false;
  }

  function decodeText(s) {
    const p = { type: Number(s[0]), nsp: '/' };
    if (!(p.type >= CONNECT && p.type <= BINARY_ACK)) throw new Error('unknown packet type ' + s[0]);
    let i = 1;
    if (p.type === BINARY_EVENT || p.type === BINARY_ACK) {
      const dash = s.indexOf('-', i);
      const n = dash < 0 ? '' : s.slice(i, dash);
      if (!/^\d+$/.test(n)) throw new Error('illegal attachments');
      p.attachments = Number(n);
      i = dash + 1;
    }
    if (s[i] === '/') {
      const comma = s.indexOf(',', i);
      const end = comma < 0 ? s.length : comma;
      p.nsp = s.slice(i, end);
      i = end + 1;
    }
    const id = /^\d+/.exec(s.slice(i));
    if (id) {
      p.id = Number(id[0]);
      i += id[0].length;
    }
    if (i < s.length) p.data = JSON.parse(s.slice(i));
    if (!validPayload(p)) throw new Error('invalid payload');
    return p;
  }

  // Decoder turns Engine.IO messages into packets, collecting the binary
  // attachments that follow a BINARY_EVENT/BINARY_ACK. add() returns a
  // complete packet or null, and throws on malformed input.
  class Decoder {
    add(msg) {
      if (typeof msg === 'string') {
        if (this.pending) throw new Error('got text while waiting for attachments');
        const p = decodeText(msg);
        if (!p.attachments) return p;
        this.pending = { packet: p, buffers: [] };
        return null;
      }
      if (!this.pending) throw new Error('got binary data outside of a packet');
      const { packet, buffers } = this.pending;
      buffers.push(msg);
      if (buffers.length < packet.attachments) return null;
      this.pending = null;
      packet.data = insertBinary(packet.data, buffers);
      return packet;
    }
  }

  // ---- 6. Manager ---------------------------------------------------------

  // Manager owns the Engine.IO connection shared by the sockets of one
  // origin (one per namespace), and reconnects it with exponential backoff.
  // It emits "open", "close", "error", "ping", "packet", "reconnect_attempt",
  // "reconnect", "reconnect_error" and "reconnect_failed".
  class Manager extends Emitter {
    constructor(origin, opts) {
      super();
      opts = Object.assign({}, opts);
      const defaults = {
        reconnection: true,
        reconnectionAttempts: Infinity,
        reconnectionDelay: 1000,
        reconnectionDelayMax: 5000,
        randomizationFactor: 0.5,
        timeout: 20000,
      };
      for (const k of Object.keys(defaults)) if (opts[k] == null) opts[k] = defaults[k];
      this.uri = origin;
      this.opts = opts;
      this.nsps = {};
      this.engine = undefined;
      this._readyState = 'closed';
      this._reconnecting = false;
      this._attempts = 0;
      this._autoConnect = opts.autoConnect !== false;
      this._subs = [];
      this._decoder = new Decoder();
      if (this._autoConnect) this.open();
    }

    // open starts an Engine.IO connection; fn(err) is called once it opens
    // or fails. Without fn a failed first attempt starts reconnecting.
    open(fn) {
      if (this._readyState === 'open' || this._readyState === 'opening') return this;
      const engine = this.engine = new Engine(this.uri, this.opts);
      this._readyState = 'opening';
      this.skipReconnect = false;
      // These subscriptions live in _subs, so _cleanup (on open, error or
      // a forced close) drops them and the connect timer together.
      const onError = (err) => {
        this._cleanup();
        this._readyState = 'closed';
        this._fire('error', err);
        if (fn) fn(err);
        else this._maybeReconnectOnOpen();
      };
      this._subs.push(
        listen(engine, 'open', () => {
          this._onopen();
          if (fn) fn();
        }),
        listen(engine, 'error', onError),
      );
      if (this.opts.timeout) {
        const timer = setTimeout(() => {
          onError(new Error('timeout'));
          engine.close();
        }, this.opts.timeout);
        this._subs.push(() => clearTimeout(timer));
      }
      engine.open();
      return this;
    }

    _onopen() {
      this._cleanup();
      this._readyState = 'open';
      this._fire('open');
      const engine = this.engine;
      this._subs.push(
        listen(engine, 'ping', () => this._fire('ping')),
        listen(engine, 'data', (data) => this._ondata(data)),
        listen(engine, 'error', (err) => this._fire('error', err)),
        listen(engine, 'close', (reason, desc) => this._onclose(reason, desc)),
      );
    }

    _ondata(data) {
      let packet;
      try {
        packet = this._decoder.add(data);
      } catch (err) {
        this._onclose('parse error', err);
        return;
      }
      if (packet) this._fire('packet', packet);
    }

    _cleanup() {
      this._subs.forEach((off) => off());
      this._subs = [];
      this._decoder = new Decoder();
    }

    _onclose(reason, description) {
      this._cleanup();
      if (this.engine) this.engine.close();
      this._attempts = 0;
      this._readyState = 'closed';
      this._fire('close', reason, description);
      if (this.opts.reconnection && !this.skipReconnect) this._reconnect();
    }

    _maybeReconnectOnOpen() {
      if (!this._reconnecting && this.opts.reconnection && this._attempts === 0) this._reconnect();
    }

    // _delay is reconnectionDelay * 2^attempt, jittered by
    // ±randomizationFactor and capped at reconnectionDelayMax.
    _delay() {
      const o = this.opts;
      let ms = o.reconnectionDelay * Math.pow(2, this._attempts++);
      ms += (Math.random() * 2 - 1) * o.randomizationFactor * ms;
      return Math.max(0, Math.min(ms, o.reconnectionDelayMax));
    }

    _reconnect() {
      if (this._reconnecting || this.skipReconnect) return;
      if (this._attempts >= this.opts.reconnectionAttempts) {
        this._attempts = 0;
        this._fire('reconnect_failed');
        return;
      }
      this._reconnecting = true;
      this._timer = setTimeout(() => {
        if (this.skipReconnect) return;
        this._fire('reconnect_attempt', this._attempts);
        if (this.skipReconnect) return;
        this.open((err) => {
          this._reconnecting = false;
          if (err) {
            this._reconnect();
            this._fire('reconnect_error', err);
          } else {
            const attempts = this._attempts;
            this._attempts = 0;
            this._fire('reconnect', attempts);
          }
        });
      }, this._delay());
    }

    // socket returns the Socket for nsp, creating it on first use.
    socket(nsp, opts) {
      let socket = this.nsps[nsp];
      if (!socket) socket = this.nsps[nsp] = new Socket(this, nsp, opts);
      else if (this._autoConnect && !socket.active) socket.connect();
      return socket;
    }

    // _destroy is called by a socket that is done; the connection closes
    // when no socket uses it any more.
    _destroy() {
      for (const nsp of Object.keys(this.nsps)) if (this.nsps[nsp].active) return;
      this._close();
    }

    _close() {
      this.skipReconnect = true;
      this._reconnecting = false;
      clearTimeout(this._timer);
      this._onclose('forced close');
    }

    _packet(packet) {
      if (!this.engine) return;
      for (const msg of encodePacket(packet)) this.engine.write(msg);
    }
  }
  Manager.prototype.connect = Manager.prototype.open;
  // Getter/setters like the official client: mgr.reconnection(false).
  for (const k of ['reconnection', 'reconnectionAttempts', 'reconnectionDelay',
    'reconnectionDelayMax', 'randomizationFactor', 'timeout']) {
    Manager.prototype[k] = function (v) {
      if (!arguments.length) return this.opts[k];
      this.opts[k] = v;
      return this;
    };
  }

  // ---- 7. Socket ----------------------------------------------------------

  // Socket is one namespace on a Manager's connection. Emits made while it
  // is disconnected are buffered and sent on connect.
  class Socket extends Emitter {
    constructor(io, nsp, opts) {
      super();
      this.io = io;
      this.nsp = nsp;
      this.id = undefined;
      this.connected = false;
      this.recovered = false;
      this.auth = opts && opts.auth;
      this.flags = {};
      this.sendBuffer = [];
      this.receiveBuffer = [];
      this.ids = 0;
      this.acks = {};
      this._opts = Object.assign({}, opts);
      this._subs = null;
      this._anyListeners = [];
      if (io._autoConnect) this.connect();
    }

    get disconnected() {
      return !this.connected;
    }

    // active: the socket reconnects by itself when the connection is lost.
    get active() {
      return !!this._subs;
    }

    get volatile() {
      this.flags.volatile = true;
      return this;
    }

    connect() {
      if (this.connected) return this;
      if (!this._subs) {
        const io = this.io;
        this._subs = [
          listen(io, 'open', () => this._onopen()),
          listen(io, 'packet', (p) => this._onpacket(p)),
          listen(io, 'error', (err) => {
            if (!this.connected) this._fire('connect_error', err);
          }),
          listen(io, 'close', (reason, desc) => this._onclose(reason, desc)),
        ];
      }
      if (!this.io._reconnecting) this.io.open();
      if (this.io._readyState === 'open') this._onopen();
      return this;
    }

    disconnect() {
      if (this.connected) this._packet({ type: DISCONNECT });
      this._destroy();
      if (this.connected) this._onclose('io client disconnect');
      return this;
    }

    send(...args) {
      return this.emit('message', ...args);
    }

    // emit sends an event; a trailing function receives the server's ack.
    emit(ev, ...args) {
      if (RESERVED.includes(ev)) throw new Error('"' + ev + '" is a reserved event name');
      const packet = { type: EVENT, data: [ev].concat(args) };
      if (typeof args[args.length - 1] === 'function') {
        packet.id = this.ids++;
        this._registerAck(packet.id, packet.data.pop());
      }
      const engine = this.io.engine;
      const connected = this.connected && !(engine && engine._hasPingExpired());
      if (connected) this._packet(packet);
      else if (!this.flags.volatile) this.sendBuffer.push(packet);
      this.flags = {};
      return this;
    }

    // emitWithAck resolves with the ack's first argument; with a timeout
    // it rejects on timeout.
    emitWithAck(ev, ...args) {
      const withErr = this.flags.timeout !== undefined || this._opts.ackTimeout !== undefined;
      return new Promise((resolve, reject) => {
        args.push((a, b) => {
          if (!withErr) resolve(a);
          else if (a) reject(a);
          else resolve(b);
        });
        this.emit(ev, ...args);
      });
    }

    // timeout(ms).emit(..., (err, ...resp) => {}): err is an Error when no
    // ack came within ms, null otherwise.
    timeout(ms) {
      this.flags.timeout = ms;
      return this;
    }

    compress() {
      return this;
    }

    onAny(fn) {
      this._anyListeners.push(fn);
      return this;
    }

    prependAny(fn) {
      this._anyListeners.unshift(fn);
      return this;
    }

    offAny(fn) {
      this._anyListeners = fn ? this._anyListeners.filter((l) => l !== fn) : [];
      return this;
    }

    listenersAny() {
      return this._anyListeners.slice();
    }

    _registerAck(id, ack) {
      const ms = this.flags.timeout !== undefined ? this.flags.timeout : this._opts.ackTimeout;
      if (ms === undefined) {
        this.acks[id] = ack;
        return;
      }
      const timer = setTimeout(() => {
        delete this.acks[id];
        this.sendBuffer = this.sendBuffer.filter((p) => p.id !== id);
        ack.call(this, new Error('operation has timed out'));
      }, ms);
      const fn = (...args) => {
        clearTimeout(timer);
        ack.apply(this, args);
      };
      fn.withError = true; // called as (err, ...args)
      this.acks[id] = fn;
    }

    _packet(packet) {
      packet.nsp = this.nsp;
      this.io._packet(packet);
    }

    _onopen() {
      if (typeof this.auth === 'function') this.auth((data) => this._sendConnect(data));
      else this._sendConnect(this.auth);
    }

    // _sendConnect sends CONNECT; after a first session it adds pid and the
    // last offset so a server with connection state recovery can resume.
    _sendConnect(data) {
      if (this._pid) data = Object.assign({ pid: this._pid, offset: this._lastOffset }, data);
      this._packet({ type: CONNECT, data });
    }

    _onpacket(p) {
      if (p.nsp !== this.nsp) return;
      switch (p.type) {
        case CONNECT:
          if (p.data && typeof p.data.sid === 'string') this._onconnect(p.data.sid, p.data.pid);
          else this._fire('connect_error', new Error('invalid CONNECT reply: is this a Socket.IO v3+ server?'));
          break;
        case EVENT:
        case BINARY_EVENT:
          this._onevent(p);
          break;
        case ACK:
        case BINARY_ACK:
          this._onack(p);
          break;
        case DISCONNECT:
          this._destroy();
          this._onclose('io server disconnect');
          break;
        case CONNECT_ERROR: {
          this._destroy();
          const d = typeof p.data === 'string' ? { message: p.data } : p.data;
          const err = new Error(d.message);
          err.data = d.data;
          this._fire('connect_error', err);
          break;
        }
      }
    }

    _onconnect(id, pid) {
      this.id = id;
      this.recovered = !!pid && this._pid === pid;
      this._pid = pid;
      this.connected = true;
      // A recovered session replays missed events before its CONNECT
      // reply; deliver them first, then what was emitted meanwhile.
      const received = this.receiveBuffer;
      this.receiveBuffer = [];
      received.forEach((args) => this._emitEvent(args));
      const toSend = this.sendBuffer;
      this.sendBuffer = [];
      toSend.forEach((p) => this._packet(p));
      this._fire('connect');
    }

    _onevent(p) {
      const args = p.data.slice();
      if (p.id !== undefined) args.push(this._ackCallback(p.id));
      if (this.connected) this._emitEvent(args);
      else this.receiveBuffer.push(args);
    }

    _emitEvent(args) {
      for (const fn of this._anyListeners.slice()) fn.apply(this, args);
      this._fire(...args);
      // With recovery on, the server appends the event's offset as a last
      // string argument; the newest one goes into the next CONNECT.
      if (this._pid && args.length && typeof args[args.length - 1] === 'string') {
        this._lastOffset = args[args.length - 1];
      }
    }

    _ackCallback(id) {
      let sent = false;
      return (...args) => {
        if (sent) return;
        sent = true;
        this._packet({ type: ACK, id, data: args });
      };
    }

    _onack(p) {
      const ack = this.acks[p.id];
      if (typeof ack !== 'function') return;
      delete this.acks[p.id];
      const args = p.data.slice();
      if (ack.withError) args.unshift(null);
      ack.apply(this, args);
    }

    _onclose(reason, description) {
      const wasConnected = this.connected;
      this.connected = false;
      this.id = undefined;
      if (wasConnected) this._fire('disconnect', reason, description);
      this._clearAcks();
    }

    // _clearAcks fails the acks with a timeout (their callback takes an
    // error) whose packet went out; buffered packets keep theirs.
    _clearAcks() {
      for (const id of Object.keys(this.acks)) {
        if (this.sendBuffer.some((p) => String(p.id) === id)) continue;
        const ack = this.acks[id];
        delete this.acks[id];
        if (ack.withError) ack.call(this, new Error('socket has been disconnected'));
      }
    }

    _destroy() {
      if (this._subs) {
        this._subs.forEach((off) => off());
        this._subs = null;
      }
      this.io._destroy(this);
    }
  }
  Socket.prototype.open = Socket.prototype.connect;
  Socket.prototype.close = Socket.prototype.disconnect;

  // ---- 8. io() ------------------------------------------------------------

  const managers = {}; // shared Managers by origin and path

  // io(url?, opts?) returns the Socket for the URL's path (the namespace).
  // Sockets of one origin share a Manager, and so one connection, unless
  // forceNew is set or that namespace is already taken.
  function io(url, opts) {
    if (typeof url === 'object' && url !== null) {
      opts = url;
      url = undefined;
    }
    opts = Object.assign({}, opts);
    const loc = global.location;
    let s = url === undefined ? loc.protocol + '//' + loc.host : String(url);
    if (s.startsWith('//')) s = loc.protocol + s;
    else if (s.startsWith('/')) s = loc.host + s;
    if (!/^(https?|wss?):\/\//i.test(s)) s = loc.protocol + '//' + s;
    const u = new URL(s);
    const secure = u.protocol === 'https:' || u.protocol === 'wss:';
    const origin = (secure ? 'https://' : 'http://') + u.host;
    const nsp = u.pathname || '/';
    if (u.search && !opts.query) opts.query = u.search.slice(1);
    const key = origin + (opts.path || '/socket.io');
    const taken = managers[key] && nsp in managers[key].nsps;
    let manager;
    if (opts.forceNew || opts['force new connection'] || opts.multiplex === false || taken) {
      manager = new Manager(origin, opts);
    } else {
      manager = managers[key] || (managers[key] = new Manager(origin, opts));
    }
    return manager.socket(nsp, opts);
  }
  io.connect = io;
  io.protocol = 5;
  io.Manager = Manager;
  io.Socket = Socket;

  global.io = io;
})(typeof window !== 'undefined' ? window : self);
