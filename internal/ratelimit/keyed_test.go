package ratelimit_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/ratelimit"
)

func TestKeyedAllow(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name  string
		limit rate.Limit
		burst int
		// events are the offsets at which key "a" asks, and want what it
		// is told.
		events []time.Duration
		want   []bool
	}{
		{"burst then refused", 1, 3, []time.Duration{0, 0, 0, 0}, []bool{true, true, true, false}},
		{"refilled at the rate", 2, 1, []time.Duration{0, 100 * time.Millisecond, 500 * time.Millisecond, 600 * time.Millisecond}, []bool{true, false, true, false}},
		{"burst below one is one", 1, 0, []time.Duration{0, 0, time.Second}, []bool{true, false, true}},
		{"infinite allows all", rate.Inf, 1, []time.Duration{0, 0, 0, 0}, []bool{true, true, true, true}},
		{"zero refuses after the burst for good", 0, 1, []time.Duration{0, time.Hour}, []bool{true, false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := ratelimit.New[string](tc.limit, tc.burst)
			for i, d := range tc.events {
				ok, retry := k.AllowAt("a", t0.Add(d))
				if ok != tc.want[i] {
					t.Fatalf("event %d at +%v: allowed %v, want %v", i, d, ok, tc.want[i])
				}
				if !ok && retry <= 0 {
					t.Errorf("event %d refused with retry %v", i, retry)
				}
			}
			// Another key has its own bucket.
			if ok, _ := k.AllowAt("b", t0); !ok {
				t.Error("key b refused: it shares a's bucket")
			}
		})
	}
}

func TestKeyedRetry(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	k := ratelimit.New[string](4, 1)
	k.AllowAt("a", t0)
	ok, retry := k.AllowAt("a", t0)
	if ok || retry != 250*time.Millisecond {
		t.Errorf("allowed %v, retry %v; want refused, retry 250ms", ok, retry)
	}
	if ok, _ := k.AllowAt("a", t0.Add(retry)); !ok {
		t.Error("refused after the retry it was told")
	}
}

// TestKeyedForgets checks that full buckets are forgotten as new keys
// come, and that buckets in use are kept.
func TestKeyedForgets(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	k := ratelimit.New[int](1, 2)
	k.AllowAt(-1, t0)
	k.AllowAt(-1, t0) // empty
	// Keys that have used a token are kept, however many they are.
	for i := range 3000 {
		k.AllowAt(i, t0)
	}
	if n := k.Len(); n != 3001 {
		t.Errorf("%d buckets held, want all 3001: none is full", n)
	}
	if ok, _ := k.AllowAt(-1, t0); ok {
		t.Error("key -1's empty bucket was forgotten: it got a new allowance")
	}
	// An hour on, they are all full again: new keys sweep them away.
	for i := range 3000 {
		k.AllowAt(10_000+i, t0.Add(time.Hour))
	}
	if n := k.Len(); n > 3000 {
		t.Errorf("%d buckets held after the old ones filled up, want at most the 3000 new", n)
	}
}

func TestKeyedBlocked(t *testing.T) {
	k := ratelimit.New[string](0.001, 2)
	if k.Blocked("a") {
		t.Error("a new key is blocked")
	}
	k.Allow("a")
	if k.Blocked("a") {
		t.Error("blocked with one event left")
	}
	k.Allow("a")
	if !k.Blocked("a") {
		t.Error("not blocked after its burst")
	}
	if k.Len() != 1 {
		t.Errorf("Blocked made buckets: %d held", k.Len())
	}
}

func TestAddr(t *testing.T) {
	cases := []struct{ remote, want string }{
		{"192.0.2.1:5000", "192.0.2.1/32"},
		{"[::ffff:192.0.2.1]:5000", "192.0.2.1/32"},
		{"[2001:db8:1:2:3:4:5:6]:5000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:1", "2001:db8:1:2::/64"},
		{"[::1]:80", "::/64"},
	}
	for _, tc := range cases {
		p, _, ok := ratelimit.ParseAddr(tc.remote)
		if !ok || p.String() != tc.want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %s", tc.remote, p, ok, tc.want)
		}
	}
	for _, bad := range []string{"", "192.0.2.1", "pipe", "[::1]"} {
		if _, _, ok := ratelimit.ParseAddr(bad); ok {
			t.Errorf("ParseAddr(%q) is an address", bad)
		}
	}
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"192.0.2.1:5000", "[2001:db8::1]:1", "[::ffff:1.2.3.4]:0", "", "x:y", "[fe80::1%eth0]:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, remote string) {
		p, a, ok := ratelimit.ParseAddr(remote)
		if !ok {
			return
		}
		if !p.Contains(a) {
			t.Errorf("ParseAddr(%q): %v does not contain %v", remote, p, a)
		}
		if p != ratelimit.Addr(a) || p.Masked() != p {
			t.Errorf("ParseAddr(%q): %v, not the masked Addr of %v", remote, p, a)
		}
	})
}

func BenchmarkKeyedAllow(b *testing.B) {
	for _, keys := range []int{1, 10_000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			// A bucket too big to empty or to fill up again: every event is
			// allowed, and no bucket is forgotten.
			k := ratelimit.New[netip.Prefix](20, 1<<30)
			addrs := make([]netip.Prefix, keys)
			for i := range addrs {
				addrs[i] = ratelimit.Addr(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k.Allow(addrs[i%keys])
				i++
			}
		})
	}
}
