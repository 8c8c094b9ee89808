// Package ratelimit limits how often events happen per key: per client
// address, so that one client cycling connections or names gets no fresh
// allowance each time, and per identity, so that one person's sockets
// share theirs. Each key has a token bucket (golang.org/x/time/rate); a
// bucket that has filled up again is the same as a new one, so it is
// forgotten, and memory follows the keys active lately, not every key
// ever seen.
//
// Client addresses are counted as the connection caps of parley count
// them: an IPv4 address, or an IPv6 /64 (see Addr).
package ratelimit
