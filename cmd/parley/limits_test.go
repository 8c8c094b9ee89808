package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// hostPort returns the host:port of a server's URL.
func hostPort(url string) string {
	return strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
}

// rawRequest sends req as it is over a new connection to addr and returns
// the status of the answer, or 0 when the connection ended without one.
func rawRequest(t *testing.T, addr, req string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		t.Logf("writing the request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// headerBlock is a GET request for path whose request line and headers,
// with the empty line that ends them, are exactly n bytes long.
func headerBlock(path string, n int) string {
	head := "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nX-Pad: "
	const tail = "\r\n\r\n"
	return head + strings.Repeat("p", n-len(head)-len(tail)) + tail
}

// TestRunHeaderLimit checks that the request line and headers together
// may take maxHeaderBytes, and one byte more is refused with 431, on the
// page and on the Socket.IO endpoint.
func TestRunHeaderLimit(t *testing.T) {
	t.Parallel()
	// The handshakes' sessions are never polled again: a short shutdown.
	s := startRun(t, []string{"--addr", "127.0.0.1:0", "--shutdown-timeout", "1s"}, env())
	addr := hostPort(s.URL)
	tests := []struct {
		name string
		path string
		size int
		want int
	}{
		{"at the limit", "/healthz", maxHeaderBytes, http.StatusOK},
		{"one byte over", "/healthz", maxHeaderBytes + 1, http.StatusRequestHeaderFieldsTooLarge},
		{"handshake at the limit", "/socket.io/?EIO=4&transport=polling", maxHeaderBytes, http.StatusOK},
		{"handshake one byte over", "/socket.io/?EIO=4&transport=polling", maxHeaderBytes + 1, http.StatusRequestHeaderFieldsTooLarge},
		{"1 MB handshake", "/socket.io/?EIO=4&transport=polling", 1 << 20, http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawRequest(t, addr, headerBlock(tt.path, tt.size)); got != tt.want {
				t.Errorf("%d bytes of headers for %s: status %d, want %d", tt.size, tt.path, got, tt.want)
			}
		})
	}
}

// trickle opens a connection to addr, sends head (a request's line and
// headers), then one byte of body every 20 ms, and returns how long the
// server took to end the connection, or fails after wait.
func trickle(t *testing.T, addr, head string, wait time.Duration) time.Duration {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		_ = c.SetReadDeadline(start.Add(wait))
		_, _ = io.Copy(io.Discard, c) // a response, then the end
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ended:
			if d := time.Since(start); d < wait {
				return d
			}
			t.Fatalf("the connection trickling its body is still open after %v", wait)
		case <-tick.C:
			_, _ = c.Write([]byte("4"))
		}
	}
}

// TestRunBodyTimeout checks that a request whose body trickles in is cut
// after --body-timeout, on the Socket.IO endpoint, which reads bodies, and
// on the page, which reads none (net/http does, to reuse the connection).
func TestRunBodyTimeout(t *testing.T) {
	t.Parallel()
	s := startRun(t, []string{"--addr", "127.0.0.1:0", "--body-timeout", "300ms", "--shutdown-timeout", "1s"}, env())
	addr := hostPort(s.URL)
	_, body := s.get(t, "/socket.io/?EIO=4&transport=polling")
	sid, _, _ := strings.Cut(strings.TrimPrefix(body, `0{"sid":"`), `"`)
	for _, path := range []string{"/socket.io/?EIO=4&transport=polling&sid=" + sid, "/", "/healthz"} {
		t.Run(path, func(t *testing.T) {
			head := "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"
			d := trickle(t, addr, head, 5*time.Second)
			t.Logf("cut after %v", d.Round(time.Millisecond))
		})
	}
}

// TestRunConnectionCap checks that --max-connections counts every open
// connection, an idle one and a WebSocket included, refuses the next with
// 503, and frees a place when a WebSocket closes.
func TestRunConnectionCap(t *testing.T) {
	t.Parallel()
	s := startRun(t, []string{"--addr", "127.0.0.1:0", "--max-connections", "2"}, env())
	addr := hostPort(s.URL)
	ctx := siotest.Context(t)
	c, err := sioclient.Dial(ctx, s.URL, &sioclient.Options{Transport: sioclient.TransportWebSocket})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Socket("/").Connect(ctx, nil); err != nil {
		t.Fatal(err)
	}
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	// The idle connection is counted once accepted, which the server
	// does as it comes: a third one is refused, at once, unread.
	var status int
	wait.For(t, "a refusal", 5*time.Second, func() bool {
		status = rawRequest(t, addr, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
		return status == http.StatusServiceUnavailable
	})
	_ = c.Close()
	wait.For(t, "the WebSocket's place freed", 5*time.Second, func() bool {
		status = rawRequest(t, addr, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
		return status == http.StatusOK
	})
	if !strings.Contains(s.log.String(), "connection refused") {
		t.Errorf("the refusal was not logged:\n%s", s.log)
	}
}
