package chat

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

func TestQuietArrival(t *testing.T) {
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &Chat{cfg: Config{RestartGrace: time.Minute}, started: start}
	cases := []struct {
		name string
		w    who
		now  time.Time
		want bool
	}{
		{"seen just before the restart, back soon after", who{existed: true, seen: start.Add(-time.Second)}, start.Add(5 * time.Second), true},
		{"back after the restart grace", who{existed: true, seen: start.Add(-time.Second)}, start.Add(2 * time.Minute), false},
		{"seen long before the restart", who{existed: true, seen: start.Add(-time.Hour)}, start.Add(5 * time.Second), false},
		{"seen since the start (left, and was told)", who{existed: true, seen: start.Add(time.Second)}, start.Add(5 * time.Second), false},
		{"new identity", who{existed: false, seen: start.Add(-time.Second)}, start.Add(time.Second), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.quietArrival(tc.w, tc.now); got != tc.want {
				t.Errorf("quietArrival = %v, want %v", got, tc.want)
			}
		})
	}
	c.cfg.RestartGrace = -1
	if c.quietArrival(cases[0].w, cases[0].now) {
		t.Error("quiet with no restart grace")
	}
}

func TestGoodbye(t *testing.T) {
	cases := []struct {
		reason socketio.DisconnectReason
		kept   bool
		want   bool
	}{
		{socketio.ReasonClientDisconnect, true, true},
		{socketio.ReasonServerDisconnect, true, true},
		{socketio.ReasonTransportClose, true, false}, // a page closed, maybe reloaded
		{socketio.ReasonTransportClose, false, true}, // a page that cannot come back as itself
		{socketio.ReasonTransportError, false, false},
		{socketio.ReasonPingTimeout, true, false},
		{socketio.ReasonServerShutdown, true, false},
	}
	for _, tc := range cases {
		if got := goodbye(tc.reason, tc.kept); got != tc.want {
			t.Errorf("goodbye(%q, kept %v) = %v, want %v", tc.reason, tc.kept, got, tc.want)
		}
	}
}

func TestKept(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		id   store.Identity
		want bool
	}{
		{store.Identity{Created: at, LastSeen: at}, false},
		{store.Identity{Created: at, LastSeen: at.Add(time.Millisecond)}, true},
	} {
		if got := kept(tc.id); got != tc.want {
			t.Errorf("kept(%v..%v) = %v", tc.id.Created, tc.id.LastSeen, got)
		}
	}
}

func TestGuestID(t *testing.T) {
	a, b := guestID("token-a"), guestID("token-b")
	if a == b || a != guestID("token-a") || len(a) != len(guestIDPrefix)+20 || !store.ValidIdentityID(a) {
		t.Errorf("guestID: %q, %q", a, b)
	}
}
