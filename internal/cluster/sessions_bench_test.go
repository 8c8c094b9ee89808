package cluster

import (
	"testing"

	"github.com/parley-chat/parley/internal/socketio"
)

// BenchmarkEncodeSession measures the encoding of a live socket's session
// for its SET: a chat socket in three rooms, with a little data.
func BenchmarkEncodeSession(b *testing.B) {
	s := &socketio.SessionState{
		SID: "Xk2vM9qLp0aZbC3dE4fG", PID: "p1k2vM9qLp0aZbC3dE4f",
		Rooms: []string{"Xk2vM9qLp0aZbC3dE4fG", "room:general", "room:random", "user:42"},
		Data:  map[string]any{"userId": "u-42", "name": "zoë"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeSession(s, "0123456789abcdef.1"); err != nil {
			b.Fatal(err)
		}
	}
}
