package ratelimit

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// minSweep is the fewest buckets a Keyed holds before it looks for full
// ones to forget.
const minSweep = 1024

// Keyed is a token bucket per key: each key may have burst events at once
// and limit per second after that. A key's bucket is made on its first
// event and forgotten once it is full again, which is as good as a new
// one. The zero value is not usable: make one with New. It is safe for
// concurrent use.
type Keyed[K comparable] struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex // a leaf: nothing else is taken while it is held
	buckets map[K]*rate.Limiter
	sweepAt int // the number of buckets at which the next sweep runs
}

// New returns buckets of burst events refilled at limit per second. A
// limit of rate.Inf allows every event and keeps nothing; a burst below 1
// is taken as 1.
func New[K comparable](limit rate.Limit, burst int) *Keyed[K] {
	return &Keyed[K]{limit: limit, burst: max(burst, 1), buckets: make(map[K]*rate.Limiter), sweepAt: minSweep}
}

// Allow reports whether key may have an event now, and takes it from the
// key's bucket if so. When it may not, retry is how long until it may.
func (k *Keyed[K]) Allow(key K) (ok bool, retry time.Duration) {
	return k.AllowAt(key, time.Now())
}

// AllowAt is Allow at time now.
func (k *Keyed[K]) AllowAt(key K, now time.Time) (ok bool, retry time.Duration) {
	if k.limit == rate.Inf {
		return true, 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil {
		if len(k.buckets) >= k.sweepAt {
			k.sweepLocked(now)
		}
		b = rate.NewLimiter(k.limit, k.burst)
		k.buckets[key] = b
	}
	if b.AllowN(now, 1) {
		return true, 0
	}
	return false, k.wait(b.TokensAt(now))
}

// Blocked reports whether key's next event would be refused now, without
// taking one.
func (k *Keyed[K]) Blocked(key K) bool {
	if k.limit == rate.Inf {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	return b != nil && b.TokensAt(time.Now()) < 1
}

// wait returns how long a bucket holding tokens takes to hold one.
func (k *Keyed[K]) wait(tokens float64) time.Duration {
	if k.limit <= 0 {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration((1 - tokens) / float64(k.limit) * float64(time.Second))
}

// sweepLocked forgets the buckets that are full at now, and sets the size
// of the next sweep to twice what is left, so that sweeping costs O(1) per
// new bucket however many there are. k.mu is held.
func (k *Keyed[K]) sweepLocked(now time.Time) {
	for key, b := range k.buckets {
		if b.TokensAt(now) >= float64(k.burst) {
			delete(k.buckets, key)
		}
	}
	k.sweepAt = max(2*len(k.buckets), minSweep)
}

// Len returns the number of buckets held: keys seen lately.
func (k *Keyed[K]) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

// Addr returns the client address that a per-address limit counts addr
// by: the address itself for IPv4 (and IPv4-mapped IPv6), its /64 for
// IPv6, the usual allocation of one subscriber, so that a client cannot
// get a fresh allowance from each of its addresses.
func Addr(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap().WithZone("")
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return netip.Prefix{} // the zero Addr: one key for all such
	}
	return p
}

// ParseAddr returns the client address (see Addr) of remote, an address
// with its port as net/http and Socket.IO give it ("192.0.2.1:5000",
// "[2001:db8::1]:5000"), with the IP address itself, without its zone;
// false when remote
// is no such address.
func ParseAddr(remote string) (netip.Prefix, netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Prefix{}, netip.Addr{}, false
	}
	a := ap.Addr().Unmap().WithZone("")
	return Addr(a), a, true
}
