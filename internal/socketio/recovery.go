package socketio

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/sioparser"
)

// Defaults of connection state recovery, as in the reference server.
const (
	DefaultMaxDisconnectionDuration = 2 * time.Minute
	DefaultMaxRecoveryPackets       = 100_000
)

// RecoveryConfig switches on connection state recovery: a socket that
// loses its connection for a recoverable reason (transport close or error,
// ping timeout, server shutdown, slow consumer) keeps its id, rooms and data
// for MaxDisconnectionDuration, and the events broadcast meanwhile are kept;
// when the client reconnects with its private session id and the offset of
// the last event it got, the socket is restored and the missed events are
// sent again, once, in order. Zero fields take the documented defaults.
type RecoveryConfig struct {
	// MaxDisconnectionDuration is how long sessions and missed events are
	// kept (default 2 minutes).
	MaxDisconnectionDuration time.Duration
	// MaxPackets bounds the events kept per namespace (default 100,000).
	MaxPackets int
	// RunMiddlewares runs the namespace middleware for restored sockets too;
	// by default they skip it, as in the reference server.
	RunMiddlewares bool
}

func (c RecoveryConfig) withDefaults() RecoveryConfig {
	if c.MaxDisconnectionDuration <= 0 {
		c.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
	}
	if c.MaxPackets <= 0 {
		c.MaxPackets = DefaultMaxRecoveryPackets
	}
	return c
}

// SessionState is what recovery keeps of a disconnected socket.
type SessionState struct {
	// SID is the socket id, PID its private session id.
	SID, PID string
	// Rooms are the socket's rooms, its own included.
	Rooms []string
	// Data is what Socket.SetData attached.
	Data any
	// DisconnectedAt is when the socket disconnected.
	DisconnectedAt time.Time
}

// recoverable lists the disconnect reasons after which a session is kept.
func recoverable(r DisconnectReason) bool {
	switch r {
	case ReasonTransportClose, ReasonTransportError, ReasonPingTimeout, ReasonForcedClose,
		ReasonServerShutdown, ReasonSlowConsumer:
		return true
	}
	return false
}

// recoveryLog keeps the sessions of disconnected sockets and the events
// broadcast in a namespace, for replay. It is safe for concurrent use.
type recoveryLog struct {
	cfg    RecoveryConfig
	prefix string // distinguishes this process's offsets from another's

	mu        sync.Mutex
	next      uint64
	packets   []loggedPacket
	sessions  map[string]*SessionState // by pid
	lastSweep time.Time
}

// loggedPacket is a broadcast event kept for replay.
type loggedPacket struct {
	seq    uint64
	packet *sioparser.Packet
	rooms  []string
	except []string
	at     time.Time
}

func newRecoveryLog(cfg RecoveryConfig) *recoveryLog {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &recoveryLog{
		cfg:      cfg.withDefaults(),
		prefix:   base64.RawURLEncoding.EncodeToString(b[:]) + "-",
		sessions: make(map[string]*SessionState),
	}
}

// record assigns the next offset to an event broadcast, appends the offset
// to its arguments, as the protocol wants, and keeps the packet. The caller
// serialises record with the delivery of b, so that offsets reach each
// socket in order.
func (l *recoveryLog) record(b *Broadcast) {
	p := b.Packet
	if p.Type != sioparser.PacketEvent || p.HasID {
		return // acks cannot be replayed; the reference skips binary events too
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	offset := l.prefix + strconv.FormatUint(l.next, 36)
	p.Data = appendOffset(p.Data, offset)
	l.packets = append(l.packets, loggedPacket{seq: l.next, packet: p, rooms: b.Rooms, except: b.Except, at: now})
	l.trimLocked(now)
}

// appendOffset appends a string to a JSON array.
func appendOffset(data json.RawMessage, offset string) json.RawMessage {
	end := len(data) - 1
	for end > 0 && data[end] != ']' {
		end--
	}
	out := make([]byte, 0, len(data)+len(offset)+3)
	out = append(out, data[:end]...)
	out = append(out, ',', '"')
	out = append(out, offset...)
	return append(out, '"', ']')
}

// trimLocked drops packets past their time or beyond the bound.
func (l *recoveryLog) trimLocked(now time.Time) {
	cut := 0
	threshold := now.Add(-l.cfg.MaxDisconnectionDuration)
	for cut < len(l.packets) && (l.packets[cut].at.Before(threshold) || len(l.packets)-cut > l.cfg.MaxPackets) {
		cut++
	}
	if cut > 0 {
		clear(l.packets[:cut])
		l.packets = l.packets[cut:]
	}
}

// persist keeps a disconnected socket's session.
func (l *recoveryLog) persist(s *SessionState) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s.DisconnectedAt = now
	l.sessions[s.PID] = s
	if now.Sub(l.lastSweep) > time.Minute {
		l.lastSweep = now
		for pid, old := range l.sessions {
			if now.Sub(old.DisconnectedAt) > l.cfg.MaxDisconnectionDuration {
				delete(l.sessions, pid)
			}
		}
	}
}

// restore takes back the session of pid, with the events it missed after
// offset. It fails when the session expired or the offset is unknown.
func (l *recoveryLog) restore(pid, offset string) (*SessionState, []*sioparser.Packet, bool) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sessions[pid]
	if s == nil {
		return nil, nil, false
	}
	delete(l.sessions, pid)
	if now.Sub(s.DisconnectedAt) > l.cfg.MaxDisconnectionDuration {
		return nil, nil, false
	}
	seqText, ok := strings.CutPrefix(offset, l.prefix)
	if !ok {
		return nil, nil, false
	}
	seq, err := strconv.ParseUint(seqText, 36, 64)
	if err != nil || seq > l.next {
		return nil, nil, false
	}
	l.trimLocked(now)
	i, found := slices.BinarySearchFunc(l.packets, seq, func(p loggedPacket, seq uint64) int {
		return compareUint(p.seq, seq)
	})
	switch {
	case found:
		i++
	case len(l.packets) == 0 && seq != l.next, len(l.packets) > 0 && seq+1 != l.packets[0].seq:
		return nil, nil, false // some events after offset are no longer kept
	}
	var missed []*sioparser.Packet
	for _, p := range l.packets[i:] {
		if includes(s.Rooms, p.rooms, p.except) {
			missed = append(missed, p.packet)
		}
	}
	return s, missed, true
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// includes reports whether a socket in rooms gets a broadcast to to, less
// except.
func includes(rooms, to, except []string) bool {
	in := len(to) == 0
	for _, r := range rooms {
		if slices.Contains(except, r) {
			return false
		}
		in = in || slices.Contains(to, r)
	}
	return in
}

// recoveryAuth is the part of a CONNECT payload that asks for recovery.
type recoveryAuth struct {
	PID    string `json:"pid"`
	Offset string `json:"offset"`
}

// parseRecoveryAuth returns the pid and offset of a CONNECT payload.
func parseRecoveryAuth(auth json.RawMessage) (pid, offset string, ok bool) {
	var a recoveryAuth
	if len(auth) == 0 || auth[0] != '{' || json.Unmarshal(auth, &a) != nil {
		return "", "", false
	}
	return a.PID, a.Offset, a.PID != "" && a.Offset != ""
}
