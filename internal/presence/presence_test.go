package presence_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/presence"
	"github.com/parley-chat/parley/internal/test/leaktest"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/wait"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// newPresence returns a presence in keys of the test's own.
func newPresence(t testing.TB) *presence.Redis {
	t.Helper()
	p, err := presence.New(presence.Config{Client: redistest.Client(t), Prefix: redistest.Prefix(t) + ":{presence}"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func join(room, id, name string) presence.Op {
	return presence.Op{Entry: presence.Entry{Room: room, ID: id, Name: name}}
}

func leave(room, id string) presence.Op {
	return presence.Op{Entry: presence.Entry{Room: room, ID: id}, Leave: true}
}

// TestApply checks that changes report news only: the first node to have
// a person in a room, the last to let them go.
func TestApply(t *testing.T) { testApply(t, newPresence(t)) }

func testApply(t *testing.T, p *presence.Redis) {
	ctx := wait.Context(t, 10*time.Second)
	steps := []struct {
		name string
		node string
		ops  []presence.Op
		want []bool
	}{
		{"ann comes on a", "a", []presence.Op{join("", "u1", "Ann"), join("general", "u1", "Ann")}, []bool{true, true}},
		{"again: nothing new", "a", []presence.Op{join("general", "u1", "Ann")}, []bool{false}},
		{"ann on b too: no news", "b", []presence.Op{join("", "u1", "Ann"), join("general", "u1", "Ann")}, []bool{false, false}},
		{"bob on b", "b", []presence.Op{join("general", "u2", "Bob"), join("dev", "u2", "Bob")}, []bool{true, true}},
		{"ann leaves a: still on b", "a", []presence.Op{leave("general", "u1"), leave("", "u1")}, []bool{false, false}},
		{"leaving twice: nothing", "a", []presence.Op{leave("general", "u1")}, []bool{false}},
		{"ann leaves b: gone", "b", []presence.Op{leave("general", "u1")}, []bool{true}},
		{"bob leaves dev and comes back", "b", []presence.Op{leave("dev", "u2"), join("dev", "u2", "Bob")}, []bool{true, true}},
		{"a leaves what it never had", "a", []presence.Op{leave("dev", "u2")}, []bool{false}},
	}
	for _, s := range steps {
		got, err := p.Apply(ctx, s.node, s.ops)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if !slices.Equal(got, s.want) {
			t.Errorf("%s: changes %v, want %v", s.name, got, s.want)
		}
	}
	for _, tc := range []struct {
		room string
		want []string
	}{{"general", []string{"Bob"}}, {"dev", []string{"Bob"}}, {"nowhere", []string{}}} {
		names, err := p.Names(ctx, tc.room, "", 10)
		if err != nil || !slices.Equal(names, tc.want) {
			t.Errorf("Names(%s) = %q, %v; want %q", tc.room, names, err, tc.want)
		}
	}
	counts, err := p.Counts(ctx, []string{"general", "dev", "nowhere"})
	if err != nil || !slices.Equal(counts, []int{1, 1, 0}) {
		t.Errorf("Counts = %v, %v; want [1 1 0]", counts, err)
	}
	for id, want := range map[string]bool{"u1": true, "u2": false} { // u1 is online on b still
		if got, err := p.Online(ctx, id); err != nil || got != want {
			t.Errorf("Online(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
	entries, err := p.Entries(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(entries, func(x, y presence.Entry) int { return cmpEntry(x, y) })
	want := []presence.Entry{{Room: "", ID: "u1"}, {Room: "dev", ID: "u2"}, {Room: "general", ID: "u2"}}
	if !slices.Equal(entries, want) {
		t.Errorf("Entries(b) = %+v, want %+v", entries, want)
	}
}

func cmpEntry(x, y presence.Entry) int {
	if x.Room != y.Room {
		if x.Room < y.Room {
			return -1
		}
		return 1
	}
	if x.ID < y.ID {
		return -1
	}
	if x.ID > y.ID {
		return 1
	}
	return 0
}

// TestNames checks the pages of a room's names: in byte order, after a
// cursor, people of one name together.
func TestNames(t *testing.T) { testNames(t, newPresence(t)) }

func testNames(t *testing.T, p *presence.Redis) {
	ctx := wait.Context(t, 10*time.Second)
	var ops []presence.Op
	for i, name := range []string{"carol", "Bob", "alice", "Bobby", "Émile", "bob", "Bob"} {
		ops = append(ops, join("r", fmt.Sprint("u", i), name))
	}
	if _, err := p.Apply(ctx, "n", ops); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 100, []string{"Bob", "Bob", "Bobby", "alice", "bob", "carol", "Émile"}},
		{"", 3, []string{"Bob", "Bob", "Bobby"}},
		{"Bob", 2, []string{"Bobby", "alice"}},
		{"Bobby", 100, []string{"alice", "bob", "carol", "Émile"}},
		{"carol", 100, []string{"Émile"}},
		{"Émile", 100, []string{}},
		{"", 0, []string{}},
	} {
		got, err := p.Names(ctx, "r", tc.after, tc.limit)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Names(after %q, %d) = %q, %v; want %q", tc.after, tc.limit, got, err, tc.want)
		}
	}
}

// TestReap checks that the entries of a node whose lease ran out are taken
// back: the people it alone had are gone, once, those on another node
// stay; and that the node, renewing its lease, learns it was reaped.
func TestReap(t *testing.T) { testReap(t, newPresence(t)) }

func testReap(t *testing.T, p *presence.Redis) {
	ctx := wait.Context(t, 10*time.Second)
	for _, n := range []string{"a", "b", "c"} {
		l, err := p.Renew(ctx, n, time.Minute)
		if err != nil || l != presence.LeaseNew {
			t.Fatalf("first Renew(%s) = %v, %v; want a new lease", n, l, err)
		}
	}
	if l, err := p.Renew(ctx, "a", time.Minute); err != nil || l != presence.LeaseHeld {
		t.Fatalf("Renew(a) again = %v, %v; want a held lease", l, err)
	}
	var ops []presence.Op
	for i := range 250 { // more than one Reap takes
		ops = append(ops, join(fmt.Sprint("room", i%5), fmt.Sprint("u", i), fmt.Sprint("p", i)))
	}
	ops = append(ops, join("room0", "shared", "Sam"), join("", "shared", "Sam"))
	if _, err := p.Apply(ctx, "a", ops); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(ctx, "b", []presence.Op{join("room0", "shared", "Sam"), join("", "shared", "Sam")}); err != nil {
		t.Fatal(err)
	}
	if node, gone, err := p.Reap(ctx, "b", 100); err != nil || node != "" || len(gone) != 0 {
		t.Fatalf("Reap with every lease running = %q, %d gone, %v; want nothing", node, len(gone), err)
	}

	// a's lease ends; b and c reap it at once.
	if _, err := p.Renew(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // past its end, by Redis's clock
	var (
		mu   sync.Mutex
		all  []presence.Entry
		wg   sync.WaitGroup
		errs = make(chan error, 2)
	)
	for _, self := range []string{"b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				node, gone, err := p.Reap(ctx, self, 40)
				if err != nil {
					errs <- err
					return
				}
				if node == "" {
					return
				}
				if node != "a" {
					errs <- fmt.Errorf("%s reaped %q, want a", self, node)
					return
				}
				mu.Lock()
				all = append(all, gone...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(all) != 250 {
		t.Errorf("%d people announced gone, want the 250 that a alone had", len(all))
	}
	seen := make(map[string]bool)
	for _, e := range all {
		if seen[e.ID] || e.ID == "shared" || e.Name == "" {
			t.Errorf("gone: %+v (twice, or one that b has, or nameless)", e)
		}
		seen[e.ID] = true
	}
	names, err := p.Names(ctx, "room0", "", 100)
	if err != nil || !slices.Equal(names, []string{"Sam"}) {
		t.Errorf("room0 after the reap: %q, %v; want Sam, whom b has", names, err)
	}
	if entries, err := p.Entries(ctx, "a"); err != nil || len(entries) != 0 {
		t.Errorf("a's entries after the reap: %d, %v", len(entries), err)
	}
	// a was alive after all: its next renewal says it lost its entries.
	if l, err := p.Renew(ctx, "a", time.Minute); err != nil || l != presence.LeaseReaped {
		t.Errorf("Renew(a) after the reap = %v, %v; want reaped", l, err)
	}
	if l, err := p.Renew(ctx, "a", time.Minute); err != nil || l != presence.LeaseHeld {
		t.Errorf("Renew(a) after that = %v, %v; want held", l, err)
	}
	if node, _, err := p.Reap(ctx, "b", 100); err != nil || node != "" {
		t.Errorf("Reap after a renewed = %q, %v; want nothing", node, err)
	}
}

// TestReapSparesItself checks that a node never reaps itself, even when
// its own lease ran out.
func TestReapSparesItself(t *testing.T) { testReapSparesItself(t, newPresence(t)) }

func testReapSparesItself(t *testing.T, p *presence.Redis) {
	ctx := wait.Context(t, 10*time.Second)
	if _, err := p.Renew(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(ctx, "a", []presence.Op{join("r", "u", "U")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if node, gone, err := p.Reap(ctx, "a", 10); err != nil || node != "" || gone != nil {
		t.Errorf("a reaping = %q, %v, %v; want nothing", node, gone, err)
	}
}

// TestRedisRestart restarts Redis (a server of the test's own) empty: the
// scripts are loaded again, and a node's lease is new, not reaped.
func TestRedisRestart(t *testing.T) {
	rs := redistest.Server(t)
	c := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer c.Close()
	p, err := presence.New(presence.Config{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	ctx := wait.Context(t, 20*time.Second)
	if _, err := p.Renew(ctx, "n", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(ctx, "n", []presence.Op{join("r", "u", "U")}); err != nil {
		t.Fatal(err)
	}
	rs.Stop()
	rs.Start()
	wait.For(t, "Redis back", 10*time.Second, func() bool { return c.Ping(ctx).Err() == nil })
	if l, err := p.Renew(ctx, "n", time.Minute); err != nil || l != presence.LeaseNew {
		t.Errorf("Renew after a restart = %v, %v; want a new lease", l, err)
	}
	got, err := p.Apply(ctx, "n", []presence.Op{join("r", "u", "U"), leave("r", "u")})
	if err != nil || !slices.Equal(got, []bool{true, true}) {
		t.Errorf("Apply after a restart = %v, %v", got, err)
	}
}

// TestRedisCluster runs the tests above on a Redis Cluster of three
// masters (of the test's own), each with a prefix whose hash tag keeps
// its keys in one slot, the default's among them: the scripts, which
// touch several keys, run there; and a prefix without a hash tag is
// refused there (the scripts would fail halfway through).
func TestRedisCluster(t *testing.T) {
	c := redistest.Cluster(t, 3).Client(t)
	for _, tc := range []struct {
		name, prefix string
		f            func(*testing.T, *presence.Redis)
	}{
		{"apply", presence.DefaultPrefix, testApply},
		{"names", "{names}:presence", testNames},
		{"reap", "x:{reap}", testReap},
		{"reap spares itself", "{spares}", testReapSparesItself},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := presence.New(presence.Config{Client: c, Prefix: tc.prefix})
			if err != nil {
				t.Fatal(err)
			}
			tc.f(t, p)
		})
	}
	for _, prefix := range []string{"no-tag:presence", "{}:presence", "a{b:presence", "}{:presence"} {
		if _, err := presence.New(presence.Config{Client: c, Prefix: prefix}); err == nil || !strings.Contains(err.Error(), "hash tag") {
			t.Errorf("New with prefix %q on a Redis Cluster: %v, want a refusal", prefix, err)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := presence.New(presence.Config{}); err == nil {
		t.Error("New without a client succeeded")
	}
}

// BenchmarkApply measures a join and a leave of one person in one room,
// each its own round trip, as the chat's writer makes them when it is not
// busy.
func BenchmarkApply(b *testing.B) {
	p := newPresence(b)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprint("u", i%1000)
		if _, err := p.Apply(ctx, "n", []presence.Op{join("general", id, id)}); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Apply(ctx, "n", []presence.Op{leave("general", id)}); err != nil {
			b.Fatal(err)
		}
	}
}
