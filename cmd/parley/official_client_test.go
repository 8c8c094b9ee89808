package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/test/testjs"
)

// TestOfficialClientChat plays the chat contract (README.md, "Events") with
// the official socket.io-client against the whole app, over WebSocket,
// polling and polling upgraded to WebSocket (test/js/chat-official.test.mjs).
func TestOfficialClientChat(t *testing.T) {
	testjs.RequireNode(t)
	t.Parallel()
	const grace = time.Second // Carol's closed connection is told after it
	ts := newTestApp(t, config{PresenceGrace: grace})
	testjs.Run(t, 2*time.Minute, "chat-official.test.mjs", "PARLEY_URL="+ts.URL, fmt.Sprintf("PARLEY_GRACE_MS=%d", grace.Milliseconds()))
}
