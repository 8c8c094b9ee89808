package bench

import (
	"bytes"
	"strconv"
)

// Acknowledged messages (Config.Ack): each sender asks for an ack of every
// message, with its sequence number as the ack id, and remembers which
// were acknowledged; each steady client remembers which sequence numbers
// of each sender it received. After the run, every message acknowledged
// in the window must be among those of every steady client but its
// sender.

// ackOK starts the payload of an ack that accepts a message: parley's
// send-chat-message answers {"ok":true,...}, a refusal {"ok":false,
// "code":...}.
var ackOK = []byte(`[{"ok":true`)

// codeKey precedes a refusal's code in an ack.
var codeKey = []byte(`"code":"`)

// maxAckBits bounds the bits that acknowledged messages need: one per
// message per sender, for the senders' acks and for each steady client's
// deliveries (Config.validate).
const maxAckBits = 1 << 31 // 256 MiB

// bitset is a set of sequence numbers; it grows as they do. It is not
// safe for concurrent use: its owner's ackMu guards it.
type bitset []uint64

// set adds i.
func (b *bitset) set(i uint64) {
	w := int(i / 64)
	if w >= len(*b) {
		*b = append(*b, make([]uint64, w+1-len(*b)+len(*b)/4)...)
	}
	(*b)[w] |= 1 << (i % 64)
}

// has reports whether i is in the set.
func (b bitset) has(i uint64) bool {
	w := int(i / 64)
	return w < len(b) && b[w]&(1<<(i%64)) != 0
}

// appendAckSend appends an acknowledged send-chat-message to dst: the
// event with the sequence number as its ack id, then the message that body
// (a sendPrefix after its eventPrefix) begins, completed as appendSend
// does.
func appendAckSend(dst, body []byte, seq uint64, sent int64) []byte {
	dst = append(dst, eventPrefix...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, body...)
	return appendSend(dst, seq, sent)
}

// parseAck reads an ack packet after its "43": the ack id, and whether it
// accepts the message; if not, the refusal's code, when it has one.
func parseAck(p []byte) (id uint64, ok bool, code string, valid bool) {
	id, rest, valid := parseNumber(p, '[', 19)
	if !valid {
		return 0, false, "", false
	}
	rest = p[len(p)-len(rest)-1:] // from the '['
	if bytes.HasPrefix(rest, ackOK) {
		return id, true, "", true
	}
	if _, after, found := bytes.Cut(rest, codeKey); found {
		if c, _, found := bytes.Cut(after, []byte{'"'}); found && len(c) <= 64 {
			return id, false, string(c), true
		}
	}
	return id, false, "", true
}

// onAck records the server's answer to one of the sender's messages.
func (c *client) onAck(p []byte) {
	id, ok, code, valid := parseAck(p)
	if !valid || c.sender < 0 {
		c.shard.malformed.Add(1)
		return
	}
	first, last := c.firstMeasured.Load(), c.lastMeasured.Load()
	measured := first != 0 && id >= first && id <= last
	if !ok {
		if measured {
			c.refused.Add(1)
		}
		if code == "" {
			code = "unknown"
		}
		c.r.noteKind("ack refused", code)
		return
	}
	c.ackMu.Lock()
	dup := c.acked.has(id)
	c.acked.set(id)
	c.ackMu.Unlock()
	if measured && !dup {
		c.ackedN.Add(1)
	}
}

// ackFigures is what checkAcks found.
type ackFigures struct {
	acked, refused, unanswered uint64
	steady                     int
	lost, missing              uint64
}

// checkAcks checks, once the readers have ended, that every message
// acknowledged in the window reached every steady client but its sender:
// lost counts the messages that some missed, missing the deliveries
// missed.
func (r *runner) checkAcks(steady []*client) ackFigures {
	var f ackFigures
	f.steady = len(steady)
	type sent struct {
		first, last uint64
		acked       bitset
	}
	senders := make([]sent, r.cfg.Senders)
	for i, s := range r.clients[:r.cfg.Senders] {
		s.ackMu.Lock()
		senders[i] = sent{s.firstMeasured.Load(), s.lastMeasured.Load(), append(bitset(nil), s.acked...)}
		s.ackMu.Unlock()
		acked, refused := s.ackedN.Load(), s.refused.Load()
		f.acked += acked
		f.refused += refused
		f.unanswered += s.sentMeasured.Load() - min(s.sentMeasured.Load(), acked+refused)
	}
	lost := make([]bitset, len(senders))
	for _, c := range steady {
		c.ackMu.Lock()
		for i, s := range senders {
			if i == c.sender || s.first == 0 {
				continue
			}
			var got bitset
			if i < len(c.recv) {
				got = c.recv[i]
			}
			for seq := s.first; seq <= s.last; seq++ {
				if s.acked.has(seq) && !got.has(seq) {
					f.missing++
					if !lost[i].has(seq) {
						lost[i].set(seq)
						f.lost++
					}
				}
			}
		}
		c.ackMu.Unlock()
	}
	return f
}
