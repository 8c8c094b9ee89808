// Package siotest holds helpers shared by the tests that drive a server
// with sioclient: running a test over every transport, polling a condition
// to a deadline, and a bounded context. It is for tests only.
package siotest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
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

// WaitFor polls cond until it holds, failing the test if it does not
// within d.
func WaitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Context returns a context that ends with the test, or after 10 s.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// DiscardLogger returns a logger that drops everything.
func DiscardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
