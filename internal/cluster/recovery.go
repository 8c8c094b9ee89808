package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
)

// Connection state recovery across nodes (socketio.SharedRecovery), as the
// reference does it: a broadcast's offset is the id of its stream entry;
// the events a client missed are read back from the stream (XRANGE) after
// its offset, filtered by the rooms of its session; sessions are kept under
// sio:session:<pid> for the recovery window (PX), and taken back once
// (GETDEL). Beyond the reference, the sessions of live sockets are kept
// too (sessions.go), and this node's memory of the stream (socketio's log)
// spares most restores the reading.

// maxPIDLength bounds the private session id a client may send.
const maxPIDLength = 128

// EnableRecovery switches the adapter to shared recovery: from now on the
// node's own broadcasts reach its sockets from the stream.
func (a *adapter) EnableRecovery(cfg socketio.RecoveryConfig) {
	a.window = cfg.MaxDisconnectionDuration
	a.refresh = a.node.cfg.SessionRefresh
	if a.refresh <= 0 {
		a.refresh = a.window / 3
	}
	a.node.keeper.useRefresh(a.refresh)
	a.fromStream.Store(true)
	a.recovery.Store(true)
}

// LogRange returns the entries the reader has handed the adapter: those
// after the stream's last entry when the adapter started, up to the last
// the reader handled.
func (a *adapter) LogRange() (start, end string, ok bool) {
	nd := a.node
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if a.base == "" {
		return "", "", false
	}
	end = nd.done[a.stream]
	if end == "" || compareIDs(end, a.base) < 0 {
		end = a.base
	}
	return a.base, end, true
}

// ParseOffset parses a stream entry id, ms-seq, both decimal: the offsets
// the reference accepts.
func (a *adapter) ParseOffset(offset string) (socketio.Offset, bool) {
	return parseID(offset)
}

func parseID(id string) (socketio.Offset, bool) {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok || !decimal(ms) || !decimal(seq) {
		return socketio.Offset{}, false
	}
	hi, err1 := strconv.ParseUint(ms, 10, 64)
	lo, err2 := strconv.ParseUint(seq, 10, 64)
	return socketio.Offset{Hi: hi, Lo: lo}, err1 == nil && err2 == nil
}

// decimal reports whether s is digits only, and some.
func decimal(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// compareIDs compares two stream ids; an invalid one comes first.
func compareIDs(x, y string) int {
	a, _ := parseID(x)
	b, _ := parseID(y)
	return a.Compare(b)
}

// ReadAfter reads the stream from offset (XRANGE offset + COUNT max+1):
// the first entry must be offset itself, or the stream was trimmed past it.
// The offset "0-0", before any entry, reads from the start.
func (a *adapter) ReadAfter(ctx context.Context, offset string, max int) ([]socketio.LoggedEvent, string, bool, error) {
	start, count := offset, int64(max)+1
	if offset == "0-0" {
		start, count = "-", int64(max)
	}
	msgs, err := a.node.cfg.Client.XRangeN(ctx, a.stream, start, "+", count).Result()
	if err != nil {
		return nil, offset, false, fmt.Errorf("cluster: reading the stream after %s: %w", offset, err)
	}
	if offset != "0-0" {
		if len(msgs) == 0 || msgs[0].ID != offset {
			return nil, offset, false, fmt.Errorf("cluster: entry %s trimmed from the stream: %w", offset, socketio.ErrRecoveryGap)
		}
		msgs = msgs[1:]
	}
	var events []socketio.LoggedEvent
	next := offset
	for _, x := range msgs {
		next = x.ID
		e := entryOf(x)
		if e.Nsp != a.name || e.Type != broadcastType {
			continue
		}
		m, err := wire.DecodeEntry(e)
		if err != nil {
			continue // dropped as the reader drops it
		}
		if ev, ok := a.loggedEvent(m, x.ID); ok {
			events = append(events, ev)
		}
	}
	return events, next, int64(len(msgs)) < int64(max), nil
}

// broadcastType is the type field of a BROADCAST entry.
var broadcastType = strconv.Itoa(int(wire.TypeBroadcast))

// loggedEvent returns a broadcast as a replay sends it, if it can be
// replayed: an event without acknowledgement or binary attachments, as
// socketio's log keeps them.
func (a *adapter) loggedEvent(m *wire.Message, id string) (socketio.LoggedEvent, bool) {
	d := m.Packet.Data
	if m.RequestID != "" || m.Packet.Type != int(sioparser.PacketEvent) || len(d.Attachments) > 0 {
		return socketio.LoggedEvent{}, false
	}
	if _, _, err := sioparser.EventName(d.JSON); err != nil {
		return socketio.LoggedEvent{}, false
	}
	p := &sioparser.Packet{Type: sioparser.PacketEvent, Namespace: a.name, Data: d.JSON}
	return socketio.LoggedEvent{Offset: id, Packet: p, Rooms: m.Opts.Rooms, Except: m.Opts.Except}, true
}

// TakeSession takes the session of pid (GETDEL) and looks for its offset
// in the stream (XRANGE offset offset), in one round trip, as the reference
// does. When it finds a session, it tells the other nodes to disconnect
// any socket they still have with its id: the client is here now.
func (a *adapter) TakeSession(ctx context.Context, pid, offset string) (*socketio.SessionState, bool, error) {
	if pid == "" || len(pid) > maxPIDLength {
		return nil, false, nil
	}
	c := a.node.cfg.Client
	var get *redis.StringCmd
	var rng *redis.XMessageSliceCmd
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.GetDel(ctx, wire.SessionKey(a.node.cfg.SessionKeyPrefix, pid))
		rng = p.XRangeN(ctx, a.stream, offset, offset, 1)
		return nil
	})
	raw, gerr := get.Result()
	switch {
	case errors.Is(gerr, redis.Nil):
		return nil, false, nil
	case gerr != nil:
		return nil, false, fmt.Errorf("cluster: taking session: %w", gerr)
	}
	kept := err == nil && len(rng.Val()) == 1
	s, derr := wire.DecodeSession(raw)
	if derr != nil {
		return nil, false, fmt.Errorf("cluster: session of %s: %w", pid, derr)
	}
	if s.PID != pid {
		return nil, false, fmt.Errorf("cluster: session of %s has pid %s", pid, s.PID)
	}
	state := &socketio.SessionState{SID: s.SID, PID: s.PID, Rooms: s.Rooms, DisconnectedAt: time.Now()}
	if d, ok := a.node.keeper.take(s.Owner); s.Owner != "" && ok {
		state.Data = d // this node's own copy: the data as it was
	} else if data := jsonOf(s.Data); string(data) != "null" {
		state.Data = json.RawMessage(data)
	}
	moved := &wire.Message{Type: wire.TypeDisconnectSockets, Opts: wire.Options{Rooms: []string{s.SID}, Except: []string{movedRoom}}, Close: true}
	if perr := a.publish(moved); perr != nil {
		a.node.log.Warn("cluster: cannot tell the other nodes a session moved", logKeyNsp, a.name, logKeyError, perr)
	}
	return state, kept, nil
}

// movedRoom is a room no socket is in, which the DISCONNECT_SOCKETS of a
// session taken back (TakeSession) leaves out: every node disconnects the
// session's old socket, but this one, which reads the message back from
// the stream with recovery on, knows it by it and leaves alone the socket
// it restores with the same id.
const movedRoom = "\x00parley:session-moved"

// SessionChanged keeps the session of so in Redis, current.
func (a *adapter) SessionChanged(so *socketio.Socket) { a.node.keeper.changed(a, so) }

// SessionClosed keeps the session of so for the recovery window, or
// deletes it.
func (a *adapter) SessionClosed(so *socketio.Socket, s *socketio.SessionState) {
	a.node.keeper.closed(a, so, s)
}
