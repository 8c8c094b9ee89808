package admin

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
)

// event is one event for the UIs, with its arguments, as the Observer
// queued it.
type event struct {
	name string
	args []any
}

// queue holds the events waiting for run to send them, bounded in count.
// Its mu is a leaf, taken by the Observer's methods under whatever locks
// the server holds as it calls them.
type queue struct {
	wake chan struct{} // capacity 1: run has something to send

	mu      sync.Mutex
	events  []event
	spare   []event
	max     int
	dropped bool // events were dropped: every UI needs all_sockets again
}

func (q *queue) init(max int) {
	q.wake = make(chan struct{}, 1)
	q.max = max
}

// push queues e; it never blocks.
func (q *queue) push(e event) {
	q.mu.Lock()
	if len(q.events) >= q.max {
		q.dropped = true
		q.mu.Unlock()
		return
	}
	q.events = append(q.events, e)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take returns what is queued, and whether events were dropped since the
// last take.
func (q *queue) take() ([]event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	list, dropped := q.events, q.dropped
	q.events, q.spare, q.dropped = q.spare[:0], nil, false
	return list, dropped
}

// recycle hands back a taken slice, once sent, for the next events.
func (q *queue) recycle(list []event) {
	if cap(list) > 1024 {
		return
	}
	clear(list)
	q.mu.Lock()
	if q.spare == nil {
		q.spare = list[:0]
	}
	q.mu.Unlock()
}

// flush sends what is queued to every UI, in order, then, if events were
// dropped, every socket afresh.
func (a *Admin) flush() {
	list, dropped := a.queue.take()
	for _, e := range list {
		if err := a.nsp.Emit(e.name, e.args...); err != nil {
			a.log.Debug("admin event not sent", "event", e.name, "err", err)
		}
	}
	a.queue.recycle(list)
	if dropped && a.cfg.Mode == Development {
		a.log.Warn("admin events dropped: the UIs get every socket afresh", "max_queued", a.cfg.MaxQueued)
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			ctx, cancel := context.WithTimeout(a.ctx, fetchTimeout)
			defer cancel()
			if err := a.nsp.Emit("all_sockets", a.allSockets(ctx)); err != nil {
				a.log.Debug("admin event not sent", "event", "all_sockets", "err", err)
			}
		}()
	}
}

// timestamp is how the reference's events give a time: a JavaScript
// Date, which JSON writes in UTC with milliseconds.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// The socketio.Observer methods.

// ConnOpened implements socketio.Observer.
func (a *Admin) ConnOpened(string) { a.stats.connected() }

// ConnClosed implements socketio.Observer.
func (a *Admin) ConnClosed(reason socketio.DisconnectReason) { a.stats.disconnected(string(reason)) }

// SocketConnected implements socketio.Observer.
func (a *Admin) SocketConnected(so *socketio.Socket) {
	if !a.development() {
		return
	}
	a.queue.push(event{"socket_connected", []any{serializeLocal(so), timestamp(time.Now())}})
}

// SocketUpdated implements socketio.Observer.
func (a *Admin) SocketUpdated(so *socketio.Socket) {
	if !a.development() {
		return
	}
	a.queue.push(event{"socket_updated", []any{socketUpdate{
		ID:        so.ID(),
		Nsp:       so.Namespace().Name(),
		Transport: so.Transport(),
		Data:      dataOf(so),
	}}})
}

// socketUpdate is what socket_updated says of a socket.
type socketUpdate struct {
	ID        string          `json:"id"`
	Nsp       string          `json:"nsp"`
	Transport string          `json:"transport"`
	Data      json.RawMessage `json:"data"`
}

// SocketDisconnected implements socketio.Observer.
func (a *Admin) SocketDisconnected(so *socketio.Socket, reason socketio.DisconnectReason) {
	if !a.development() {
		return
	}
	a.queue.push(event{"socket_disconnected", []any{so.Namespace().Name(), so.ID(), string(reason), timestamp(time.Now())}})
}

// RoomJoined implements socketio.Observer.
func (a *Admin) RoomJoined(so *socketio.Socket, room string) {
	if !a.development() {
		return
	}
	a.queue.push(event{"room_joined", []any{so.Namespace().Name(), room, so.ID(), timestamp(time.Now())}})
}

// RoomLeft implements socketio.Observer.
func (a *Admin) RoomLeft(so *socketio.Socket, room string) {
	if !a.development() {
		return
	}
	a.queue.push(event{"room_left", []any{so.Namespace().Name(), room, so.ID(), timestamp(time.Now())}})
}

// EventReceived implements socketio.Observer: the event's name and
// arguments, the UI's own commands left out, as the reference leaves out
// the admin namespace's events. Binary attachments are left as the
// placeholders that stand for them.
func (a *Admin) EventReceived(so *socketio.Socket, e *socketio.Event) {
	if !a.development() || so.Namespace() == a.nsp {
		return
	}
	args := make([]any, 0, 1+len(e.Args))
	args = append(args, e.Name)
	for _, arg := range e.Args {
		args = append(args, json.RawMessage(slices.Clone(arg)))
	}
	a.queue.push(event{"event_received", []any{so.Namespace().Name(), so.ID(), args, timestamp(time.Now())}})
}
