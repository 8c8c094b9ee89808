package netpoll_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/netpoll"
	"github.com/parley-chat/parley/internal/test/wait"
)

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

func newPoller(t *testing.T) *netpoll.Poller {
	t.Helper()
	if !netpoll.Supported {
		t.Skip("netpoll: no poller on this system")
	}
	p, err := netpoll.New()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// add registers conn with p, for as long as the test runs.
func add(t *testing.T, p *netpoll.Poller, conn syscall.Conn, onReadable func()) *netpoll.Registration {
	t.Helper()
	r, err := p.Add(rawConn(t, conn), onReadable)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Remove)
	return r
}

// expectCall checks that onReadable is called within 200 ms if want, and
// not called within that time otherwise.
func expectCall(t *testing.T, ch <-chan struct{}, want bool) {
	t.Helper()
	select {
	case <-ch:
		if !want {
			t.Fatal("onReadable called, want no call")
		}
	case <-time.After(200 * time.Millisecond):
		if want {
			t.Fatal("onReadable not called")
		}
	}
}

func rawConn(t *testing.T, c syscall.Conn) syscall.RawConn {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func TestReadableOncePerRearm(t *testing.T) {
	p := newPoller(t)
	server, client := pair(t)
	called := make(chan struct{}, 10)
	r := add(t, p, server, func() { called <- struct{}{} })
	rc := rawConn(t, server)
	buf := make([]byte, 64)

	if _, err := netpoll.ReadNonblocking(rc, buf); !errors.Is(err, netpoll.ErrWouldBlock) {
		t.Fatalf("read with nothing sent: %v, want ErrWouldBlock", err)
	}
	expectCall(t, called, false)

	client.Write([]byte("hello"))
	expectCall(t, called, true)
	n, err := netpoll.ReadNonblocking(rc, buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	client.Write([]byte("again"))
	expectCall(t, called, false) // one-shot: not rearmed yet

	if err := r.Rearm(); err != nil {
		t.Fatal(err)
	}
	expectCall(t, called, true) // data already waiting is reported on rearm
	n, err = netpoll.ReadNonblocking(rc, buf)
	if err != nil || string(buf[:n]) != "again" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}

func TestPeerCloseIsReadable(t *testing.T) {
	p := newPoller(t)
	server, client := pair(t)
	called := make(chan struct{}, 10)
	add(t, p, server, func() { called <- struct{}{} })
	client.Close()
	expectCall(t, called, true)
	if _, err := netpoll.ReadNonblocking(rawConn(t, server), make([]byte, 8)); err != io.EOF {
		t.Fatalf("read after peer close: %v, want io.EOF", err)
	}
}

func TestRemove(t *testing.T) {
	p := newPoller(t)
	server, client := pair(t)
	called := make(chan struct{}, 10)
	r := add(t, p, server, func() { called <- struct{}{} })
	if got := p.Registered(); got != 1 {
		t.Fatalf("Registered = %d, want 1", got)
	}
	r.Remove()
	r.Remove()
	client.Write([]byte("x"))
	expectCall(t, called, false)
	if err := r.Rearm(); err == nil {
		t.Fatal("Rearm after Remove succeeded")
	}
	if got := p.Registered(); got != 0 {
		t.Fatalf("Registered = %d, want 0", got)
	}
	server.Close()
	if _, err := netpoll.ReadNonblocking(rawConn(t, server), make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v, want net.ErrClosed", err)
	}
}

// TestGoroutineEndsWhenEmpty checks that the poller's goroutine runs only
// while something is registered, and starts again on the next Add.
func TestGoroutineEndsWhenEmpty(t *testing.T) {
	p := newPoller(t)
	before := runtime.NumGoroutine()
	for round := range 3 {
		server, client := pair(t)
		called := make(chan struct{}, 1)
		r := add(t, p, server, func() { called <- struct{}{} })
		client.Write([]byte("x"))
		expectCall(t, called, true)
		r.Remove()
		wait.For(t, fmt.Sprintf("round %d's goroutine to exit", round), 2*time.Second, func() error {
			if n := runtime.NumGoroutine(); n > before {
				return fmt.Errorf("%d goroutines, want %d", n, before)
			}
			return nil
		})
	}
}

// TestManyConnections registers connections that each get one message and
// checks every one is reported once.
func TestManyConnections(t *testing.T) {
	p := newPoller(t)
	const n = 200
	called := make(chan int, n)
	var clients []*net.TCPConn
	for i := range n {
		server, client := pair(t)
		add(t, p, server, func() { called <- i })
		clients = append(clients, client)
	}
	for _, c := range clients {
		c.Write([]byte("x"))
	}
	seen := make(map[int]bool)
	timeout := time.After(5 * time.Second)
	for len(seen) < n {
		select {
		case i := <-called:
			if seen[i] {
				t.Fatalf("connection %d reported twice without rearm", i)
			}
			seen[i] = true
		case <-timeout:
			t.Fatalf("%d of %d connections reported", len(seen), n)
		}
	}
}

func BenchmarkReadableRoundTrip(b *testing.B) {
	if !netpoll.Supported {
		b.Skip("netpoll: no poller on this system")
	}
	p, _ := netpoll.New()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	client, _ := net.Dial("tcp", ln.Addr().String())
	defer client.Close()
	sc, _ := ln.Accept()
	defer sc.Close()
	server := sc.(*net.TCPConn)
	rc, _ := server.SyscallConn()
	done := make(chan struct{}, 1)
	var r *netpoll.Registration
	buf := make([]byte, 64)
	r, err := p.Add(rc, func() {
		netpoll.ReadNonblocking(rc, buf)
		r.Rearm()
		done <- struct{}{}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Remove()
	msg := []byte("x")
	b.ReportAllocs()
	for b.Loop() {
		client.Write(msg)
		<-done
	}
}

// TestWriteNonblocking writes to a peer that reads nothing until the
// socket takes no more, then checks that the peer reads every byte, in
// order: with small buffers, buffers larger than the socket takes at once,
// and an empty one.
func TestWriteNonblocking(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("netpoll: no poller on this system")
	}
	for _, size := range []int{1000, 64 << 10, 64<<10 + 1, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			server, client := pair(t)
			rc := rawConn(t, server)
			if n, err := netpoll.WriteNonblocking(rc, nil); n != 0 || err != nil {
				t.Fatalf("empty write: %d, %v", n, err)
			}
			chunk := make([]byte, size)
			var sent []byte
			for i := 0; ; i++ {
				for j := range chunk {
					chunk[j] = byte(i*7 + j)
				}
				n, err := netpoll.WriteNonblocking(rc, chunk)
				sent = append(sent, chunk[:n]...)
				if errors.Is(err, netpoll.ErrWouldBlock) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(sent) > 256<<20 {
					t.Fatal("256 MiB written to a peer that reads nothing, without blocking")
				}
			}
			// The peer reads everything: all that was written arrives.
			got := make([]byte, 0, len(sent))
			buf := make([]byte, 64<<10)
			_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
			for len(got) < len(sent) {
				n, err := client.Read(buf)
				if err != nil {
					t.Fatalf("read %d of %d: %v", len(got), len(sent), err)
				}
				got = append(got, buf[:n]...)
			}
			if !bytes.Equal(got, sent) {
				t.Fatalf("the peer read other bytes than were written (%d bytes)", len(sent))
			}
			server.Close()
			if _, err := netpoll.WriteNonblocking(rc, chunk); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("write after close: %v, want net.ErrClosed", err)
			}
		})
	}
}

// TestReadNonblocking reads what the peer sent, whole and in order, into
// buffers of several sizes.
func TestReadNonblocking(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("netpoll: no poller on this system")
	}
	for _, size := range []int{100, 64 << 10, 64<<10 + 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			server, client := pair(t)
			rc := rawConn(t, server)
			sent := make([]byte, 300<<10)
			for i := range sent {
				sent[i] = byte(i * 13)
			}
			go func() { _, _ = client.Write(sent); _ = client.CloseWrite() }()
			var got []byte
			buf := make([]byte, size)
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				n, err := netpoll.ReadNonblocking(rc, buf)
				got = append(got, buf[:n]...)
				if errors.Is(err, netpoll.ErrWouldBlock) {
					time.Sleep(time.Millisecond)
					continue
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, sent) {
				t.Fatalf("read %d bytes, other than the %d sent", len(got), len(sent))
			}
		})
	}
}

func BenchmarkWriteNonblocking(b *testing.B) {
	if !netpoll.Supported {
		b.Skip("netpoll: no poller on this system")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	client, _ := net.Dial("tcp", ln.Addr().String())
	defer client.Close()
	go io.Copy(io.Discard, client)
	sc, _ := ln.Accept()
	defer sc.Close()
	rc, _ := sc.(*net.TCPConn).SyscallConn()
	msg := make([]byte, 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := netpoll.WriteNonblocking(rc, msg); err != nil && !errors.Is(err, netpoll.ErrWouldBlock) {
			b.Fatal(err)
		}
	}
}
