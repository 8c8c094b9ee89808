package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

func testClientIDSameBatch(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	in := []store.Message{
		{Room: "r", Author: "ann", Text: "first", ClientID: "x"},
		{Room: "r", Author: "ann", Text: "retry", ClientID: "x"},
		{Room: "r", Author: "bob", Text: "no id"},
		{Room: "r", Author: "bob", Text: "no id again"},
		{Room: "q", Author: "ann", Text: "same id, other room", ClientID: "x"},
		{Room: "r", Author: "ann", Text: "third copy", ClientID: "x"},
	}
	got := mustAppend(t, s, in...)
	checkIDs(t, "batch", got, []int64{1, 1, 2, 3, 1, 1})
	sameMessage(t, "retry", got[1], got[0])
	sameMessage(t, "third copy", got[5], got[0])
	if got[0].Text != "first" || got[0].ClientID != "x" {
		t.Errorf("stored %+v, want the first text and client id x", got[0])
	}
	h, err := s.History(Context(t), "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "history", h, span(1, 3))
	if r := room(t, s, "r"); r.LastID != 3 {
		t.Errorf("LastID %d, want 3: duplicates must not use IDs", r.LastID)
	}
	// The next message takes the next ID: no gap left by the duplicates.
	checkIDs(t, "next", mustAppend(t, s, msg("r", "next")), []int64{4})
}

func testClientIDAcrossBatches(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	first := mustAppend(t, s, store.Message{Room: "r", Author: "ann", Text: "hello", ClientID: "c-1"})[0]
	mustAppend(t, s, msg("r", "between"))
	retry := store.Message{Room: "r", Author: "ann", Text: "hello, edited", ClientID: "c-1",
		Time: time.Now().Add(time.Hour)}
	got := mustAppend(t, s, msg("r", "new"), retry, store.Message{Room: "r", Text: "other", ClientID: "c-2"})
	checkIDs(t, "batch", got, []int64{3, 1, 4})
	sameMessage(t, "retry returns the stored message", got[1], first)
	h, err := s.Since(Context(t), "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "stored", h, span(1, 4))
	sameMessage(t, "stored first", h[0], first)
	if h[3].ClientID != "c-2" {
		t.Errorf("ClientID read back %q, want c-2", h[3].ClientID)
	}
}

// testConcurrentRetries sends the same ClientIDs from many goroutines at
// once, as a client retrying through several connections might: each is
// stored once, and every caller gets the stored message.
func testConcurrentRetries(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	const (
		goroutines = 8
		clientIDs  = 5
	)
	results := make([][]store.Message, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var msgs []store.Message
			for i := range clientIDs {
				// Each goroutine sends the ids in another order, with
				// another text: the first stored wins.
				k := (i + g) % clientIDs
				msgs = append(msgs, store.Message{Room: "r", Author: fmt.Sprint("g", g), Text: fmt.Sprint("try ", g),
					ClientID: fmt.Sprint("cid-", k)})
			}
			got, err := s.Append(Context(t), msgs)
			if err != nil {
				t.Errorf("goroutine %d: Append: %v", g, err)
				return
			}
			slices.SortFunc(got, func(a, b store.Message) int { return strings.Compare(a.ClientID, b.ClientID) })
			results[g] = got
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for g := 1; g < goroutines; g++ {
		for i := range results[g] {
			sameMessage(t, fmt.Sprintf("goroutine %d, %s", g, results[g][i].ClientID), results[g][i], results[0][i])
		}
	}
	stored, err := s.Since(Context(t), "r", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "stored", stored, span(1, clientIDs))
}
