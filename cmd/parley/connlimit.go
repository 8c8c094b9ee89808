package main

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Refusals of connections beyond a cap.
const (
	// refuseRetryAfter is the Retry-After of a refusal, in seconds.
	refuseRetryAfter = 10
	// refuseLinger bounds how long a refused connection is kept to have
	// its answer read: closing it at once, with the client's request
	// unread, would reset it, and the client might lose the answer.
	refuseLinger = time.Second
	// maxRefusing bounds the refused connections kept lingering at once;
	// beyond it, in a flood, they are closed at once.
	maxRefusing = 64
	// refuseLogEvery is the least time between two log lines about
	// refusals, which a flood would otherwise make by the thousand.
	refuseLogEvery = 10 * time.Second
)

// Log attribute keys of the connection caps.
const (
	logKeyRefused = "refused" // refusals since the last log line
	logKeyReason  = "reason"
	logKeyCap     = "cap"
	logKeyAddress = "address"
)

// connLimiter is a listener that caps the connections open at once, in
// total and per client address: every accepted connection counts until it
// is closed, whatever it carries (an idle keep-alive connection, a request
// under way, a long poll, a WebSocket). The cap is enforced at accept,
// before anything is read: a connection beyond it is answered 503 Service
// Unavailable, with Retry-After, and closed.
//
// A client address is an IPv4 address, or an IPv6 /64 (one subscriber's
// usual allocation: counting single IPv6 addresses would let one client
// open as many connections as it has addresses). Exempt addresses
// (loopback and trusted proxies: behind a proxy, every client has the
// proxy's address) count towards the total only. It is safe for concurrent
// use.
type connLimiter struct {
	net.Listener
	max, perAddr int                   // 0: no cap
	exempt       func(netip.Addr) bool // not capped per address
	log          *slog.Logger

	mu       sync.Mutex
	open     int
	byAddr   map[netip.Prefix]int
	refusing int // refused connections lingering
	refused  int // refusals not logged yet
	lastLog  time.Time
}

// newConnLimiter caps the connections of ln.
func newConnLimiter(ln net.Listener, max, perAddr int, exempt func(netip.Addr) bool, log *slog.Logger) *connLimiter {
	return &connLimiter{Listener: ln, max: max, perAddr: perAddr, exempt: exempt, log: log, byAddr: make(map[netip.Prefix]int)}
}

// clientKey returns the IP address of addr and the client address that
// per-address caps count it by, or false when addr has none.
func clientKey(addr net.Addr) (netip.Addr, netip.Prefix, bool) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, netip.Prefix{}, false
	}
	a := ta.AddrPort().Addr().Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	return a, p, err == nil
}

// Accept returns the next connection within the caps; those beyond them
// are refused meanwhile.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr, key, keyed := clientKey(c.RemoteAddr())
		if keyed && l.exempt != nil && l.exempt(addr) {
			keyed = false
		}
		if why := l.admit(key, keyed, c.RemoteAddr()); why != "" {
			l.refuse(c, why)
			continue
		}
		rel := &release{l: l, key: key, keyed: keyed}
		if tc, ok := c.(*net.TCPConn); ok {
			// The TCP connection's own methods stay reachable
			// (SyscallConn for the poller, SetWriteBuffer, CloseWrite,
			// ReadFrom for sendfile), for WebSockets too once net/http
			// hands the connection over.
			return &limitedTCPConn{TCPConn: tc, rel: rel}, nil
		}
		return &limitedConn{Conn: c, rel: rel}, nil
	}
}

// admit counts a new connection from key and returns "", or returns why
// it is refused.
func (l *connLimiter) admit(key netip.Prefix, keyed bool, remote net.Addr) string {
	l.mu.Lock()
	why, limit := "", 0
	switch {
	case l.max > 0 && l.open >= l.max:
		why, limit = "too many connections; try again later", l.max
	case keyed && l.perAddr > 0 && l.byAddr[key] >= l.perAddr:
		why, limit = "too many connections from your address; close some, or try again later", l.perAddr
	}
	if why == "" {
		l.open++
		if keyed {
			l.byAddr[key]++
		}
		l.mu.Unlock()
		return ""
	}
	l.refused++
	refused, now := l.refused, time.Now()
	logIt := now.Sub(l.lastLog) >= refuseLogEvery
	if logIt {
		l.refused, l.lastLog = 0, now
	}
	l.mu.Unlock()
	if logIt {
		l.log.Warn("connection refused", logKeyReason, why, logKeyAddress, remote.String(), logKeyCap, limit, logKeyRefused, refused)
	}
	return why
}

// done uncounts a connection that has closed.
func (l *connLimiter) done(key netip.Prefix, keyed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if keyed {
		if l.byAddr[key]--; l.byAddr[key] <= 0 {
			delete(l.byAddr, key)
		}
	}
}

// refusal is the whole answer to a connection beyond a cap.
func refusal(why string) string {
	body := why + "\n"
	return "HTTP/1.1 503 Service Unavailable\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"X-Content-Type-Options: nosniff\r\n" +
		"Retry-After: " + strconv.Itoa(refuseRetryAfter) + "\r\n" +
		"Connection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// refuse answers c with a 503 and closes it, without reading its request:
// the answer is written first, then the write side shut, then what the
// client sent is read and dropped for refuseLinger at most, so that the
// close does not reset the connection before the answer is read.
func (l *connLimiter) refuse(c net.Conn, why string) {
	l.mu.Lock()
	linger := l.refusing < maxRefusing
	if linger {
		l.refusing++
	}
	l.mu.Unlock()
	if !linger {
		_ = c.Close()
		return
	}
	go func() {
		defer func() {
			_ = c.Close()
			l.mu.Lock()
			l.refusing--
			l.mu.Unlock()
		}()
		_ = c.SetDeadline(time.Now().Add(refuseLinger))
		if _, err := io.WriteString(c, refusal(why)); err != nil {
			return
		}
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}()
}

// release uncounts a connection once, on its first Close.
type release struct {
	l     *connLimiter
	key   netip.Prefix
	keyed bool
	once  sync.Once
}

func (r *release) do() { r.once.Do(func() { r.l.done(r.key, r.keyed) }) }

// limitedTCPConn is an accepted TCP connection that counts until closed.
type limitedTCPConn struct {
	*net.TCPConn
	rel *release
}

// Close closes the connection and frees its place.
func (c *limitedTCPConn) Close() error {
	err := c.TCPConn.Close()
	c.rel.do()
	return err
}

// limitedConn is an accepted connection, of another kind than TCP, that
// counts until closed.
type limitedConn struct {
	net.Conn
	rel *release
}

// Close closes the connection and frees its place.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.rel.do()
	return err
}
