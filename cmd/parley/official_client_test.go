package main

import (
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
	ts := newTestApp(t, config{})
	testjs.Run(t, 2*time.Minute, "chat-official.test.mjs", "PARLEY_URL="+ts.URL)
}
