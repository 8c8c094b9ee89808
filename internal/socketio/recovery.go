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

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/sioparser"
)

// Defaults of connection state recovery. The window and the packet count
// are the reference server's; the byte and session bounds are parley's.
const (
	DefaultMaxDisconnectionDuration = 2 * time.Minute
	DefaultMaxRecoveryPackets       = 100_000
	// DefaultMaxRecoveryBytes bounds what a namespace's log keeps. The
	// packet bound alone lets large events multiply: 100,000 events of
	// 6 KB are 600 MB. 64 MiB holds the whole window of a busy chat (500
	// messages of 1 KB a second for 2 minutes is 60 MB), about what
	// 100,000 small events take, and stays a fraction of a small server's
	// memory.
	DefaultMaxRecoveryBytes = 64 << 20
	// DefaultMaxRecoverySessions bounds the sessions kept for recovery per
	// namespace: twice the 5,000 connections parley is sized for on a
	// small machine, so that all of them can come back after a network
	// failure, while a client that connects and closes in a loop cannot
	// grow memory beyond it.
	DefaultMaxRecoverySessions = 10_000
)

// RecoveryConfig switches on connection state recovery: a socket that
// loses its connection for a recoverable reason (transport close or error,
// ping timeout, server shutdown, slow consumer) keeps its id, rooms and data
// for MaxDisconnectionDuration, and the events broadcast meanwhile are kept;
// when the client reconnects with its private session id and the offset of
// the last event it got, the socket is restored and the missed events are
// sent again, once, in order. Zero fields take the documented defaults.
//
// What is kept is bounded: by age, by count and by bytes. When a bound is
// reached, the oldest event or session goes first; a client whose events or
// session are gone is not recovered and connects as a new socket.
type RecoveryConfig struct {
	// MaxDisconnectionDuration is how long sessions and missed events are
	// kept (default 2 minutes).
	MaxDisconnectionDuration time.Duration
	// MaxPackets bounds the events kept per namespace (default 100,000).
	MaxPackets int
	// MaxBytes bounds, per namespace, the bytes of the events kept, as
	// encoded, and of the sessions kept (ids and rooms; Data is not
	// counted), with an estimate of the bookkeeping of each (default
	// 64 MiB).
	MaxBytes int
	// MaxSessions bounds the sessions kept per namespace (default
	// 10,000). It bounds what Socket.SetData attached to them, too.
	MaxSessions int
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
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxRecoveryBytes
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxRecoverySessions
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

// Estimates, in bytes, of what the log spends on each entry besides its
// data: the entry, its slot, slice and string headers, a map entry.
const (
	packetOverhead  = 128
	sessionOverhead = 256
	stringOverhead  = 16
)

// maxReadScan bounds the events one read looks at, so that a replay
// filtering a long log for a socket's rooms holds the log's lock only
// briefly.
const maxReadScan = 4096

// recoveryLog keeps the sessions of disconnected sockets and the events
// broadcast in a namespace, for replay. It trims itself as it records, and
// a timer sweeps it while it holds anything, so that an idle namespace lets
// go of what expired. It is safe for concurrent use.
type recoveryLog struct {
	cfg        RecoveryConfig
	prefix     string        // distinguishes this process's offsets from another's
	sweepEvery time.Duration // the shortest time between two sweeps
	epoch      time.Time     // the origin of loggedPacket.at, on the monotonic clock

	mu      sync.Mutex
	next    uint64         // the last offset given
	packets []loggedPacket // by offset, which has no gaps
	bytes   int            // estimated size of packets and sessions
	byPID   map[string]*keptSession
	oldest  *keptSession // the sessions, oldest first
	newest  *keptSession
	sweep   *time.Timer
	armed   bool // sweep is set to fire
	closed  bool // nothing more is kept, and sweep is stopped
}

// loggedPacket is a broadcast event kept for replay. It is small, as a log
// may hold 100,000 of them.
type loggedPacket struct {
	seq    uint64
	frame  []byte // the event with its offset, as sent in an Engine.IO message
	rooms  []string
	except []string
	at     time.Duration // when it was recorded, since the log's epoch
	size   int
}

// keptSession is a session kept for recovery, in a list by age.
type keptSession struct {
	state      *SessionState
	size       int
	prev, next *keptSession
}

func newRecoveryLog(cfg RecoveryConfig) *recoveryLog {
	var b [6]byte
	_, _ = rand.Read(b[:])
	cfg = cfg.withDefaults()
	return &recoveryLog{
		cfg:        cfg,
		prefix:     base64.RawURLEncoding.EncodeToString(b[:]) + "-",
		sweepEvery: max(cfg.MaxDisconnectionDuration/8, time.Millisecond),
		epoch:      time.Now(),
		byPID:      make(map[string]*keptSession),
	}
}

// record assigns the next offset to an event broadcast, appends the offset
// to its arguments, as the protocol wants, encodes it for every recipient
// and keeps it. The caller serialises record with the delivery of b, so
// that offsets reach each socket in order.
func (l *recoveryLog) record(b *Broadcast) {
	p := b.Packet
	if p.Type != sioparser.PacketEvent || p.HasID {
		return // acks cannot be replayed; the reference skips binary events too
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	frame := eioparser.Packet{Type: eioparser.PacketMessage, Data: encodeWithOffset(p, l.prefix, l.next)}
	b.setFrames([]eioparser.Packet{frame})
	if l.closed {
		return
	}
	size := packetOverhead + len(frame.Data) + stringsSize(b.Rooms) + stringsSize(b.Except)
	l.packets = append(l.packets, loggedPacket{
		seq: l.next, frame: frame.Data, rooms: b.Rooms, except: b.Except, at: now.Sub(l.epoch), size: size,
	})
	l.bytes += size
	l.trimLocked(now)
	l.armLocked(now)
}

// encodeWithOffset returns the text encoding of p with the offset
// prefix+seq appended to its arguments, in one allocation. p is left as it
// was: a cluster adapter hands the event to other nodes without this node's
// offset.
func encodeWithOffset(p *sioparser.Packet, prefix string, seq uint64) []byte {
	data := p.Data
	end := len(data) - 1
	for end > 0 && data[end] != ']' {
		end--
	}
	head := sioparser.Packet{Type: p.Type, Namespace: p.Namespace}
	out := make([]byte, 0, 2+len(p.Namespace)+end+len(prefix)+20)
	out = sioparser.EncodePacket(out, &head)
	out = append(out, data[:end]...)
	out = append(out, ',', '"')
	out = append(out, prefix...)
	out = strconv.AppendUint(out, seq, 36)
	out = append(out, '"', ']')
	return out
}

// stringsSize estimates the memory of a list of strings.
func stringsSize(list []string) int {
	n := 0
	for _, s := range list {
		n += stringOverhead + len(s)
	}
	return n
}

// trimLocked drops what expired, and the oldest events and sessions while
// a bound is exceeded: the count of either, or their bytes together.
func (l *recoveryLog) trimLocked(now time.Time) {
	expired := now.Add(-l.cfg.MaxDisconnectionDuration)
	expiredAt := expired.Sub(l.epoch)
	cut := 0
	for {
		var p *loggedPacket
		if cut < len(l.packets) {
			p = &l.packets[cut]
		}
		s := l.oldest
		switch {
		case p != nil && (p.at < expiredAt || len(l.packets)-cut > l.cfg.MaxPackets):
		case s != nil && (s.state.DisconnectedAt.Before(expired) || len(l.byPID) > l.cfg.MaxSessions):
			p = nil
		case l.bytes <= l.cfg.MaxBytes:
			p, s = nil, nil
		case p != nil && (s == nil || s.state.DisconnectedAt.Sub(l.epoch) >= p.at):
		default:
			p = nil
		}
		switch {
		case p != nil:
			l.bytes -= p.size
			cut++
		case s != nil:
			l.dropSessionLocked(s)
		default:
			l.cutLocked(cut)
			return
		}
	}
}

// cutLocked drops the n oldest events.
func (l *recoveryLog) cutLocked(n int) {
	switch {
	case n == 0:
	case n == len(l.packets):
		l.packets = nil // let go of the array too
	default:
		clear(l.packets[:n])
		l.packets = l.packets[n:]
	}
}

// armLocked sets the sweep to fire when the oldest thing kept expires, but
// no sooner than sweepEvery from now, unless it is set already.
func (l *recoveryLog) armLocked(now time.Time) {
	if l.armed || l.closed {
		return
	}
	var oldest time.Time
	switch {
	case len(l.packets) > 0 && (l.oldest == nil || l.packets[0].at < l.oldest.state.DisconnectedAt.Sub(l.epoch)):
		oldest = l.epoch.Add(l.packets[0].at)
	case l.oldest != nil:
		oldest = l.oldest.state.DisconnectedAt
	default:
		return // nothing kept
	}
	d := max(oldest.Add(l.cfg.MaxDisconnectionDuration).Sub(now), l.sweepEvery)
	l.armed = true
	if l.sweep == nil {
		l.sweep = time.AfterFunc(d, l.onSweep)
	} else {
		l.sweep.Reset(d)
	}
}

// onSweep drops what expired and sets the next sweep, if anything is left.
func (l *recoveryLog) onSweep() {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armed = false
	if l.closed {
		return
	}
	l.trimLocked(now)
	l.armLocked(now)
}

// close stops the sweeps and drops everything: the server is shut down.
func (l *recoveryLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.armed = false
	if l.sweep != nil {
		l.sweep.Stop()
	}
	l.packets, l.byPID, l.oldest, l.newest, l.bytes = nil, nil, nil, nil, 0
}

// persist keeps a disconnected socket's session.
func (l *recoveryLog) persist(s *SessionState) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	s.DisconnectedAt = now
	if old := l.byPID[s.PID]; old != nil {
		l.dropSessionLocked(old)
	}
	k := &keptSession{
		state: s,
		size:  sessionOverhead + len(s.SID) + len(s.PID) + stringsSize(s.Rooms),
		prev:  l.newest,
	}
	if l.newest != nil {
		l.newest.next = k
	} else {
		l.oldest = k
	}
	l.newest = k
	l.byPID[s.PID] = k
	l.bytes += k.size
	l.trimLocked(now)
	l.armLocked(now)
}

// dropSessionLocked forgets a kept session.
func (l *recoveryLog) dropSessionLocked(k *keptSession) {
	if k.prev != nil {
		k.prev.next = k.next
	} else {
		l.oldest = k.next
	}
	if k.next != nil {
		k.next.prev = k.prev
	} else {
		l.newest = k.prev
	}
	k.prev, k.next = nil, nil
	delete(l.byPID, k.state.PID)
	l.bytes -= k.size
}

// restore takes back the session of pid, with the offset after which its
// missed events are to be read. It fails when the session expired or the
// offset is unknown, or when some events after it are no longer kept.
func (l *recoveryLog) restore(pid, offset string) (*SessionState, uint64, bool) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.byPID[pid]
	if k == nil {
		return nil, 0, false
	}
	l.dropSessionLocked(k)
	if now.Sub(k.state.DisconnectedAt) > l.cfg.MaxDisconnectionDuration {
		return nil, 0, false
	}
	seqText, ok := strings.CutPrefix(offset, l.prefix)
	if !ok {
		return nil, 0, false
	}
	seq, err := strconv.ParseUint(seqText, 36, 64)
	if err != nil || seq > l.next {
		return nil, 0, false
	}
	l.trimLocked(now)
	if !l.keptAfterLocked(seq) {
		return nil, 0, false
	}
	return k.state, seq, true
}

// keptAfterLocked reports whether every event after offset seq is kept.
func (l *recoveryLog) keptAfterLocked(seq uint64) bool {
	if len(l.packets) == 0 {
		return seq == l.next
	}
	return l.packets[0].seq <= seq+1
}

// read appends to dst the frames of the events after offset seq that a
// socket in rooms gets, up to maxBytes of them (at least one) and looking
// at maxReadScan events at most. It returns the offset of the last event
// it consumed, and whether that is the last event recorded. It fails with
// errRecoveryGap when events after seq are no longer kept.
func (l *recoveryLog) read(dst []eioparser.Packet, seq uint64, rooms []string, maxBytes int) ([]eioparser.Packet, uint64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.keptAfterLocked(seq) {
		return dst, seq, false, errRecoveryGap
	}
	if len(l.packets) == 0 {
		return dst, seq, true, nil
	}
	i := int(seq + 1 - l.packets[0].seq)
	n := 0
	for end := min(len(l.packets), i+maxReadScan); i < end; i++ {
		p := &l.packets[i]
		if includes(rooms, p.rooms, p.except) {
			frame := eioparser.Packet{Type: eioparser.PacketMessage, Data: p.frame}
			size := eioparser.PayloadSize(frame)
			if n > 0 && n+size > maxBytes {
				break
			}
			dst = append(dst, frame)
			n += size
		}
		seq = p.seq
	}
	return dst, seq, i == len(l.packets), nil
}

// recoveryStats is what a log holds.
type recoveryStats struct {
	Packets, Sessions, Bytes int
	Armed                    bool
}

func (l *recoveryLog) stats() recoveryStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return recoveryStats{Packets: len(l.packets), Sessions: len(l.byPID), Bytes: l.bytes, Armed: l.armed}
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
