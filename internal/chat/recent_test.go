package chat

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// msg returns message id of a room, with text of size bytes.
func msg(id int64, size int) store.Message {
	return store.Message{Room: "r", ID: id, Author: "a", Text: strings.Repeat("x", size)}
}

// msgs returns messages from..to, each with text of size bytes.
func msgs(from, to int64, size int) []store.Message {
	var out []store.Message
	for id := from; id <= to; id++ {
		out = append(out, msg(id, size))
	}
	return out
}

// held returns the ids of the messages q holds, oldest first, checking
// q's bookkeeping on the way.
func (q *recent) held(t *testing.T) []int64 {
	t.Helper()
	var out []int64
	bytes := 0
	for i := range q.n {
		e := q.entry(i)
		out = append(out, e.m.ID)
		bytes += e.size()
	}
	if bytes != q.bytes {
		t.Errorf("bytes %d, but the messages held and their events make %d", q.bytes, bytes)
	}
	if q.n > 0 && out[q.n-1] != q.last {
		t.Errorf("newest held %d, last %d", out[q.n-1], q.last)
	}
	if !slices.Equal(out, idSpan(q.floor()+1, q.last)) {
		t.Errorf("holds %v, which is not floor+1..last = %d..%d", out, q.floor()+1, q.last)
	}
	return out
}

// idSpan returns the ids from..to, or nil when from > to.
func idSpan(from, to int64) []int64 {
	var out []int64
	for id := from; id <= to; id++ {
		out = append(out, id)
	}
	return out
}

func idsOf(ms []store.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func TestRecentBounds(t *testing.T) {
	small := messageSize(msg(1, 10))
	cases := []struct {
		name                  string
		limit, keep, maxBytes int
		lastID                int64
		fill                  []store.Message
		push                  []store.Message
		want                  []int64
		wantLast              int64
	}{
		{"empty room", 8, 4, 1 << 20, 0, nil, nil, nil, 0},
		{"fewer than the limit", 8, 4, 1 << 20, 3, msgs(1, 3, 10), nil, idSpan(1, 3), 3},
		{"filled past the limit", 8, 4, 1 << 20, 20, msgs(1, 20, 10), nil, idSpan(13, 20), 20},
		{"pushed past the limit", 8, 4, 1 << 20, 5, msgs(1, 5, 10), msgs(6, 30, 10), idSpan(23, 30), 30},
		{"bytes bound", 100, 2, 5 * small, 0, nil, msgs(1, 20, 10), idSpan(16, 20), 20},
		{"bytes bound keeps keep", 100, 4, small, 0, nil, msgs(1, 20, 10), idSpan(17, 20), 20},
		{"a long message keeps keep", 100, 3, 10 * small, 0, nil,
			append(msgs(1, 9, 10), msg(10, 8000), msg(11, 10), msg(12, 10)), idSpan(10, 12), 12},
		{"a gap starts afresh", 8, 4, 1 << 20, 5, msgs(1, 5, 10), append(msgs(6, 7, 10), msgs(10, 11, 10)...), idSpan(10, 11), 11},
		{"a gap in the fill", 8, 4, 1 << 20, 9, append(msgs(1, 3, 10), msgs(7, 9, 10)...), nil, idSpan(7, 9), 9},
		{"room's last id beyond the fill", 8, 4, 1 << 20, 12, msgs(1, 3, 10), nil, nil, 12},
		{"empty fill of a room with messages", 8, 4, 1 << 20, 12, nil, msgs(13, 14, 10), idSpan(13, 14), 14},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := newRecent(tc.limit, tc.keep, tc.maxBytes, tc.lastID, tc.fill)
			for _, m := range tc.push {
				q.push(m)
			}
			if got := q.held(t); !slices.Equal(got, tc.want) || q.last != tc.wantLast {
				t.Errorf("holds %v, last %d; want %v, last %d", got, q.last, tc.want, tc.wantLast)
			}
			if q.n > 0 && len(q.buf) > tc.limit {
				t.Errorf("buffer of %d for a limit of %d", len(q.buf), tc.limit)
			}
		})
	}
}

// TestRecentWraps pushes through many laps of the ring, checking it after
// each push.
func TestRecentWraps(t *testing.T) {
	q := newRecent(7, 3, 1<<20, 0, nil)
	for id := int64(1); id <= 100; id++ {
		q.push(msg(id, int(id%5)))
		if got, want := q.held(t), idSpan(max(1, id-6), id); !slices.Equal(got, want) {
			t.Fatalf("after %d: holds %v, want %v", id, got, want)
		}
	}
}

// TestRecentLetsGo checks that what the ring forgets, it lets go of: the
// slots it does not use hold no message.
func TestRecentLetsGo(t *testing.T) {
	unused := func(q *recent) {
		t.Helper()
		for i := q.n; i < len(q.buf); i++ {
			if e := q.buf[(q.head+i)%len(q.buf)]; e != (recentEntry{}) {
				t.Errorf("unused slot %d holds message %d", i, e.m.ID)
			}
		}
	}
	// The bytes bound holds it at 4 messages, in a buffer of 8.
	q := newRecent(16, 2, 4*messageSize(msg(1, 10)), 0, nil)
	for id := int64(1); id <= 40; id++ {
		q.push(msg(id, 10))
	}
	if got := q.held(t); !slices.Equal(got, idSpan(37, 40)) || len(q.buf) != 8 {
		t.Fatalf("holds %v in a buffer of %d; want 37..40 in 8", got, len(q.buf))
	}
	unused(q)
	// A gap empties it.
	q.push(msg(50, 10))
	if got := q.held(t); !slices.Equal(got, []int64{50}) {
		t.Fatalf("after a gap holds %v, want [50]", got)
	}
	unused(q)
}

func TestRecentSpan(t *testing.T) {
	// The ring holds 41..60 of a room whose ids start at 1.
	ring := func() *recent { return newRecent(20, 10, 1<<20, 60, msgs(1, 60, 10)) }
	cases := []struct {
		name   string
		from   int64
		want   []int64
		wantOK bool
	}{
		{"all in the ring", 45, idSpan(45, 60), true},
		{"the whole ring", 41, idSpan(41, 60), true},
		{"the newest", 60, []int64{60}, true},
		{"nothing newer", 61, nil, true},
		{"from 0 is from 1", 0, nil, false},
		{"older", 40, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := ring()
			got, ok := q.span(tc.from)
			if ok != tc.wantOK || !slices.Equal(idsOf(got), tc.want) {
				t.Errorf("span(%d) = %v, %t; want %v, %t", tc.from, idsOf(got), ok, tc.want, tc.wantOK)
			}
			if len(got) > 0 {
				got[0].ID = -1 // a copy: the ring keeps its own
				if again, _ := q.span(tc.from); again[0].ID != tc.from {
					t.Errorf("changing what span returned changed the ring")
				}
			}
		})
	}
}

// eventIDs returns the message ids of history events, checking that each
// is a chat-message marked as history.
func eventIDs(t *testing.T, events []*socketio.PreparedEvent) []int64 {
	t.Helper()
	var out []int64
	for _, pe := range events {
		var got struct {
			ID      int64
			Room    string
			Message string
			History bool
		}
		frames := pe.Frames()
		if len(frames) != 1 {
			t.Fatalf("history event of %d frames", len(frames))
		}
		text := string(frames[0].Data)
		args, ok := strings.CutPrefix(text, `2["chat-message",`)
		if !ok || json.Unmarshal([]byte(strings.TrimSuffix(args, "]")), &got) != nil || !got.History || got.Room != "r" {
			t.Fatalf("history event %q", text)
		}
		out = append(out, got.ID)
	}
	return out
}

func TestRecentEvents(t *testing.T) {
	nsp := socketio.NewServer(socketio.Config{}).Of("/")
	// The ring holds 41..60 of a room whose ids start at 1.
	ring := func() *recent { return newRecent(20, 10, 1<<20, 60, msgs(1, 60, 10)) }
	cases := []struct {
		name   string
		from   int64
		want   []int64
		wantOK bool
	}{
		{"all in the ring", 45, idSpan(45, 60), true},
		{"the whole ring", 41, idSpan(41, 60), true},
		{"the newest", 60, []int64{60}, true},
		{"nothing newer", 61, nil, true},
		{"from 0 is from 1", 0, nil, false},
		{"older", 40, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := ring()
			got, ok, err := q.events(tc.from, nsp)
			if err != nil || ok != tc.wantOK || !slices.Equal(eventIDs(t, got), tc.want) {
				t.Errorf("events(%d) = %v, %t, %v; want %v, %t", tc.from, eventIDs(t, got), ok, err, tc.want, tc.wantOK)
			}
			q.held(t) // the events' bytes are counted
			again, _, _ := q.events(tc.from, nsp)
			for i := range got {
				if again[i] != got[i] {
					t.Errorf("event %d encoded again", i)
				}
			}
		})
	}
}

// TestRecentEventsBounded checks that the events encoded count against
// the ring's bytes, and go with their messages.
func TestRecentEventsBounded(t *testing.T) {
	nsp := socketio.NewServer(socketio.Config{}).Of("/")
	q := newRecent(100, 2, 1<<20, 10, msgs(1, 10, 100))
	bare := q.bytes
	if _, ok, err := q.events(5, nsp); !ok || err != nil {
		t.Fatalf("events(5): %t, %v", ok, err)
	}
	if q.held(t); q.bytes <= bare+6*100 {
		t.Errorf("bytes %d with 6 events of 100 bytes of text, %d without", q.bytes, bare)
	}
	// Twice the bytes of the messages alone hold, now that half of them
	// have their event: pushing drops the oldest until they fit.
	q.maxBytes = bare
	q.push(msg(11, 100))
	if got := q.held(t); len(got) >= 10 || q.bytes > bare {
		t.Errorf("holds %v (%d bytes, bound %d)", got, q.bytes, bare)
	}
	for i := range q.n {
		if e := q.entry(i); e.m.ID < 5 && e.history != nil {
			t.Errorf("message %d has an event it was never sent as", e.m.ID)
		}
	}
}

func TestHistoryFrom(t *testing.T) {
	c := &Chat{cfg: Config{}.withDefaults()}
	cases := []struct {
		last, since, want int64
	}{
		{0, 0, 1},
		{10, 0, 1},
		{50, 0, 1},
		{75, 0, 26},
		{75, -3, 26},
		{75, 7, 8},
		{75, 74, 75},
		{75, 75, 76},
		{75, 1000, 1001},
		{1000, 500, 501},
		{1000, 499, 501},
		{1000, 1, 501},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("last=%d/since=%d", tc.last, tc.since), func(t *testing.T) {
			if got := c.historyFrom(tc.last, tc.since); got != tc.want {
				t.Errorf("historyFrom(%d, %d) = %d, want %d", tc.last, tc.since, got, tc.want)
			}
		})
	}
}

func TestConfigRecentDefaults(t *testing.T) {
	cases := []struct {
		name      string
		cfg       Config
		wantCount int
		wantBytes int
	}{
		{"defaults", Config{}, DefaultRecentMessages, DefaultRecentBytes},
		{"set", Config{RecentMessages: 100, RecentBytes: 1000}, 100, 1000},
		{"fewer than the history", Config{RecentMessages: 10}, DefaultHistoryLimit, DefaultRecentBytes},
		{"a long history", Config{HistoryLimit: 400}, 400, DefaultRecentBytes},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cfg.withDefaults()
			if got.RecentMessages != tc.wantCount || got.RecentBytes != tc.wantBytes {
				t.Errorf("RecentMessages %d, RecentBytes %d; want %d, %d", got.RecentMessages, got.RecentBytes, tc.wantCount, tc.wantBytes)
			}
		})
	}
}
