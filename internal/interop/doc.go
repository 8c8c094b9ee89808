// Package interop checks parley's Socket.IO server against the official
// JavaScript client, socket.io-client 4.8, the way coder/websocket runs
// Autobahn and ergo runs irctest.
//
// It holds only tests. TestOfficialClient starts a socketio.Server with test
// handlers on a loopback httptest.Server, then runs
// test/js/interop.test.mjs under `node --test` once per client transport
// configuration (WebSocket, polling, polling upgraded to WebSocket), and
// finally checks what the Go handlers received.
//
// The test is skipped when node or test/js/node_modules is missing (run
// `npm ci` in test/js), unless PARLEY_REQUIRE_NODE=1, as in CI, which makes
// it fail instead. PARLEY_INTEROP_DEBUG=1 logs the server at debug level;
// DEBUG=socket.io-client:*,engine.io-client:* logs the client's side.
package interop
