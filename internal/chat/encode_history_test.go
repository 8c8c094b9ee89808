package chat

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// TestEncodeHistory checks the bound of a history reply: the newest
// messages that fit in the budget, one at least, each encoded as a
// ChatMessage marked as history, oldest first, and whether older ones
// were left out.
func TestEncodeHistory(t *testing.T) {
	long := strings.Repeat("漢", 2000) // 6,000 bytes
	mk := func(n int, text string) []store.Message {
		msgs := make([]store.Message, n)
		for i := range msgs {
			msgs[i] = store.Message{ID: int64(i + 11), Room: "r", Author: "a", Text: text, Time: time.UnixMilli(1e12)} // ids of one size
		}
		return msgs
	}
	one := len(mustEncode(t, mk(1, long)[0])) + 1 // with the encoder's newline
	cases := []struct {
		name     string
		msgs     []store.Message
		budget   int
		wantFrom int64 // the oldest id kept
		wantMore bool
	}{
		{"none", nil, 1000, 0, false},
		{"all fit", mk(10, "hi <b>&"), 1 << 20, 11, false},
		{"the newest that fit", mk(10, long), 3 * one, 18, true},
		{"just under", mk(10, long), 3*one - 1, 19, true},
		{"one at least", mk(10, long), 1, 20, true},
		{"exactly all", mk(4, long), 4 * one, 11, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, more, err := encodeHistory(tc.msgs, tc.budget)
			if err != nil {
				t.Fatal(err)
			}
			if more != tc.wantMore {
				t.Errorf("more: %t, want %t", more, tc.wantMore)
			}
			var want []json.RawMessage
			for _, m := range tc.msgs {
				if m.ID >= tc.wantFrom {
					want = append(want, mustEncode(t, m))
				}
			}
			if got, want := fmt.Sprintf("%s", out), fmt.Sprintf("%s", want); got != want {
				t.Errorf("got %.200s, want %.200s", got, want)
			}
		})
	}
}

// mustEncode returns m as history encodes it: a ChatMessage marked as
// history, HTML characters as they are.
func mustEncode(t *testing.T, m store.Message) json.RawMessage {
	t.Helper()
	w := wireMessage(m)
	w.History = true
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		t.Fatal(err)
	}
	return json.RawMessage(strings.TrimSuffix(b.String(), "\n"))
}
