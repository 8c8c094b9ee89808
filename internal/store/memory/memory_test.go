package memory_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/memory"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/test/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// factory makes an empty history that each open shares.
func factory(testing.TB) func() store.Store { return memory.Opener(memory.Config{}) }

func TestStore(t *testing.T) { storetest.Run(t, factory) }

func BenchmarkStore(b *testing.B) { storetest.Bench(b, factory) }

// newStore returns a Store keeping limit messages a room, closed at the end
// of the test.
func newStore(t *testing.T, limit int) *memory.Store {
	t.Helper()
	s := memory.New(memory.Config{MaxMessages: limit})
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// appendTexts appends one message per text to room, in one call, and
// returns the IDs given.
func appendTexts(t *testing.T, s store.Store, room string, texts ...string) []int64 {
	t.Helper()
	var in []store.Message
	for _, text := range texts {
		in = append(in, store.Message{Room: room, Author: "ann", Text: text})
	}
	return appendMsgs(t, s, in...)
}

// appendMsgs appends msgs in one call and returns the IDs given.
func appendMsgs(t *testing.T, s store.Store, msgs ...store.Message) []int64 {
	t.Helper()
	got, err := s.Append(storetest.Context(t), msgs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return ids(got)
}

// ids returns the IDs of msgs.
func ids(msgs []store.Message) []int64 {
	out := []int64{}
	for _, m := range msgs {
		out = append(out, m.ID)
	}
	return out
}

// span returns the IDs from lo to hi.
func span(lo, hi int64) []int64 {
	out := []int64{}
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

// TestMaxMessages checks every page of History and Since against a model
// of a room that keeps its newest 5 messages, as the ring buffer fills,
// wraps and wraps again, filled one message or several at a time.
func TestMaxMessages(t *testing.T) {
	const limit = 5
	for _, batch := range []int{1, 3, 2 * limit} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			s := newStore(t, limit)
			var last int64
			for last < 4*limit {
				var texts []string
				for i := range batch {
					texts = append(texts, fmt.Sprint("m", last+int64(i)+1))
				}
				if got, want := appendTexts(t, s, "r", texts...), span(last+1, last+int64(batch)); !slices.Equal(got, want) {
					t.Fatalf("Append gave IDs %v, want %v", got, want)
				}
				last += int64(batch)
				checkPages(t, s, "r", max(1, last-limit+1), last)
			}
			rooms, err := s.Rooms(storetest.Context(t))
			if err != nil || len(rooms) != 1 || rooms[0].LastID != last {
				t.Errorf("Rooms: %+v, %v; want r with LastID %d", rooms, err, last)
			}
		})
	}
}

// checkPages checks every History and Since of room, which keeps the
// messages first to last, around that range.
func checkPages(t *testing.T, s store.Store, room string, first, last int64) {
	t.Helper()
	for limit := 0; limit <= int(last-first)+3; limit++ {
		for before := int64(-1); before <= last+2; before++ {
			got, err := s.History(storetest.Context(t), room, before, limit)
			if err != nil {
				t.Fatal(err)
			}
			hi := last
			if before > 0 {
				hi = min(last, before-1)
			}
			want := span(max(first, hi-int64(limit)+1), hi)
			if !slices.Equal(ids(got), want) {
				t.Fatalf("kept %d-%d: History(before %d, limit %d) = %v, want %v", first, last, before, limit, ids(got), want)
			}
			for _, m := range got {
				if m.Room != room || m.Text != fmt.Sprint("m", m.ID) {
					t.Fatalf("History(before %d, limit %d): message %+v", before, limit, m)
				}
			}
		}
		for after := int64(-1); after <= last+2; after++ {
			got, err := s.Since(storetest.Context(t), room, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			lo := max(first, after+1)
			want := span(lo, min(last, lo+int64(limit)-1))
			if !slices.Equal(ids(got), want) {
				t.Fatalf("kept %d-%d: Since(after %d, limit %d) = %v, want %v", first, last, after, limit, ids(got), want)
			}
		}
	}
}

// TestClientIDDropped checks that a ClientID is known while its message is
// kept, and stored again after.
func TestClientIDDropped(t *testing.T) {
	tests := []struct {
		name string
		in   [][]store.Message // one Append each
		want [][]int64
	}{
		{
			name: "retry while kept",
			in: [][]store.Message{
				{{Room: "r", Text: "a", ClientID: "x"}, {Room: "r", Text: "b"}, {Room: "r", Text: "c"}},
				{{Room: "r", Text: "a again", ClientID: "x"}},
			},
			want: [][]int64{{1, 2, 3}, {1}},
		},
		{
			name: "retry after the message was dropped",
			in: [][]store.Message{
				{{Room: "r", Text: "a", ClientID: "x"}},
				{{Room: "r", Text: "b"}, {Room: "r", Text: "c"}, {Room: "r", Text: "d"}},
				{{Room: "r", Text: "a again", ClientID: "x"}, {Room: "r", Text: "a thrice", ClientID: "x"}},
			},
			want: [][]int64{{1}, {2, 3, 4}, {5, 5}},
		},
		{
			name: "dropped within the batch",
			in: [][]store.Message{{
				{Room: "r", Text: "a", ClientID: "x"}, {Room: "r", Text: "a", ClientID: "x"},
				{Room: "r", Text: "b"}, {Room: "r", Text: "c"}, {Room: "r", Text: "d"},
				{Room: "r", Text: "a again", ClientID: "x"},
			}},
			want: [][]int64{{1, 1, 2, 3, 4, 5}},
		},
		{
			name: "other room",
			in: [][]store.Message{
				{{Room: "r", Text: "a", ClientID: "x"}, {Room: "q", Text: "a", ClientID: "x"}},
				{{Room: "q", Text: "b"}, {Room: "q", Text: "c"}, {Room: "q", Text: "d"}},
				{{Room: "r", Text: "a", ClientID: "x"}, {Room: "q", Text: "a", ClientID: "x"}},
			},
			want: [][]int64{{1, 1}, {2, 3, 4}, {1, 5}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, 3)
			for i, in := range tc.in {
				if got := appendMsgs(t, s, in...); !slices.Equal(got, tc.want[i]) {
					t.Errorf("Append %d: IDs %v, want %v", i, got, tc.want[i])
				}
			}
		})
	}
}

// TestDefaultMaxMessages checks that the zero Config keeps
// DefaultMaxMessages a room.
func TestDefaultMaxMessages(t *testing.T) {
	s := newStore(t, 0)
	texts := make([]string, memory.DefaultMaxMessages+1)
	appendTexts(t, s, "r", texts...)
	got, err := s.Since(storetest.Context(t), "r", 0, 1)
	if err != nil || len(got) != 1 || got[0].ID != 2 {
		t.Errorf("Since(0, 1) = %v, %v; want message 2", ids(got), err)
	}
}

// TestConcurrentDrops runs appends of several rooms, which drop old
// messages and repeat ClientIDs, against readers: every read is a run of
// consecutive IDs no longer than the room keeps, and the rooms end with
// their newest messages kept.
func TestConcurrentDrops(t *testing.T) {
	const (
		limit   = 4
		writers = 8
		batches = 50
	)
	s := newStore(t, limit)
	rooms := []string{"a", "b", "c"}
	consecutive := func(what string, msgs []store.Message) {
		t.Helper()
		if len(msgs) > limit {
			t.Errorf("%s: %d messages, more than the %d kept", what, len(msgs), limit)
		}
		for i := 1; i < len(msgs); i++ {
			if msgs[i].ID != msgs[i-1].ID+1 {
				t.Errorf("%s: IDs %v not consecutive", what, ids(msgs))
				return
			}
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			room := rooms[i%len(rooms)]
			for {
				select {
				case <-done:
					return
				default:
				}
				h, err := s.History(storetest.Context(t), room, 0, limit+1)
				if err != nil {
					t.Error(err)
					return
				}
				consecutive("History", h)
				since, err := s.Since(storetest.Context(t), room, 0, limit+1)
				if err != nil {
					t.Error(err)
					return
				}
				consecutive("Since", since)
				if _, err := s.Rooms(storetest.Context(t)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var writing sync.WaitGroup
	for w := range writers {
		writing.Go(func() {
			for b := range batches {
				var msgs []store.Message
				for i := range 1 + (w+b)%4 {
					msgs = append(msgs, store.Message{Room: rooms[(w+b+i)%len(rooms)], Text: fmt.Sprint(w, b, i),
						ClientID: fmt.Sprint(w, "-", b%7, "-", i)})
				}
				if _, err := s.Append(storetest.Context(t), msgs); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writing.Wait()
	close(done)
	wg.Wait()
	all, err := s.Rooms(storetest.Context(t))
	if err != nil || len(all) != len(rooms) {
		t.Fatalf("Rooms: %+v, %v", all, err)
	}
	for _, r := range all {
		h, err := s.History(storetest.Context(t), r.Name, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if want := span(r.LastID-limit+1, r.LastID); !slices.Equal(ids(h), want) {
			t.Errorf("room %s keeps %v, want %v", r.Name, ids(h), want)
		}
	}
}

// BenchmarkHistory measures reads of a room that keeps DefaultMaxMessages
// messages (its buffer wrapped), 50 messages a call as the chat sends on
// join: ns/op, B/op and allocs/op are per call.
func BenchmarkHistory(b *testing.B) {
	s := memory.New(memory.Config{})
	b.Cleanup(func() { s.Close() })
	benchHistory(b, s, memory.DefaultMaxMessages*3/2)
}

// benchHistory fills a room of s with n messages and measures History and
// Since: the latest page, a page anywhere in what is kept, and the latest
// page read by parallel readers.
func benchHistory(b *testing.B, s store.Store, n int) {
	const (
		room  = "room"
		limit = 50
		batch = 1000
	)
	ctx := context.Background()
	for i := 0; i < n; i += batch {
		msgs := make([]store.Message, min(batch, n-i))
		for j := range msgs {
			msgs[j] = store.Message{Room: room, Author: "user-1", Text: "a typical chat message, about sixty bytes long, no more."}
		}
		if _, err := s.Append(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	// The pages below start in the newest half, which every backend keeps.
	last := int64(n)
	page := func(i int64) int64 { return last - i%(last/2) }
	check := func(b *testing.B, msgs []store.Message, err error) {
		if err != nil || len(msgs) != limit {
			b.Errorf("read %d messages, %v; want %d", len(msgs), err, limit)
		}
	}
	b.Run(fmt.Sprintf("History/latest/limit=%d", limit), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			msgs, err := s.History(ctx, room, 0, limit)
			check(b, msgs, err)
		}
	})
	b.Run(fmt.Sprintf("History/page/limit=%d", limit), func(b *testing.B) {
		b.ReportAllocs()
		var i int64
		for b.Loop() {
			msgs, err := s.History(ctx, room, page(i), limit)
			check(b, msgs, err)
			i++
		}
	})
	b.Run(fmt.Sprintf("Since/page/limit=%d", limit), func(b *testing.B) {
		b.ReportAllocs()
		var i int64
		for b.Loop() {
			msgs, err := s.Since(ctx, room, page(i)-limit-1, limit)
			check(b, msgs, err)
			i++
		}
	})
	b.Run(fmt.Sprintf("History/latest-parallel/limit=%d", limit), func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				msgs, err := s.History(ctx, room, 0, limit)
				check(b, msgs, err)
			}
		})
	})
}

// TestConstantPerStart checks that every new Store has constants of its
// own, as a new process would: a page sees a new store epoch after a
// restart of a memory store. (Opener's stores share one history, as the
// stores of one database do.)
func TestConstantPerStart(t *testing.T) {
	for i, init := range []string{"epoch of the first start", "epoch of the second start"} {
		s := newStore(t, 0)
		got, err := s.Constant(storetest.Context(t), "epoch", []byte(init))
		if err != nil || string(got) != init {
			t.Errorf("start %d: Constant = %q, %v; want %q", i, got, err, init)
		}
	}
}
