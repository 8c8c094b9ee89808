//go:build !linux

package netpoll

import "syscall"

// Supported reports whether this system has a Poller.
const Supported = false

// Poller is unavailable on this system.
type Poller struct{}

// Registration is unavailable on this system.
type Registration struct{}

// New returns ErrUnsupported on this system.
func New() (*Poller, error) { return nil, ErrUnsupported }

// Add returns ErrUnsupported on this system.
func (p *Poller) Add(rc syscall.RawConn, onReadable func()) (*Registration, error) {
	return nil, ErrUnsupported
}

// AddInline returns ErrUnsupported on this system.
func (p *Poller) AddInline(rc syscall.RawConn, onReadable func()) (*Registration, error) {
	return nil, ErrUnsupported
}

// Registered returns 0 on this system.
func (p *Poller) Registered() int { return 0 }

// Go calls f on a goroutine of its own.
func (p *Poller) Go(f func()) { go f() }

// Rearm returns ErrUnsupported on this system.
func (r *Registration) Rearm() error { return ErrUnsupported }

// Remove does nothing on this system.
func (r *Registration) Remove() {}

// ReadNonblocking returns ErrUnsupported on this system.
func ReadNonblocking(rc syscall.RawConn, buf []byte) (int, error) { return 0, ErrUnsupported }

// WriteNonblocking returns ErrUnsupported on this system.
func WriteNonblocking(rc syscall.RawConn, buf []byte) (int, error) { return 0, ErrUnsupported }
