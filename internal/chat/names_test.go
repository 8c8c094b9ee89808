package chat

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// check fails t unless x holds exactly want (sorted) and keeps its
// invariants: chunks sorted among themselves, none empty or too long.
func (x *nameIndex) check(t *testing.T, want []string) {
	t.Helper()
	got := x.snapshot().names()
	if !slices.Equal(got, want) {
		t.Fatalf("index holds %d names, want %d:\n got %q\nwant %q", len(got), len(want), got, want)
	}
	for i, c := range x.chunks {
		if len(c.names) == 0 || len(c.names) > maxChunk {
			t.Fatalf("chunk %d has %d names", i, len(c.names))
		}
	}
}

func TestNameIndex(t *testing.T) {
	var x nameIndex
	x.check(t, []string{})
	if x.remove("nobody") {
		t.Error("removed a name from an empty index")
	}
	for _, n := range []string{"carol", "Alice", "bob", "bob", "Éric", "alice"} {
		x.add(n)
	}
	x.check(t, []string{"Alice", "alice", "bob", "bob", "carol", "Éric"})
	if !x.remove("bob") || x.remove("Bob") || !x.remove("Éric") {
		t.Error("remove reported the wrong thing")
	}
	x.check(t, []string{"Alice", "alice", "bob", "carol"})
}

// TestNameIndexRandom checks the index against a sorted slice over many
// random changes, through chunk splits and merges, and that snapshots
// stay as they were taken.
func TestNameIndexRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type snap struct {
		s    nameSnapshot
		want []string
	}
	var (
		x     nameIndex
		want  = []string{}
		snaps []snap
		most  int // chunks
		empty bool
	)
	name := func() string { return fmt.Sprintf("u%d", rng.IntN(4000)) }
	for step := range 65000 {
		// Grow to several thousand names, shrink to none, grow again.
		grow := step < 20000 || step >= 55000
		switch op := rng.IntN(10); {
		case grow && op < 6 || !grow && op < 3:
			n := name()
			x.add(n)
			i, _ := slices.BinarySearch(want, n)
			want = slices.Insert(want, i, n)
		case len(want) > 0 && op < 8:
			n := want[rng.IntN(len(want))] // one that is there
			if !x.remove(n) {
				t.Fatalf("step %d: remove(%q) found nothing", step, n)
			}
			i, _ := slices.BinarySearch(want, n)
			want = slices.Delete(want, i, i+1)
		default:
			n := name()
			i, found := slices.BinarySearch(want, n)
			if x.remove(n) != found {
				t.Fatalf("step %d: remove(%q) = %t", step, n, !found)
			}
			if found {
				want = slices.Delete(want, i, i+1)
			}
		}
		most = max(most, len(x.chunks))
		empty = empty || step > 20000 && len(want) == 0
		if step%997 == 0 {
			x.check(t, want)
			snaps = append(snaps, snap{x.snapshot(), slices.Clone(want)})
		}
	}
	x.check(t, want)
	if most < 5 || !empty {
		t.Errorf("at most %d chunks; emptied: %t: the test no longer splits and merges much", most, empty)
	}
	for i, s := range snaps {
		if got := s.s.names(); !slices.Equal(got, s.want) {
			t.Fatalf("snapshot %d changed: %d names, want %d", i, len(got), len(s.want))
		}
	}
}

// BenchmarkMembers measures a room's presence under Chat.mu: a member
// arriving and leaving, and the snapshot taken for a member list, against
// the map walk and sort that listing used to cost under the lock.
func BenchmarkMembers(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		r := &room{members: make(map[*person]struct{})}
		for i := range n {
			r.addMember(&person{name: fmt.Sprintf("member%06d", i)})
		}
		p := &person{name: fmt.Sprintf("member%06d+", n/2)} // mid-room
		b.Run(fmt.Sprintf("members=%d/add-drop", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				r.addMember(p)
				r.dropMember(p)
			}
		})
		b.Run(fmt.Sprintf("members=%d/add-snapshot-drop", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				r.addMember(p)
				_ = r.names.snapshot()
				r.dropMember(p)
			}
		})
		b.Run(fmt.Sprintf("members=%d/list", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				_ = r.names.snapshot().names()
			}
		})
		b.Run(fmt.Sprintf("members=%d/old-walk-and-sort", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				names := make([]string, 0, len(r.members))
				for p := range r.members {
					names = append(names, p.name)
				}
				slices.Sort(names)
			}
		})
	}
}
