package chat

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// sequencer returns a chat and a room of it, as far as offerLocked needs
// them: a namespace with no sockets, and no gap timers (the chat is
// closing, so that no store is read).
func sequencer(tb testing.TB, last int64) (*Chat, *room) {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := socketio.NewServer(socketio.Config{Logger: log})
	c := &Chat{nsp: srv.Of("/"), log: log, stop: make(chan struct{})}
	close(c.stop)
	r := &room{name: "r", key: roomKey("r"), recent: newRecent(1000, 50, 1<<20, last, nil)}
	return c, r
}

func TestOfferOrders(t *testing.T) {
	tests := []struct {
		name      string
		last      int64
		offers    []int64
		delivered []int64 // in order
		held      []int64
		fresh     []bool
	}{
		{"in order", 0, []int64{1, 2, 3}, []int64{1, 2, 3}, nil, []bool{true, true, true}},
		{"crossed", 0, []int64{2, 1, 3}, []int64{1, 2, 3}, nil, []bool{true, true, true}},
		{"reversed", 4, []int64{8, 7, 6, 5}, []int64{5, 6, 7, 8}, nil, []bool{true, true, true, true}},
		{"twice", 0, []int64{1, 1, 3, 3, 2}, []int64{1, 2, 3}, nil, []bool{true, false, true, false, true}},
		{"old", 10, []int64{9, 10, 11}, []int64{11}, nil, []bool{false, false, true}},
		{"a gap left", 0, []int64{1, 3, 4}, []int64{1}, []int64{3, 4}, []bool{true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := sequencer(t, tt.last)
			var fresh []bool
			for _, id := range tt.offers {
				r.deliverMu.Lock()
				fresh = append(fresh, c.offerLocked(r, store.Message{Room: "r", ID: id, Text: fmt.Sprint(id)}, ""))
				r.deliverMu.Unlock()
			}
			msgs, _ := r.recent.span(r.recent.floor() + 1)
			var got []int64
			for _, m := range msgs {
				got = append(got, m.ID)
			}
			var held []int64
			for id := range r.pending {
				held = append(held, id)
			}
			slices.Sort(held)
			if !slices.Equal(got, tt.delivered) || !slices.Equal(held, tt.held) || !slices.Equal(fresh, tt.fresh) {
				t.Errorf("delivered %v, held %v, new %v; want %v, %v, %v", got, held, fresh, tt.delivered, tt.held, tt.fresh)
			}
		})
	}
}

// BenchmarkOffer measures the delivery of a message through the room's
// ordering to a room with no local sockets (its encoding, once, is most
// of it): one taken in order, as nearly all are, and a crossed pair (one
// op is two messages).
func BenchmarkOffer(b *testing.B) {
	for _, crossed := range []bool{false, true} {
		b.Run(fmt.Sprintf("crossed=%v", crossed), func(b *testing.B) {
			c, r := sequencer(b, 0)
			m := store.Message{Room: "r", Author: "Ann", AuthorID: "guest:x", Text: "hello there"}
			b.ReportAllocs()
			id := int64(0)
			for b.Loop() {
				r.deliverMu.Lock()
				if crossed {
					m.ID = id + 2
					c.offerLocked(r, m, "")
					m.ID = id + 1
					c.offerLocked(r, m, "")
					id += 2
				} else {
					id++
					m.ID = id
					c.offerLocked(r, m, "")
				}
				r.deliverMu.Unlock()
			}
		})
	}
}
