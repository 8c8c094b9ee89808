//go:build unix

package bench

import (
	"context"
	"net"
	"syscall"
	"testing"
)

// TestSlowReaderRcvBuf checks that a slow reader's connection has the
// small receive buffer, and the others not.
func TestSlowReaderRcvBuf(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r, err := newRunner(Config{URL: "http://" + ln.Addr().String(), SlowReaders: 1}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	rcvbuf := func(dial func(context.Context, string, string) (net.Conn, error)) int {
		t.Helper()
		c, err := dial(context.Background(), "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		rc, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var n int
		var serr error
		if err := rc.Control(func(fd uintptr) {
			n, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		}); err != nil || serr != nil {
			t.Fatal(err, serr)
		}
		return n
	}
	slow, normal := rcvbuf(r.dialSlowTCP), rcvbuf(r.dialTCP)
	t.Logf("SO_RCVBUF: slow %d, normal %d", slow, normal)
	// Linux doubles what is asked for.
	if slow > 2*slowRcvBuf || normal <= slow {
		t.Errorf("receive buffer %d for a slow reader, %d for the others; want at most %d, and less", slow, normal, 2*slowRcvBuf)
	}
}
