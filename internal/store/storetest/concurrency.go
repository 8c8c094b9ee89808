package storetest

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/store"
)

func testConcurrentAppends(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	const (
		writers = 16
		batches = 8
	)
	rooms := []string{"a", "b", "c"}
	var (
		mu   sync.Mutex
		seen = map[string][]int64{}
		wg   sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				var msgs []store.Message
				for i := range 1 + (w+b)%3 {
					msgs = append(msgs, msg(rooms[(w+b+i)%len(rooms)], fmt.Sprintf("w%d b%d m%d", w, b, i)))
				}
				got, err := s.Append(Context(t), msgs)
				if err != nil {
					t.Errorf("writer %d: Append: %v", w, err)
					return
				}
				mu.Lock()
				for i, m := range got {
					if m.Text != msgs[i].Text || m.Room != msgs[i].Room {
						t.Errorf("Append returned %+v for %+v", m, msgs[i])
					}
					seen[m.Room] = append(seen[m.Room], m.ID)
				}
				mu.Unlock()
				// IDs in one batch increase with the batch's order.
				for i := range got {
					for j := i + 1; j < len(got); j++ {
						if got[i].Room == got[j].Room && got[i].ID >= got[j].ID {
							t.Errorf("batch IDs out of order: %v", got)
						}
					}
				}
			}
		})
	}
	wg.Wait()
	for _, r := range rooms {
		got := slices.Clone(seen[r])
		slices.Sort(got)
		want := span(1, int64(len(got)))
		if !slices.Equal(got, want) {
			t.Errorf("room %s: IDs returned %v, want 1..%d with none twice", r, got, len(got))
		}
		stored, err := s.Since(Context(t), r, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, "room "+r+" stored", stored, want)
		if rm := room(t, s, r); rm.LastID != int64(len(got)) {
			t.Errorf("room %s LastID %d, want %d", r, rm.LastID, len(got))
		}
	}
}

// testCommitter runs the group committer against the backend: concurrent
// submitters, callbacks in ID order per room, everything stored.
func testCommitter(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	c := store.NewCommitter(s, store.CommitterConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	const (
		submitters = 16
		each       = 25
	)
	var (
		mu      sync.Mutex
		order   = map[string][]int64{}
		wg      sync.WaitGroup
		pending sync.WaitGroup
	)
	for g := range submitters {
		wg.Go(func() {
			for i := range each {
				m := store.Message{Room: fmt.Sprintf("room%d", (g+i)%3), Author: "ann", Text: fmt.Sprintf("g%d m%d", g, i),
					ClientID: fmt.Sprintf("g%d-m%d", g, i)}
				pending.Add(1)
				c.Submit(m, func(got store.Message, err error) {
					defer pending.Done()
					if err != nil {
						t.Errorf("Submit %q: %v", m.Text, err)
						return
					}
					mu.Lock()
					order[got.Room] = append(order[got.Room], got.ID)
					mu.Unlock()
				})
			}
		})
	}
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Fatalf("Committer.Close: %v", err)
	}
	pending.Wait()
	total := 0
	for r, got := range order {
		total += len(got)
		if want := span(1, int64(len(got))); !slices.Equal(got, want) {
			t.Errorf("room %s: callbacks in ID order %v, want %v", r, got, want)
		}
		stored, err := s.Since(Context(t), r, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, "stored in "+r, stored, span(1, int64(len(got))))
	}
	if total != submitters*each {
		t.Errorf("%d messages reported, want %d", total, submitters*each)
	}
}
