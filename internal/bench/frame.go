package bench

import (
	"bytes"
	"strconv"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/sioparser"
)

// The tutorial's events (the names package chat defines for parley).
const (
	eventNewUser         = "new-user"
	eventSendChatMessage = "send-chat-message"
	eventChatMessage     = "chat-message"
	eventError           = "error"
)

// Engine.IO packet types, and Socket.IO packet types as the digit that
// follows an Engine.IO message's type.
const (
	eioClose   = byte(eioparser.PacketClose)
	eioPing    = byte(eioparser.PacketPing)
	eioPong    = byte(eioparser.PacketPong)
	eioMessage = byte(eioparser.PacketMessage)
	eioOpen    = byte(eioparser.PacketOpen)

	sioConnect      = '0' + byte(sioparser.PacketConnect)
	sioDisconnect   = '0' + byte(sioparser.PacketDisconnect)
	sioEvent        = '0' + byte(sioparser.PacketEvent)
	sioConnectError = '0' + byte(sioparser.PacketConnectError)
	sioAck          = '0' + byte(sioparser.PacketAck)
)

// markerVersion starts every message the generator sends.
const markerVersion = "b1"

var (
	// eventPrefix starts an event packet of namespace "/".
	eventPrefix = string([]byte{eioMessage, sioEvent})
	// chatPrefix starts a chat-message event.
	chatPrefix = []byte(eventPrefix + `["` + eventChatMessage + `",`)
	// errorPrefix starts an error event.
	errorPrefix = []byte(eventPrefix + `["` + eventError + `",`)
	// historyKey marks a replayed message: its value follows, and a
	// quote precedes it.
	historyKey = []byte(`history":`)

	connectFrame    = []byte{eioMessage, sioConnect}    // CONNECT to "/"
	disconnectFrame = []byte{eioMessage, sioDisconnect} // DISCONNECT from "/"
)

// messageKey precedes the message in a chat-message.
var messageKey = []byte(`"message":"`)

// marker is how a message of run begins, up to its sender.
func marker(run string) []byte {
	return []byte(markerVersion + "|" + run + "|")
}

// newUserFrame is the new-user event naming a client.
func newUserFrame(name string) []byte {
	return []byte(eventPrefix + `["` + eventNewUser + `",` + strconv.Quote(name) + "]")
}

// sendPrefix is a sender's send-chat-message event up to its sequence
// number; appendSend completes it.
func sendPrefix(run string, sender int) []byte {
	return []byte(eventPrefix + `["` + eventSendChatMessage + `","` + markerVersion + "|" + run + "|" + strconv.Itoa(sender) + "|")
}

// appendSend completes a sendPrefix with the sequence number and the send
// time, and closes the event.
func appendSend(prefix []byte, seq uint64, sent int64) []byte {
	b := strconv.AppendUint(prefix, seq, 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, sent, 10)
	return append(b, `"]`...)
}

// delivery is what one chat-message of the run carries.
type delivery struct {
	sender int
	seq    uint64
	sent   int64 // unix nanoseconds
}

// chatKind classifies a chat-message packet.
type chatKind uint8

const (
	chatOther     chatKind = iota // not a chat-message of this run
	chatLive                      // a live message of this run
	chatHistory                   // a message of this run replayed as history
	chatMalformed                 // carries the run's marker, but not its fields
)

// parseChat looks for a message of the run whose marker is mark in pkt, an
// Engine.IO packet. It does not decode the JSON: in a packet that starts
// as a chat-message event, it finds "message":" followed by the marker,
// reads the sender, sequence number and time that follow, and looks for
// "history":true. Neither key can occur inside another JSON string, whose
// quotes are escaped. The searches start at the keys' rarer letters, not
// at their quotes. parseChat does not allocate.
func parseChat(pkt, mark []byte) (delivery, chatKind) {
	if !bytes.HasPrefix(pkt, chatPrefix) {
		return delivery{}, chatOther
	}
	rest := pkt[len(chatPrefix):]
	for {
		i := bytes.Index(rest, mark)
		if i < 0 {
			return delivery{}, chatOther
		}
		found := i >= len(messageKey) && bytes.Equal(rest[i-len(messageKey):i], messageKey)
		rest = rest[i+len(mark):]
		if found {
			break
		}
	}
	sender, rest, ok := parseNumber(rest, '|', 7)
	if !ok {
		return delivery{}, chatMalformed
	}
	seq, rest, ok := parseNumber(rest, '|', 19)
	if !ok {
		return delivery{}, chatMalformed
	}
	sent, _, ok := parseNumber(rest, '"', 19)
	if !ok || sent > 1<<63-1 {
		return delivery{}, chatMalformed
	}
	d := delivery{sender: int(sender), seq: seq, sent: int64(sent)}
	if isHistory(pkt) {
		return d, chatHistory
	}
	return d, chatLive
}

// parseNumber reads 1 to maxDigits decimal digits followed by end, and
// returns their value and what follows end.
func parseNumber(b []byte, end byte, maxDigits int) (uint64, []byte, bool) {
	var v uint64
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9' && i < maxDigits:
			v = v*10 + uint64(c-'0')
		case c == end && i > 0:
			return v, b[i+1:], true
		default:
			return 0, nil, false
		}
	}
	return 0, nil, false
}

// isHistory reports whether pkt has "history" set to true, with optional
// spaces after the colon.
func isHistory(pkt []byte) bool {
	for {
		i := bytes.Index(pkt, historyKey)
		if i < 0 {
			return false
		}
		quoted := i > 0 && pkt[i-1] == '"'
		pkt = pkt[i+len(historyKey):]
		if quoted && bytes.HasPrefix(bytes.TrimLeft(pkt, " \t\r\n"), []byte("true")) {
			return true
		}
	}
}
