package eioparser_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/eioparser"
)

// TestCloseReasons pins the reasons to the reference implementation's
// strings, which clients and logs see.
func TestCloseReasons(t *testing.T) {
	tests := []struct {
		r    eioparser.CloseReason
		want string
	}{
		{eioparser.ReasonTransportClose, "transport close"},
		{eioparser.ReasonTransportError, "transport error"},
		{eioparser.ReasonPingTimeout, "ping timeout"},
		{eioparser.ReasonParseError, "parse error"},
		{eioparser.ReasonForcedClose, "forced close"},
		{eioparser.ReasonServerShutdown, "server shutting down"},
		{eioparser.ReasonSlowConsumer, "slow consumer"},
	}
	for _, tt := range tests {
		if string(tt.r) != tt.want {
			t.Errorf("reason %q, want %q", tt.r, tt.want)
		}
	}
}
