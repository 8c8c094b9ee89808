package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Bounds on a server's start and stop.
const (
	startTimeout = 20 * time.Second
	stopTimeout  = 5 * time.Second
)

// process is a server started for one run. It is not safe for
// concurrent use, except that its output buffer is.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

// startProcess starts cmd in a process group of its own (so that stop
// reaches anything it spawns), with its output kept in a bounded buffer.
func startProcess(name string, cmd *exec.Cmd) (*process, error) {
	p := &process{name: name, cmd: cmd, out: &tailBuffer{max: 16 << 10}, done: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid is the process id of the server.
func (p *process) pid() int { return p.cmd.Process.Pid }

// waitPort waits until addr accepts TCP connections, the process exits or
// ctx ends, whichever comes first, polling.
func (p *process) waitPort(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before listening on %s (%v): %s", p.name, addr, p.err, p.out.String())
		case <-ctx.Done():
			return fmt.Errorf("%s not listening on %s after %v: %s", p.name, addr, startTimeout, p.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop ends the process: SIGTERM to its group, then, if it has not
// exited within stopTimeout, SIGKILL. It returns once the process has
// exited, and may be called more than once.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	pgid := p.pid()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	// Whatever the server left in its group goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// freePort returns the first port from start on (wrapping within n ports
// from base) that nothing on 127.0.0.1 listens on.
func freePort(base, n, start int) (int, error) {
	for i := range n {
		port := base + (start-base+i)%n
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d on 127.0.0.1", base, base+n-1)
}

// tailBuffer keeps the last max bytes written to it. It is safe for
// concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

// Write keeps the tail of p and never fails.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// String returns what was kept.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
