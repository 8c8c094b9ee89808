package chat_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/test/wait"
)

// countingStore counts the calls that write identities: claims, and
// records of them as seen.
type countingStore struct {
	store.Store

	mu      sync.Mutex
	claims  []string   // ClaimName's ids
	seen    []string   // SeenIdentity's ids
	seenAll [][]string // SeenIdentities' lists
}

func (s *countingStore) ClaimName(ctx context.Context, c store.Claim) (store.Identity, error) {
	s.mu.Lock()
	s.claims = append(s.claims, c.ID)
	s.mu.Unlock()
	return s.Store.ClaimName(ctx, c)
}

func (s *countingStore) SeenIdentity(ctx context.Context, id string, at time.Time) error {
	s.mu.Lock()
	s.seen = append(s.seen, id)
	s.mu.Unlock()
	return s.Store.SeenIdentity(ctx, id, at)
}

func (s *countingStore) SeenIdentities(ctx context.Context, ids []string, at time.Time) error {
	s.mu.Lock()
	s.seenAll = append(s.seenAll, slices.Clone(ids))
	s.mu.Unlock()
	return s.Store.SeenIdentities(ctx, ids, at)
}

// writes returns what was recorded so far, and forgets it.
func (s *countingStore) writes() (claims, seen []string, seenAll [][]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	claims, seen, seenAll = s.claims, s.seen, s.seenAll
	s.claims, s.seen, s.seenAll = nil, nil, nil
	return claims, seen, seenAll
}

// TestRestartCostsNoWritePerPerson checks what the store writes as
// people join, the server stops and they come back: a join is one claim
// (no SeenIdentity after it), the stop records everyone online in one
// SeenIdentities, and a return writes nothing, not even a claim; only a
// return seen long ago is recorded again.
func TestRestartCostsNoWritePerPerson(t *testing.T) {
	t.Parallel()
	st := &countingStore{Store: openStore(t, filepath.Join(t.TempDir(), "chat.db"))}
	cfg := chat.Config{NameReserve: 4 * time.Second}
	url, stop := startOn(t, st, cfg)
	var people []*person
	for i := range 5 {
		people = append(people, joinAt(t, url, fmt.Sprint("P", i), ""))
	}
	if claims, seen, all := st.writes(); len(claims) != len(people) || len(seen) != 0 || len(all) != 0 {
		t.Errorf("joins made %d claims, recorded %q seen and %q: want %d claims, no write after them", len(claims), seen, all, len(people))
	}
	stop()
	_, seen, all := st.writes()
	if len(seen) != 0 || len(all) != 1 || len(all[0]) != len(people) {
		t.Fatalf("the stop recorded %q one by one and %q together: want all %d in one", seen, all, len(people))
	}
	for i, p := range people {
		if !slices.Contains(all[0], p.id) {
			t.Errorf("P%d (%s) not recorded at the stop", i, p.id)
		}
	}

	url, _ = startOn(t, st, cfg)
	back := joinAt(t, url, "P0", people[0].token)
	if back.id != people[0].id {
		t.Fatalf("P0 came back as %q, was %q", back.id, people[0].id)
	}
	if claims, seen, all := st.writes(); len(claims) != 0 || len(seen) != 0 || len(all) != 0 {
		t.Errorf("a return claimed %q, recorded %q and %q: want no write", claims, seen, all)
	}
	// Seen last more than a quarter of the reserve ago: recorded again.
	stopped := time.Now()
	wait.For(t, "a quarter of the reserve to pass", 5*time.Second, func() bool { return time.Since(stopped) > cfg.NameReserve/4 })
	late := joinAt(t, url, "P1", people[1].token)
	if late.id != people[1].id {
		t.Fatalf("P1 came back as %q, was %q", late.id, people[1].id)
	}
	if claims, seen, _ := st.writes(); len(claims) != 0 || !slices.Equal(seen, []string{people[1].id}) {
		t.Errorf("a return seen long ago claimed %q, recorded %q; want no claim, %q recorded", claims, seen, people[1].id)
	}
}

// TestReturnsAreNotLimitedPerAddress restarts a chat whose people all
// come from one address, under a new-user limit smaller than their
// number: everyone comes back with their token, and the limit still
// counts new names, and new claims by a returning identity.
func TestReturnsAreNotLimitedPerAddress(t *testing.T) {
	t.Parallel()
	st := openStore(t, filepath.Join(t.TempDir(), "chat.db"))
	url, stop := startOn(t, st, chat.Config{ExemptAddress: noExempt})
	const n = 12
	var people []*person
	for i := range n {
		people = append(people, joinAt(t, url, fmt.Sprint("P", i), ""))
	}
	stop()

	url, _ = startOn(t, st, chat.Config{ExemptAddress: noExempt, NewUserRate: 0.01, NewUserBurst: 2})
	// All but the last come back.
	for i, p := range people[:n-1] {
		back := joinAt(t, url, fmt.Sprint("P", i), p.token)
		if back.id != p.id {
			t.Errorf("P%d came back as %q, was %q", i, back.id, p.id)
		}
	}
	var codes []chat.Code
	try := func(name, token string) {
		q, err := dial(t, url, &sioclient.Options{Transport: sioclient.TransportWebSocket}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var r joinReply
		if token == "" {
			q.ack(&r, chat.EventNewUser, name)
		} else {
			q.ack(&r, chat.EventNewUser, name, map[string]string{"token": token})
		}
		codes = append(codes, r.Code)
	}
	try("Rename", people[n-1].token) // a claim of another name counts
	try("New", "")
	try("Newer", "")
	if want := []chat.Code{"", "", chat.CodeRateLimited}; !slices.Equal(codes, want) {
		t.Errorf("after the returns, a rename and two new names: codes %q, want %q", codes, want)
	}
}
