// Package netpoll calls back when a connection has data to read, so that a
// server holding many idle connections needs no goroutine, and no read
// buffer, per connection.
//
// On Linux a Poller is one epoll instance watched by one goroutine, which
// runs only while something is registered. Registrations are one-shot: after
// its callback has read what it wanted, the owner calls Registration.Rearm to
// hear of the next data. Reads go through ReadNonblocking, which returns
// ErrWouldBlock instead of parking the goroutine.
//
// Where epoll is missing, Supported is false and New fails: callers then read
// with a goroutine per connection, as usual in Go.
//
// A Poller takes no other lock while it holds its own (the runtime's lock
// of a connection's fd aside, in RawConn.Control), and holds none while
// calling back; its place among the server's locks is written down in
// docs/locking.md.
package netpoll

import "errors"

// ErrWouldBlock is returned by ReadNonblocking when no data is ready.
var ErrWouldBlock = errors.New("netpoll: no data ready")

// ErrUnsupported is returned by New where no poller is available.
var ErrUnsupported = errors.New("netpoll: not supported on this system")
