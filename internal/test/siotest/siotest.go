// Package siotest holds helpers shared by the tests that drive a server
// with sioclient: running a test over every transport, a bounded context
// and a silent logger. It is for tests only; package wait polls to a
// deadline.
package siotest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/wait"
)

// Transports are the ways a client reaches a server: WebSocket, polling,
// and polling upgraded to WebSocket.
var Transports = []sioclient.Transport{
	sioclient.TransportWebSocket,
	sioclient.TransportPolling,
	sioclient.TransportUpgrade,
}

// Run runs f as a parallel subtest for each of modes, or for each of
// Transports when none is given.
func Run(t *testing.T, f func(t *testing.T, mode sioclient.Transport), modes ...sioclient.Transport) {
	t.Helper()
	if len(modes) == 0 {
		modes = Transports
	}
	for _, m := range modes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			f(t, m)
		})
	}
}

// Context returns a context that ends with the test, or after 10 s: the
// bound of a client's wait for a server.
func Context(t testing.TB) context.Context { return wait.Context(t, 10*time.Second) }

// DiscardLogger returns a logger that drops everything.
func DiscardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
