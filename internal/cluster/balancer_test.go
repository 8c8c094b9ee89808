package cluster_test

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// balancer stands for a load balancer in front of the nodes: it forwards
// each connection to its current target, and when the target changes, it
// cuts the connections it forwarded, as a load balancer does when a node
// goes away. With no target, it closes what it accepts.
type balancer struct {
	ln net.Listener

	mu     sync.Mutex
	target string // host:port
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// newBalancer starts a balancer on a loopback port, towards target (a
// URL or host:port, "" for none), closed when the test ends.
func newBalancer(t *testing.T, target string) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, target: hostPort(target), conns: make(map[net.Conn]struct{})}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(func() {
		ln.Close()
		b.Switch("")
		b.wg.Wait()
	})
	return b
}

// URL returns the balancer's http:// URL.
func (b *balancer) URL() string { return "http://" + b.ln.Addr().String() }

// Switch sends the connections to come to target ("" for none) and cuts
// those under way.
func (b *balancer) Switch(target string) {
	b.mu.Lock()
	b.target = hostPort(target)
	conns := b.conns
	b.conns = make(map[net.Conn]struct{})
	b.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

func (b *balancer) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		target := b.target
		b.mu.Unlock()
		if target == "" {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		b.mu.Lock()
		b.conns[c], b.conns[up] = struct{}{}, struct{}{}
		b.mu.Unlock()
		b.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer b.wg.Done()
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

// hostPort returns the host:port of a URL, or s itself.
func hostPort(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "http://"), "ws://")
	host, _, _ := strings.Cut(s, "/")
	return host
}
