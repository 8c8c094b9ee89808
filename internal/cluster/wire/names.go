package wire

import (
	"strconv"
	"unicode/utf16"
)

// The defaults of @socket.io/redis-streams-adapter, which a cluster with
// Node.js nodes must share.
const (
	// DefaultStreamName is the name of the stream, or the prefix of the
	// names of the streams when there are several.
	DefaultStreamName = "socket.io"
	// DefaultChannelPrefix is the prefix of the PUB/SUB channels.
	DefaultChannelPrefix = "socket.io"
	// DefaultSessionKeyPrefix is the prefix of the keys of the sessions
	// kept for connection state recovery.
	DefaultSessionKeyPrefix = "sio:session:"
	// DefaultMaxLen is the length the stream is trimmed to, roughly
	// (XADD MAXLEN ~).
	DefaultMaxLen = 10_000
	// DefaultReadCount is the most entries one XREAD returns.
	DefaultReadCount = 100
)

// PublicChannel is the PUB/SUB channel on which every node of a namespace
// hears requests: prefix#nsp#.
func PublicChannel(prefix, nsp string) string { return prefix + "#" + nsp + "#" }

// PrivateChannel is the PUB/SUB channel on which node uid hears the
// responses to its requests in a namespace: prefix#nsp#uid#.
func PrivateChannel(prefix, nsp, uid string) string { return prefix + "#" + nsp + "#" + uid + "#" }

// StreamName is the stream of namespace nsp when there are count streams:
// name itself for one stream, else name-i, i being the namespace's hash
// modulo count, with JavaScript's signs ("socket.io--1" is one).
func StreamName(name string, count int, nsp string) string {
	if count <= 1 {
		return name
	}
	return name + "-" + strconv.Itoa(int(hashCode(nsp)%int32(count)))
}

// hashCode is Java's String.hashCode over UTF-16 code units, as the
// reference computes it in JavaScript.
func hashCode(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			h = h*31 + r1
			h = h*31 + r2
			continue
		}
		h = h*31 + r
	}
	return h
}

// SessionKey is the key of the session of private id pid.
func SessionKey(prefix, pid string) string { return prefix + pid }
