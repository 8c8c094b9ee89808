package chat

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// TestHistoryPage checks the bound of a history reply: the newest
// messages whose JSON fits in the budget, one at least, marked as history,
// oldest first, and whether older ones were left out; whatever the text
// (escapes take more than the characters they stand for).
func TestHistoryPage(t *testing.T) {
	texts := map[string]string{
		"cjk":     strings.Repeat("漢", 2000),                  // 6,000 bytes
		"escapes": strings.Repeat("\x01\"<", 600),             // each 1 byte, 6 or 2 as JSON
		"mixed":   strings.Repeat("a\u2028é\n", 400) + "\xff", // the last one invalid
	}
	for name, text := range texts {
		mk := func(n int) []store.Message {
			msgs := make([]store.Message, n)
			for i := range msgs {
				msgs[i] = store.Message{ID: int64(i + 1), Room: "r", Author: "a<b>", AuthorID: "u<1>", Text: text, ClientID: "u<1>|c1", Time: time.UnixMilli(1e12)}
			}
			return msgs
		}
		one := len(mustJSON(t, historyMessage(mk(1)[0])))
		if m := historyMessage(mk(1)[0]); m.UserID == "" || m.ClientID == "" {
			t.Fatalf("%+v: want every field set, so that the bound is checked on all", m)
		}
		for _, tc := range []struct {
			name     string
			n        int
			budget   int
			wantMore bool
		}{
			{"none", 0, 1000, false},
			{"all fit", 10, 1 << 20, false},
			{"some fit", 10, 4*one + 100, true},
			{"one at least", 10, 1, true},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				msgs := mk(tc.n)
				out, more := historyPage(msgs, tc.budget)
				if more != tc.wantMore {
					t.Errorf("more: %t, want %t", more, tc.wantMore)
				}
				if tc.n > 0 && len(out) == 0 {
					t.Fatal("no message at all")
				}
				want := make([]ChatMessage, 0, len(out))
				for _, m := range msgs[len(msgs)-len(out):] {
					want = append(want, historyMessage(m))
				}
				if !slices.Equal(out, want) {
					t.Errorf("got %d messages, not the newest %d as history, in order", len(out), len(out))
				}
				if size := len(mustJSON(t, out)); len(out) > 1 && size > tc.budget {
					t.Errorf("%d messages take %d bytes, over the budget of %d", len(out), size, tc.budget)
				}
			})
		}
	}
}

// mustJSON encodes v as an acknowledgement does (HTML characters as they
// are; encoding/json escapes them, which takes more).
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
