//go:build linux

package netpoll

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Supported reports whether this system has a Poller.
const Supported = true

// Poller watches registered connections for data to read. Its goroutine and
// epoll instance exist only while at least one connection is registered. A
// Poller is safe for concurrent use; its zero value is not usable: call New.
type Poller struct {
	// mu guards the fields below; Rearm takes it for reading, so that the
	// epoll instance it uses cannot be closed under it.
	mu      sync.RWMutex
	regs    map[int32]*Registration // by file descriptor
	epfd    int                     // the running epoll instance, or -1
	wakefd  int                     // eventfd that wakes the goroutine, or -1
	file    *os.File                // epfd, as the runtime's poller watches it
	nextGen uint32
	workers *workers
}

// Registration is one connection registered with a Poller.
type Registration struct {
	p          *Poller
	rc         syscall.RawConn
	fd         int32
	gen        uint32 // tells a registration from a later one on the same fd
	epfd       int
	onReadable func()
	inline     bool // AddInline's
	removed    bool // guarded by p.mu
}

// New returns a Poller.
func New() (*Poller, error) {
	return &Poller{regs: make(map[int32]*Registration), epfd: -1, wakefd: -1, workers: newWorkers()}, nil
}

// watchedEvents: data, or the peer's end of the connection, once.
const watchedEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

// inlineEvents: each arrival of data, or the peer's end (edge-triggered).
const inlineEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET

// Add registers the connection rc: onReadable is called, on a goroutine of
// the poller's (see workers), once it has data to read or has been closed
// by its peer. It is called once per Rearm: call Rearm when the data has
// been read, to hear of more. Remove the registration before closing the
// connection.
func (p *Poller) Add(rc syscall.RawConn, onReadable func()) (*Registration, error) {
	return p.add(rc, onReadable, false)
}

// AddInline registers the connection rc: onReadable is called on the
// poller's own goroutine, each time data arrives or the peer closes its
// end, with no Rearm (which does nothing for it). It saves a hand-off to
// another goroutine, and a system call to rearm, per event, for
// connections whose reading never waits: onReadable must not block, and
// must read until a read returns less than it asked for (or ErrWouldBlock),
// since no later call comes for data that arrived before it read. It may
// run while another goroutine reads the connection; the owner serialises
// them. Remove the registration before closing the connection.
func (p *Poller) AddInline(rc syscall.RawConn, onReadable func()) (*Registration, error) {
	return p.add(rc, onReadable, true)
}

func (p *Poller) add(rc syscall.RawConn, onReadable func(), inline bool) (*Registration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epfd < 0 {
		if err := p.startLocked(); err != nil {
			return nil, err
		}
	}
	p.nextGen++
	r := &Registration{p: p, rc: rc, gen: p.nextGen, epfd: p.epfd, onReadable: onReadable, inline: inline}
	events := uint32(watchedEvents)
	if inline {
		events = inlineEvents
	}
	var ctlErr error
	err := rc.Control(func(fd uintptr) {
		r.fd = int32(fd)
		ev := unix.EpollEvent{Events: events, Fd: r.fd, Pad: int32(r.gen)}
		ctlErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err == nil {
		err = ctlErr
	}
	if err != nil {
		if len(p.regs) == 0 {
			p.wakeLocked()
		}
		return nil, fmt.Errorf("netpoll: register: %w", err)
	}
	p.regs[r.fd] = r
	return r, nil
}

// Registered returns the number of registered connections.
func (p *Poller) Registered() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.regs)
}

// startLocked creates the epoll instance and starts its goroutine.
func (p *Poller) startLocked() error {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("netpoll: epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Close(epfd)
		return fmt.Errorf("netpoll: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(wakefd)
		return fmt.Errorf("netpoll: register eventfd: %w", err)
	}
	// The goroutine waits for epfd through the runtime's own poller, as
	// for any file: blocked in epoll_wait instead, it would hold a thread
	// in a system call, which the runtime takes its processor from and
	// hands back after each event, waking threads each time.
	if err := unix.SetNonblock(epfd, true); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(wakefd)
		return fmt.Errorf("netpoll: epoll instance: %w", err)
	}
	file := os.NewFile(uintptr(epfd), "epoll")
	rc, err := file.SyscallConn()
	if err != nil {
		_ = file.Close()
		_ = unix.Close(wakefd)
		return fmt.Errorf("netpoll: epoll instance: %w", err)
	}
	p.epfd, p.wakefd, p.file = epfd, wakefd, file
	go p.run(rc, file, epfd, wakefd)
	return nil
}

// wakeLocked wakes the goroutine so that it sees there is nothing left to
// watch.
func (p *Poller) wakeLocked() {
	if p.wakefd >= 0 {
		var one = [8]byte{1}
		_, _ = unix.Write(p.wakefd, one[:])
	}
}

// run waits for events on file, the epoll instance, read through rc, until no connection is
// registered.
func (p *Poller) run(rc syscall.RawConn, file *os.File, epfd, wakefd int) {
	events := make([]unix.EpollEvent, 128)
	var (
		n       int
		waitErr error
	)
	wait := func(fd uintptr) bool {
		n, waitErr = unix.EpollWait(int(fd), events, 0)
		// Nothing yet: the runtime calls again once epfd is readable.
		return n > 0 || waitErr != nil && waitErr != unix.EINTR
	}
	for {
		err := rc.Read(wait)
		if err == nil {
			err = waitErr
		}
		if err != nil {
			// Not expected: epfd is ours and valid. Stop watching
			// rather than spin; registrations then hear nothing, and
			// their connections end by their owners' timeouts.
			p.mu.Lock()
			p.stopLocked(file, epfd, wakefd)
			p.mu.Unlock()
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == wakefd {
				var buf [8]byte
				_, _ = unix.Read(wakefd, buf[:])
				p.mu.Lock()
				if len(p.regs) == 0 {
					p.stopLocked(file, epfd, wakefd)
					p.mu.Unlock()
					return
				}
				p.mu.Unlock()
				continue
			}
			p.mu.RLock()
			r := p.regs[ev.Fd]
			p.mu.RUnlock()
			switch {
			case r == nil || r.gen != uint32(ev.Pad):
			case r.inline:
				r.onReadable()
			default:
				p.workers.run(r.onReadable)
			}
		}
	}
}

// Go calls f on a goroutine of the poller's, as it calls onReadable:
// for work that follows from reading, such as writing an answer.
func (p *Poller) Go(f func()) { p.workers.run(f) }

// stopLocked closes the epoll instance; the next Add starts another.
func (p *Poller) stopLocked(file *os.File, epfd, wakefd int) {
	p.workers.stop()
	_ = file.Close()
	_ = unix.Close(wakefd)
	if p.epfd == epfd {
		p.epfd, p.wakefd, p.file = -1, -1, nil
	}
	for fd, r := range p.regs {
		if r.epfd == epfd {
			r.removed = true
			delete(p.regs, fd)
		}
	}
}

// Rearm asks for the next onReadable call. It returns an error once the
// registration was removed or the connection closed.
func (r *Registration) Rearm() error {
	p := r.p
	p.mu.RLock()
	defer p.mu.RUnlock()
	if r.removed {
		return errors.New("netpoll: rearm: registration removed")
	}
	if r.inline {
		return nil
	}
	var ctlErr error
	err := r.rc.Control(func(fd uintptr) {
		ev := unix.EpollEvent{Events: watchedEvents, Fd: r.fd, Pad: int32(r.gen)}
		ctlErr = unix.EpollCtl(r.epfd, unix.EPOLL_CTL_MOD, int(fd), &ev)
	})
	if err == nil {
		err = ctlErr
	}
	if err != nil {
		return fmt.Errorf("netpoll: rearm: %w", err)
	}
	return nil
}

// Remove ends the registration; onReadable is not called after it returns,
// except for a call already under way. It is safe to call more than once.
func (r *Registration) Remove() {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.removed {
		return
	}
	r.removed = true
	if p.regs[r.fd] == r {
		delete(p.regs, r.fd)
	}
	_ = r.rc.Control(func(fd uintptr) {
		_ = unix.EpollCtl(r.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	})
	if len(p.regs) == 0 {
		p.wakeLocked()
	}
}

// ioOp is one non-blocking read or write, with its callback bound once:
// a closure passed to RawConn.Read or Write would escape, and cost an
// allocation per call.
type ioOp struct {
	buf  []byte
	n    int
	err  error
	read func(fd uintptr) bool
	writ func(fd uintptr) bool
}

var ioOps = sync.Pool{New: func() any {
	op := &ioOp{}
	op.read = op.doRead
	op.writ = op.doWrite
	return op
}}

func (op *ioOp) doRead(fd uintptr) bool {
	for {
		op.n, op.err = unix.Read(int(fd), op.buf)
		if op.err != unix.EINTR {
			return true
		}
	}
}

func (op *ioOp) doWrite(fd uintptr) bool {
	for {
		op.n, op.err = unix.Write(int(fd), op.buf)
		if op.err != unix.EINTR {
			return true
		}
	}
}

// run does one read or write of buf on rc.
func run(rc syscall.RawConn, buf []byte, write bool) (int, error) {
	op := ioOps.Get().(*ioOp)
	op.buf, op.n, op.err = buf, 0, nil
	var err error
	if write {
		err = rc.Write(op.writ)
	} else {
		err = rc.Read(op.read)
	}
	n, opErr := op.n, op.err
	op.buf, op.err = nil, nil
	ioOps.Put(op)
	switch {
	case err != nil:
		return 0, err
	case opErr == unix.EAGAIN:
		return 0, ErrWouldBlock
	case opErr != nil:
		return 0, opErr
	}
	return n, nil
}

// ReadNonblocking reads what rc has ready into buf. It returns ErrWouldBlock
// when nothing is, io.EOF when the peer has closed its end, and an error
// wrapping net.ErrClosed when the connection is closed.
func ReadNonblocking(rc syscall.RawConn, buf []byte) (int, error) {
	n, err := run(rc, buf, false)
	if err == nil && n == 0 && len(buf) > 0 {
		return 0, io.EOF
	}
	return n, err
}

// WriteNonblocking writes what of buf the connection's send buffer takes
// now, without waiting: it returns ErrWouldBlock when it takes nothing, and
// an error wrapping net.ErrClosed when the connection is closed. It costs
// one system call and no timer, where a write with a deadline costs timer
// updates too.
func WriteNonblocking(rc syscall.RawConn, buf []byte) (int, error) {
	return run(rc, buf, true)
}
