package engineio

import (
	"sync/atomic"

	"github.com/parley-chat/parley/internal/eioparser"
)

// What a Server counts of its sessions, for monitoring: how many are on
// polling, and the messages and bytes they carry. Each count is an atomic
// add where it happens: per session opened, upgraded or closed, per
// message received, and per batch written (one WebSocket write or one
// poll's answer), never per message queued.

// Traffic is what a Server's sessions carried since it started: Engine.IO
// message packets, and the bytes of their data (frame and payload framing,
// pings and control frames left out).
type Traffic struct {
	PacketsIn, BytesIn   uint64
	PacketsOut, BytesOut uint64
}

// counters are a Server's counts. Each field is on a cache line of its
// own, so that sessions on different cores counting at once do not slow
// each other through false sharing.
type counters struct {
	polling    paddedInt64
	packetsIn  paddedUint64
	bytesIn    paddedUint64
	packetsOut paddedUint64
	bytesOut   paddedUint64
}

type paddedInt64 struct {
	atomic.Int64
	_ [56]byte
}

type paddedUint64 struct {
	atomic.Uint64
	_ [56]byte
}

// PollingCount returns the number of open sessions on HTTP long-polling:
// those that opened on it and have not upgraded to WebSocket.
func (srv *Server) PollingCount() int { return int(srv.count.polling.Load()) }

// Traffic returns what the server's sessions carried so far.
func (srv *Server) Traffic() Traffic {
	return Traffic{
		PacketsIn:  srv.count.packetsIn.Load(),
		BytesIn:    srv.count.bytesIn.Load(),
		PacketsOut: srv.count.packetsOut.Load(),
		BytesOut:   srv.count.bytesOut.Load(),
	}
}

// countReceived counts one message received.
func (srv *Server) countReceived(n int) {
	srv.count.packetsIn.Add(1)
	srv.count.bytesIn.Add(uint64(n))
}

// countMessages returns the number of message packets among q, and the
// bytes of their data.
func countMessages(q []queued) (packets, bytes uint64) {
	for _, e := range q {
		if e.op == 0 && e.pkt.Type == eioparser.PacketMessage {
			packets++
			bytes += uint64(len(e.pkt.Data))
		}
	}
	return packets, bytes
}

// countWritten counts the messages of a batch just written.
func (srv *Server) countWritten(packets, bytes uint64) {
	if packets > 0 {
		srv.count.packetsOut.Add(packets)
		srv.count.bytesOut.Add(bytes)
	}
}

// countPollingLocked counts s as a polling session, once it is open on
// polling. s.mu must be held.
func (s *Session) countPollingLocked() {
	if s.transport == transportPolling && !s.countedPolling {
		s.countedPolling = true
		s.srv.count.polling.Add(1)
	}
}

// uncountPollingLocked stops counting s as a polling session: it upgraded,
// or closed. s.mu must be held.
func (s *Session) uncountPollingLocked() {
	if s.countedPolling {
		s.countedPolling = false
		s.srv.count.polling.Add(-1)
	}
}

// UpgradeHandler is implemented by a Handler that wants to know when its
// session moves from polling to WebSocket. HandleUpgrade is called once,
// after the switch, on the goroutine of the upgrade request, with no lock
// held and possibly while HandleMessage runs: it must not block.
type UpgradeHandler interface {
	HandleUpgrade()
}
