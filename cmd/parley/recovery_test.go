package main

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/test/testjs"
)

// TestOfficialClientChatRecovery drops the official socket.io-client's
// connection to the whole app while others chat, over each transport
// (test/js/chat-recovery.test.mjs): a recovered client gets every missed
// message once, in order, and nobody hears of its absence; a client whose
// session is gone catches up with auth {since} and takes its name back
// with its token. Its three runs are parallel with one another only: they
// are busy enough for two CPUs.
func TestOfficialClientChatRecovery(t *testing.T) {
	testjs.RequireNode(t)
	for _, mode := range []string{"websocket", "polling", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ts := newTestApp(t, config{})
			testjs.Run(t, time.Minute, "chat-recovery.test.mjs", "PARLEY_URL="+ts.URL, "PARLEY_TRANSPORT="+mode)
		})
	}
}
