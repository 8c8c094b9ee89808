package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// limitedServer serves "ok" on a connLimiter over a loopback listener.
func limitedServer(t *testing.T, max, perAddr int, exempt func(netip.Addr) bool) (*connLimiter, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newConnLimiter(ln, max, perAddr, exempt, siotest.DiscardLogger())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l, ln.Addr().String()
}

// openConn opens an idle connection to addr, closed at the end of the test.
func openConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends a GET over c and returns the answer's status and body.
func roundTrip(t *testing.T, c net.Conn) (int, string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		return 0, err.Error()
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		t.Errorf("a refusal without Retry-After")
	}
	return resp.StatusCode, string(b)
}

// openCount returns the connections l counts.
func (l *connLimiter) openCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

func TestConnLimiter(t *testing.T) {
	none := func(netip.Addr) bool { return false }
	tests := []struct {
		name         string
		max, perAddr int
		exempt       func(netip.Addr) bool
		fits         int    // connections served before the refusal
		refusal      string // a substring of the refusal; "" for none
	}{
		{"total", 3, 0, none, 3, "too many connections; try again later"},
		{"per address", 10, 2, none, 2, "from your address"},
		{"total before per address", 2, 5, none, 2, "too many connections; try again later"},
		{"exempt address", 10, 1, netip.Addr.IsLoopback, 10, "too many connections; try again later"},
		{"no cap", 0, 0, none, 20, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, addr := limitedServer(t, tt.max, tt.perAddr, tt.exempt)
			// Idle connections count as soon as they are accepted,
			// before they send anything.
			var conns []net.Conn
			for range tt.fits {
				conns = append(conns, openConn(t, addr))
			}
			wait.For(t, "the connections counted", 5*time.Second, func() bool { return l.openCount() == tt.fits })
			extra := openConn(t, addr)
			code, body := roundTrip(t, extra)
			if tt.refusal == "" {
				if code != http.StatusOK {
					t.Fatalf("no cap: %d %q", code, body)
				}
				return
			}
			if code != http.StatusServiceUnavailable || !strings.Contains(body, tt.refusal) {
				t.Fatalf("connection %d: %d %q, want 503 %q", tt.fits+1, code, body, tt.refusal)
			}
			// Those within the caps are served.
			if code, body := roundTrip(t, conns[0]); code != http.StatusOK {
				t.Errorf("a connection within the caps: %d %q", code, body)
			}
			// A closed connection frees its place.
			conns[1].Close()
			wait.For(t, "a place freed", 5*time.Second, func() bool { return l.openCount() == tt.fits-1 })
			if code, body := roundTrip(t, openConn(t, addr)); code != http.StatusOK {
				t.Errorf("after a close: %d %q", code, body)
			}
		})
	}
}

func TestClientKey(t *testing.T) {
	key := func(s string) netip.Prefix {
		_, p, ok := clientKey(net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)))
		if !ok {
			t.Fatalf("no key for %s", s)
		}
		return p
	}
	tests := []struct {
		a, b string
		same bool
	}{
		{"192.0.2.1:1", "192.0.2.1:2", true},
		{"192.0.2.1:1", "192.0.2.2:1", false},
		{"[2001:db8::1]:1", "[2001:db8::ffff:2]:1", true},
		{"[2001:db8::1]:1", "[2001:db8:0:1::1]:1", false},
		{"[::ffff:192.0.2.1]:1", "192.0.2.1:1", true},
	}
	for _, tt := range tests {
		if got := key(tt.a) == key(tt.b); got != tt.same {
			t.Errorf("%s and %s counted together: %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
	if _, _, ok := clientKey(&net.UnixAddr{Name: "@", Net: "unix"}); ok {
		t.Error("a Unix socket address has a key")
	}
}

// TestConnLimiterKeepsTCP checks that a connection from the limiter still
// offers what engineio asks of a TCP connection: its raw descriptor, for
// the poller, its send buffer, and a half close.
func TestConnLimiterKeepsTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newConnLimiter(ln, 0, 0, nil, siotest.DiscardLogger())
	defer l.Close()
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(syscall.Conn); !ok {
		t.Error("not a syscall.Conn")
	}
	if _, ok := c.(interface{ SetWriteBuffer(int) error }); !ok {
		t.Error("no SetWriteBuffer")
	}
	if _, ok := c.(interface{ CloseWrite() error }); !ok {
		t.Error("no CloseWrite")
	}
	if _, ok := c.(io.ReaderFrom); !ok {
		t.Error("no ReadFrom")
	}
}
