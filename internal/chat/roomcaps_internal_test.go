package chat

import (
	"net/netip"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
)

func TestRoomCapsWindow(t *testing.T) {
	const window = time.Hour
	rc := newRoomCaps(2, 3, window)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ann := &creator{person: "name:ann", address: "192.0.2.1"}
	bob := &creator{person: "name:bob", address: "192.0.2.1"}
	steps := []struct {
		by   *creator
		at   time.Duration
		ok   bool // keep the room (else it was not created after all)
		want error
	}{
		{ann, 0, true, nil},
		{ann, time.Minute, false, nil}, // not created: uncounted
		{ann, 2 * time.Minute, true, nil},
		{ann, 3 * time.Minute, true, ErrRoomLimitPerson},
		{bob, 4 * time.Minute, true, nil},
		{bob, 5 * time.Minute, true, ErrRoomLimitAddress},
		{ann, window, true, ErrRoomLimitPerson},                  // the first is an hour old, not older
		{ann, window + time.Millisecond, true, nil},              // now it is
		{bob, window + 2*time.Minute, true, ErrRoomLimitAddress}, // ann's second, bob's and ann's third
		{bob, window + 2*time.Minute + time.Millisecond, true, nil},
	}
	for i, s := range steps {
		done, err := rc.reserve(s.by, t0.Add(s.at))
		if err != s.want {
			t.Fatalf("step %d: %s at %v: %v, want %v", i, s.by.person, s.at, err, s.want)
		}
		if err == nil {
			if n := rc.underway(); n != 1 {
				t.Errorf("step %d: %d creations under way, want 1", i, n)
			}
			done(s.ok)
			done(!s.ok) // a second call does nothing
			if n := rc.underway(); n != 0 {
				t.Errorf("step %d: %d creations under way after done, want 0", i, n)
			}
		}
	}
	if n := rc.size(); n != 3 {
		t.Errorf("%d keys kept, want 3", n)
	}
	rc.sweep(t0.Add(3 * window))
	if n := rc.size(); n != 0 {
		t.Errorf("after the window, %d keys kept, want none", n)
	}
	// No caps, no keys.
	free := newRoomCaps(0, -1, window)
	for range 100 {
		done, err := free.reserve(ann, t0)
		if err != nil {
			t.Fatal(err)
		}
		done(true)
	}
	if n := free.size(); n != 0 {
		t.Errorf("uncapped: %d keys kept, want none", n)
	}
}

func TestRemoteAddress(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.7:4321", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:4321", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:80", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"192.0.2.7", "192.0.2.7"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"", ""},
		{"pipe", ""},
	} {
		if got := RemoteAddress(&socketio.Handshake{Address: tc.addr}); got != tc.want {
			t.Errorf("RemoteAddress(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	if got := AddressKey(netip.Addr{}); got != "" {
		t.Errorf("AddressKey of no address: %q", got)
	}
}
