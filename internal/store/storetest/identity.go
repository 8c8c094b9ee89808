package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// reserve is how long the claims of the tests keep a name.
const reserve = time.Hour

// t0 is the time of the tests' first claims, with digits below the
// millisecond that the store drops, in a zone that is not UTC.
var t0 = time.Date(2030, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("X", -5*3600))

// claim returns the claim of key by the identity id at now: name is key
// in capitals, the secret the hash of "token of <id>".
func claim(id, key string, now time.Time) store.Claim {
	sum := sha256.Sum256([]byte("token of " + id))
	return store.Claim{ID: id, Name: "Name " + key, Key: key, Secret: sum[:], Now: now, Reserve: reserve}
}

// mustClaim claims c and fails the test on error.
func mustClaim(t testing.TB, s store.Store, c store.Claim) store.Identity {
	t.Helper()
	got, err := s.ClaimName(Context(t), c)
	if err != nil {
		t.Fatalf("ClaimName(%s, %s): %v", c.ID, c.Key, err)
	}
	return got
}

// sameIdentity fails the test unless got equals want field by field, with
// times in UTC.
func sameIdentity(t testing.TB, what string, got, want store.Identity) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Key != want.Key || !bytes.Equal(got.Secret, want.Secret) ||
		!got.Created.Equal(want.Created) || !got.LastSeen.Equal(want.LastSeen) ||
		got.Created.Location() != time.UTC || got.LastSeen.Location() != time.UTC {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// identity returns the identity id, failing the test if there is none.
func identity(t testing.TB, s store.Store, id string) store.Identity {
	t.Helper()
	got, err := s.IdentityByID(Context(t), id)
	if err != nil {
		t.Fatalf("IdentityByID(%s): %v", id, err)
	}
	return got
}

// gone fails the test unless the identity id is not found.
func gone(t testing.TB, s store.Store, id string) {
	t.Helper()
	if got, err := s.IdentityByID(Context(t), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("IdentityByID(%s) = %+v, %v; want ErrNotFound", id, got, err)
	}
}

func testAuthorID(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	got := mustAppend(t, s,
		store.Message{Room: "r", Author: "Ann", Text: "hi", AuthorID: "id-ann", ClientID: "c1"},
		store.Message{Room: "r", Author: "Bob", Text: "hello", AuthorID: "id-bob"},
		store.Message{Room: "r", Author: "old", Text: "no author id"},
	)
	for i, want := range []string{"id-ann", "id-bob", ""} {
		if got[i].AuthorID != want {
			t.Errorf("Append returned AuthorID %q for message %d, want %q", got[i].AuthorID, i, want)
		}
	}
	// A retry by another identity gets the stored message, its author's.
	retry := mustAppend(t, s, store.Message{Room: "r", Author: "Eve", Text: "hi", AuthorID: "id-eve", ClientID: "c1"})
	sameMessage(t, "retry", retry[0], got[0])
	h, err := s.History(Context(t), "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	since, err := s.Since(Context(t), "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != len(got) || len(since) != len(got) {
		t.Fatalf("read back %d and %d messages, want %d", len(h), len(since), len(got))
	}
	for i := range got {
		sameMessage(t, "History", h[i], got[i])
		sameMessage(t, "Since", since[i], got[i])
	}
}

func testClaimName(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	ann := claim("id-ann", "ann", t0)
	got := mustClaim(t, s, ann)
	want := store.Identity{ID: "id-ann", Name: "Name ann", Key: "ann", Secret: ann.Secret,
		Created: t0.UTC().Truncate(time.Millisecond), LastSeen: t0.UTC().Truncate(time.Millisecond)}
	sameIdentity(t, "the first claim", got, want)
	sameIdentity(t, "IdentityByID", identity(t, s, "id-ann"), want)

	tests := []struct {
		name string
		c    store.Claim
		want store.Identity
	}{
		{"another identity, while held", claim("id-eve", "ann", t0.Add(reserve-time.Second)), want},
		{"the holder again", claim("id-ann", "ann", t0.Add(time.Minute)), want},
		{"the holder with another spelling and secret", store.Claim{ID: "id-ann", Name: "ANN", Key: "ann",
			Now: t0.Add(time.Minute), Reserve: reserve}, want},
		{"a free key", claim("id-bob", "bob", t0.Add(time.Second)), store.Identity{ID: "id-bob", Name: "Name bob",
			Key: "bob", Secret: claim("id-bob", "", t0).Secret,
			Created: t0.Add(time.Second).UTC().Truncate(time.Millisecond), LastSeen: t0.Add(time.Second).UTC().Truncate(time.Millisecond)}},
		{"an identity of the host application", store.Claim{ID: "app:7", Name: "Seven", Key: "seven", Now: t0, Reserve: reserve},
			store.Identity{ID: "app:7", Name: "Seven", Key: "seven", Secret: []byte{},
				Created: t0.UTC().Truncate(time.Millisecond), LastSeen: t0.UTC().Truncate(time.Millisecond)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustClaim(t, s, tc.c)
			sameIdentity(t, "ClaimName", got, tc.want)
			sameIdentity(t, "IdentityByID", identity(t, s, tc.want.ID), tc.want)
		})
	}
	gone(t, s, "id-eve")
	gone(t, s, "nobody")
	gone(t, s, "")
}

func testClaimExpiry(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	ann := mustClaim(t, s, claim("id-ann", "ann", t0))
	// Seen last at the cutoff is not seen before it: still held.
	at := ann.LastSeen.Add(reserve)
	sameIdentity(t, "a claim at the end of the reserve", mustClaim(t, s, claim("id-eve", "ann", at)), ann)
	gone(t, s, "id-eve")

	at = at.Add(time.Millisecond)
	eve := mustClaim(t, s, claim("id-eve", "ann", at))
	want := claim("id-eve", "ann", at).Identity()
	sameIdentity(t, "a claim after the reserve", eve, want)
	sameIdentity(t, "IdentityByID", identity(t, s, "id-eve"), want)
	gone(t, s, "id-ann")
	sameIdentity(t, "the old holder, back", mustClaim(t, s, claim("id-ann", "ann", at.Add(time.Minute))), want)

	// A holder whose name expired claims it again as a new identity.
	later := at.Add(2 * reserve)
	again := mustClaim(t, s, claim("id-eve", "ann", later))
	sameIdentity(t, "the expired holder again", again, claim("id-eve", "ann", later).Identity())

	// With no reserve, a name is free as soon as its holder is not seen.
	c := claim("id-zoe", "zoe", t0)
	c.Reserve = 0
	mustClaim(t, s, c)
	sameIdentity(t, "no reserve, same instant", mustClaim(t, s, store.Claim{ID: "id-x", Key: "zoe", Now: t0}), identity(t, s, "id-zoe"))
	if got := mustClaim(t, s, store.Claim{ID: "id-x", Key: "zoe", Now: t0.Add(time.Millisecond)}); got.ID != "id-x" {
		t.Errorf("no reserve, a millisecond later: %+v, want id-x to win", got)
	}
}

func testClaimOtherName(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	mustClaim(t, s, claim("x", "a", t0))
	zed := mustClaim(t, s, claim("z", "c", t0))

	// x takes another name, and gives up its first.
	b := mustClaim(t, s, claim("x", "b", t0.Add(time.Second)))
	sameIdentity(t, "x with name b", b, claim("x", "b", t0.Add(time.Second)).Identity())
	sameIdentity(t, "IdentityByID(x)", identity(t, s, "x"), b)
	if got := mustClaim(t, s, claim("y", "a", t0.Add(2*time.Second))); got.ID != "y" {
		t.Errorf("a claim of the name x gave up: %+v, want y to win", got)
	}
	// A name held by another is not taken, and x keeps the one it has.
	sameIdentity(t, "x claims a name held", mustClaim(t, s, claim("x", "c", t0.Add(3*time.Second))), zed)
	sameIdentity(t, "x after", identity(t, s, "x"), b)
}

// race calls f(0) to f(n-1) on n goroutines at once and returns when all
// have returned. The stores are made ready to answer first (a database's
// pool connects when first used, which would let the first caller run
// alone), and every goroutine waits for all to have started.
func race(t testing.TB, stores []store.Store, n int, f func(i int)) {
	t.Helper()
	var wg sync.WaitGroup
	for _, s := range stores {
		for range 4 {
			wg.Go(func() {
				if _, err := s.IdentityByID(Context(t), "nobody"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("IdentityByID(nobody): %v", err)
				}
			})
		}
	}
	wg.Wait()
	var ready sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	for i := range n {
		wg.Go(func() {
			ready.Done()
			<-start
			f(i)
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
}

// claimants is how many goroutines claim one key at once, spread over
// stores that share one database.
const claimants = 12

func testConcurrentClaims(t *testing.T, open func() store.Store) {
	stores := []store.Store{openStore(t, open), openStore(t, open), openStore(t, open)}
	keys := []string{"sam", "kim", "lee"}
	type result struct {
		claimant string
		got      store.Identity
	}
	results := make(map[string][]result)
	var mu sync.Mutex
	race(t, stores, claimants*len(keys), func(i int) {
		key := keys[i%len(keys)]
		id := fmt.Sprintf("g%d", i)
		got, err := stores[i%len(stores)].ClaimName(Context(t), claim(id, key, t0))
		if err != nil {
			t.Errorf("ClaimName(%s, %s): %v", id, key, err)
			return
		}
		mu.Lock()
		results[key] = append(results[key], result{id, got})
		mu.Unlock()
	})
	if t.Failed() {
		return
	}
	for _, key := range keys {
		rs := results[key]
		winner := rs[0].got
		won := 0
		for _, r := range rs {
			if r.got.ID == r.claimant {
				won++
			}
			sameIdentity(t, fmt.Sprintf("key %s, claimant %s", key, r.claimant), r.got, winner)
		}
		if won != 1 {
			t.Errorf("key %s: %d claimants won, want exactly one", key, won)
		}
		sameIdentity(t, "the winner, read back", identity(t, stores[0], winner.ID), claim(winner.ID, key, t0).Identity())
		for _, r := range rs {
			if r.claimant != winner.ID {
				gone(t, stores[1], r.claimant)
			}
		}
	}
}

func testConcurrentClaimsOfExpired(t *testing.T, open func() store.Store) {
	stores := []store.Store{openStore(t, open), openStore(t, open)}
	mustClaim(t, stores[0], claim("old", "sam", t0))
	now := t0.Add(reserve + time.Second)
	got := make([]store.Identity, claimants)
	race(t, stores, claimants, func(i int) {
		id, err := stores[i%len(stores)].ClaimName(Context(t), claim(fmt.Sprint("new", i), "sam", now))
		if err != nil {
			t.Errorf("ClaimName: %v", err)
		}
		got[i] = id
	})
	if t.Failed() {
		return
	}
	won := 0
	for i, id := range got {
		if id.ID == fmt.Sprint("new", i) {
			won++
		}
		sameIdentity(t, fmt.Sprint("claimant ", i), id, got[0])
	}
	if won != 1 {
		t.Errorf("%d claimants won the expired name, want exactly one", won)
	}
	gone(t, stores[1], "old")
}

func testSeenIdentity(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	ann := mustClaim(t, s, claim("id-ann", "ann", t0))
	steps := []struct {
		at, want time.Time
	}{
		{t0.Add(10 * time.Minute), t0.Add(10 * time.Minute)},
		{t0.Add(5 * time.Minute), t0.Add(10 * time.Minute)}, // never back
		{t0.Add(10*time.Minute + 1500*time.Microsecond), t0.Add(10*time.Minute + 1500*time.Microsecond)},
		{t0.Add(-time.Hour), t0.Add(10*time.Minute + 1500*time.Microsecond)},
	}
	for _, st := range steps {
		if err := s.SeenIdentity(Context(t), "id-ann", st.at); err != nil {
			t.Fatalf("SeenIdentity(%v): %v", st.at, err)
		}
		want := ann
		want.LastSeen = store.Timestamp(st.want)
		sameIdentity(t, fmt.Sprintf("after SeenIdentity(%v)", st.at), identity(t, s, "id-ann"), want)
	}
	// The reserve counts from the last time seen.
	seen := identity(t, s, "id-ann")
	sameIdentity(t, "a claim within the reserve of the last sight", mustClaim(t, s, claim("id-eve", "ann", seen.LastSeen.Add(reserve))), seen)
	if got := mustClaim(t, s, claim("id-eve", "ann", seen.LastSeen.Add(reserve+time.Millisecond))); got.ID != "id-eve" {
		t.Errorf("a claim after the reserve of the last sight: %+v, want id-eve to win", got)
	}
	for _, id := range []string{"id-ann", "nobody", "", "a\x00b", "\xff"} {
		if err := s.SeenIdentity(Context(t), id, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SeenIdentity(%q): %v, want ErrNotFound", id, err)
		}
	}
}

func testSeenIdentities(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	ann := mustClaim(t, s, claim("id-ann", "ann", t0))
	bob := mustClaim(t, s, claim("id-bob", "bob", t0.Add(20*time.Minute)))
	cy := mustClaim(t, s, claim("id-cy", "cy", t0))
	// Unknown and impossible ids are skipped; the others are seen once,
	// never back in time.
	ids := []string{"id-ann", "nobody", "", "a\x00b", "\xff", "id-bob", "id-ann"}
	if err := s.SeenIdentities(Context(t), ids, t0.Add(10*time.Minute+1500*time.Microsecond)); err != nil {
		t.Fatalf("SeenIdentities: %v", err)
	}
	ann.LastSeen = store.Timestamp(t0.Add(10*time.Minute + 1500*time.Microsecond))
	sameIdentity(t, "ann, seen", identity(t, s, "id-ann"), ann)
	sameIdentity(t, "bob, seen after", identity(t, s, "id-bob"), bob)
	sameIdentity(t, "cy, not in the list", identity(t, s, "id-cy"), cy)
	if err := s.SeenIdentities(Context(t), nil, t0.Add(time.Hour)); err != nil {
		t.Errorf("SeenIdentities of none: %v", err)
	}
	// Many at once, as a server that stops records everyone online.
	var many []string
	for i := range 500 {
		id := fmt.Sprintf("id-%d", i)
		mustClaim(t, s, claim(id, fmt.Sprint("k", i), t0))
		many = append(many, id)
	}
	at := t0.Add(30 * time.Minute)
	if err := s.SeenIdentities(Context(t), many, at); err != nil {
		t.Fatalf("SeenIdentities of %d: %v", len(many), err)
	}
	for _, i := range []int{0, 1, 250, 499} {
		if got := identity(t, s, many[i]).LastSeen; !got.Equal(store.Timestamp(at)) {
			t.Errorf("%s seen at %v, want %v", many[i], got, store.Timestamp(at))
		}
	}
	// The reserve counts from then.
	if got := mustClaim(t, s, claim("id-eve", "k7", at.Add(reserve))); got.ID != "id-7" {
		t.Errorf("a claim within the reserve of the last sight: %+v, want id-7's", got)
	}
}

func testKeptClaim(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	c := claim("id-ann", "ann", t0)
	c.Kept = true
	got := mustClaim(t, s, c)
	want := c.Identity()
	if !want.LastSeen.Equal(want.Created.Add(time.Millisecond)) {
		t.Fatalf("a kept claim's identity %+v: want it seen a millisecond after its creation", want)
	}
	sameIdentity(t, "a kept claim", got, want)
	sameIdentity(t, "a kept claim, stored", identity(t, s, "id-ann"), want)
	plain := mustClaim(t, s, claim("id-bob", "bob", t0))
	if !plain.LastSeen.Equal(plain.Created) {
		t.Errorf("a claim not known kept: %+v, want it seen when created", plain)
	}
}

func testPruneIdentities(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	base := store.Timestamp(t0)
	for i, key := range []string{"a", "b", "c"} {
		mustClaim(t, s, claim("id-"+key, key, base.Add(time.Duration(i)*time.Minute)))
	}
	steps := []struct {
		before time.Time
		n      int
		left   []string
	}{
		{base, 0, []string{"id-a", "id-b", "id-c"}},
		{base.Add(time.Minute), 1, []string{"id-b", "id-c"}},                  // a; b is not seen before
		{base.Add(time.Minute), 0, []string{"id-b", "id-c"}},                  // nothing left to prune
		{base.Add(time.Minute + 500*time.Microsecond), 1, []string{"id-c"}},   // b, seen less than a millisecond before
		{base.Add(2*time.Minute - 500*time.Microsecond), 0, []string{"id-c"}}, // c is seen after
		{base.Add(2*time.Minute + time.Millisecond), 1, []string{}},           // c
		{base.Add(10 * time.Minute), 0, []string{}},                           // none
	}
	for _, st := range steps {
		n, err := s.PruneIdentities(Context(t), st.before)
		if err != nil {
			t.Fatalf("PruneIdentities(%v): %v", st.before, err)
		}
		if n != st.n {
			t.Errorf("PruneIdentities(%v) = %d, want %d", st.before, n, st.n)
		}
		for _, id := range []string{"id-a", "id-b", "id-c"} {
			_, err := s.IdentityByID(Context(t), id)
			kept := false
			for _, l := range st.left {
				kept = kept || l == id
			}
			if kept && err != nil || !kept && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after PruneIdentities(%v), IdentityByID(%s): %v (kept: %v)", st.before, id, err, kept)
			}
		}
	}
	// A pruned identity's name is free, within what would be its reserve.
	if got := mustClaim(t, s, claim("id-new", "a", base)); got.ID != "id-new" {
		t.Errorf("a claim of a pruned name: %+v, want id-new to win", got)
	}
}

func testInvalidClaims(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	valid := claim("id", "key", t0)
	tests := []struct {
		name   string
		change func(*store.Claim)
	}{
		{"empty id", func(c *store.Claim) { c.ID = "" }},
		{"empty key", func(c *store.Claim) { c.Key = "" }},
		{"NUL in id", func(c *store.Claim) { c.ID = "i\x00d" }},
		{"NUL in name", func(c *store.Claim) { c.Name = "\x00" }},
		{"key not UTF-8", func(c *store.Claim) { c.Key = "k\xc3\x28" }},
		{"no time", func(c *store.Claim) { c.Now = time.Time{} }},
		{"negative reserve", func(c *store.Claim) { c.Reserve = -time.Second }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.change(&c)
			if got, err := s.ClaimName(Context(t), c); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("ClaimName = %+v, %v; want ErrInvalid", got, err)
			}
			gone(t, s, c.ID)
		})
	}
	for _, name := range []string{"", "a\x00", "\xff"} {
		if v, err := s.Constant(Context(t), name, []byte("v")); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Constant(%q) = %q, %v; want ErrInvalid", name, v, err)
		}
	}
	// Nothing of the invalid claims is stored: the key is free.
	if got := mustClaim(t, s, valid); got.ID != "id" {
		t.Errorf("the valid claim after: %+v", got)
	}
}

func testIdentitiesReopen(t *testing.T, open func() store.Store) {
	s := open()
	ann := mustClaim(t, s, claim("id-ann", "ann", t0))
	if err := s.SeenIdentity(Context(t), "id-ann", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ann.LastSeen = store.Timestamp(t0.Add(time.Minute))
	epoch, err := s.Constant(Context(t), "epoch", []byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openStore(t, open)
	sameIdentity(t, "after reopening", identity(t, s, "id-ann"), ann)
	sameIdentity(t, "a claim after reopening", mustClaim(t, s, claim("id-eve", "ann", t0.Add(reserve))), ann)
	if v, err := s.Constant(Context(t), "epoch", []byte("second")); err != nil || !bytes.Equal(v, epoch) {
		t.Errorf("Constant after reopening = %q, %v; want %q", v, err, epoch)
	}
}

func testConstant(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	binary := []byte{0, 1, 2, 0xff, 0xfe, 0, 'x'}
	steps := []struct {
		name       string
		init, want []byte
	}{
		{"key", bytes.Clone(binary), binary},
		{"key", []byte("other"), binary},
		{"key", nil, binary},
		{"empty", nil, []byte{}},
		{"empty", []byte("late"), []byte{}},
		{"ünï 👤 '\"", []byte("v"), []byte("v")},
	}
	for _, st := range steps {
		got, err := s.Constant(Context(t), st.name, st.init)
		if err != nil {
			t.Fatalf("Constant(%q, %q): %v", st.name, st.init, err)
		}
		if !bytes.Equal(got, st.want) {
			t.Errorf("Constant(%q, %q) = %q, want %q", st.name, st.init, got, st.want)
		}
		if got == nil {
			t.Errorf("Constant(%q, %q) = nil, want a value", st.name, st.init)
		}
		// What the caller does to the value stays the caller's.
		for i := range got {
			got[i] = '!'
		}
		for i := range st.init {
			st.init[i] = '?'
		}
	}
	if got, err := s.Constant(Context(t), "key", nil); err != nil || !bytes.Equal(got, binary) {
		t.Errorf("Constant after the caller changed its copies: %q, %v", got, err)
	}
}

func testConcurrentConstant(t *testing.T, open func() store.Store) {
	stores := []store.Store{openStore(t, open), openStore(t, open), openStore(t, open)}
	const racers = 16
	got := make([][]byte, racers)
	race(t, stores, racers, func(i int) {
		v, err := stores[i%len(stores)].Constant(Context(t), "epoch", fmt.Appendf(nil, "value %d", i))
		if err != nil {
			t.Errorf("Constant: %v", err)
		}
		got[i] = v
	})
	if t.Failed() {
		return
	}
	one := false
	for i := range racers {
		if !bytes.Equal(got[i], got[0]) {
			t.Errorf("racer %d got %q, racer 0 %q: want one value", i, got[i], got[0])
		}
		one = one || bytes.Equal(got[0], fmt.Appendf(nil, "value %d", i))
	}
	if !one {
		t.Errorf("the value %q is none of those given", got[0])
	}
}
