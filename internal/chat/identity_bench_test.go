package chat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/names"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/memory"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// BenchmarkGuestClaim measures what new-user does for a guest besides the
// network and the rooms: normalise the name, make its key and the
// identity's id, and claim the name in the store, for a new guest (a new
// token, a new name) and for one coming back (the name is theirs).
func BenchmarkGuestClaim(b *testing.B) {
	stores := map[string]func(b *testing.B) store.Store{
		"memory": func(b *testing.B) store.Store { return memory.New(memory.Config{}) },
		"sqlite": func(b *testing.B) store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "chat.db"))
			if err != nil {
				b.Fatal(err)
			}
			return st
		},
	}
	for _, backend := range []string{"memory", "sqlite"} {
		for _, returning := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/returning=%v", backend, returning), func(b *testing.B) {
				st := stores[backend](b)
				b.Cleanup(func() { _ = st.Close() })
				log := slog.New(slog.NewTextHandler(io.Discard, nil))
				c, err := New(Config{Store: st, Logger: log}, socketio.NewServer(socketio.Config{Logger: log}).Of("/"))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = c.Close() })
				token, err := c.tokens.Mint()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					name := "Ｇuest Benchmark"
					if !returning {
						i++
						name = fmt.Sprintf("guest %d", i)
						if token, err = c.tokens.Mint(); err != nil {
							b.Fatal(err)
						}
					}
					n, err := names.Normalize(name, DefaultMaxNameLength)
					if err != nil {
						b.Fatal(err)
					}
					w := who{id: guestID(token), name: n, key: names.Key(n), token: token}
					held, err := c.claim(w, time.Now())
					if err != nil || held.ID != w.id || !c.tokens.Matches(token, held.Secret) {
						b.Fatalf("claim: %v, held by %q", err, held.ID)
					}
				}
			})
		}
	}
}
