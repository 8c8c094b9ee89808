package chat

import (
	"slices"
	"strings"
)

// Bounds on the length of a nameIndex's chunks. A change moves at most
// maxChunk names; a snapshot copies one slice header per chunk.
const (
	maxChunk = 256
	minChunk = maxChunk / 4 // below it, a chunk merges with a neighbour
)

// nameIndex is a sorted multiset of names: a room's members, kept sorted
// as they come and go so that listing them needs no sort. The names are
// kept in sorted chunks of at most maxChunk, so that adding or removing
// one costs O(log n) comparisons and moves at most maxChunk strings,
// whatever the room's size, plus n/maxChunk chunk headers when a chunk
// splits or merges (a B-tree of height two, like Python's
// sortedcontainers). A snapshot shares the chunks and marks them
// copy-on-write, so that it costs O(n/maxChunk) under the lock and the
// O(n) copy is made outside it (see nameSnapshot).
//
// A nameIndex is not safe for concurrent use: a room's is guarded by
// Chat.mu. Its zero value is empty and ready to use.
type nameIndex struct {
	chunks []nameChunk
}

// nameChunk is a run of a nameIndex's names.
type nameChunk struct {
	names  []string // sorted; never empty
	shared bool     // names is in a snapshot: copy it before changing it
}

// find returns the index of the chunk where name is or belongs: the first
// whose last name is not less than name, or else the last chunk. There
// must be a chunk.
func (x *nameIndex) find(name string) int {
	i, _ := slices.BinarySearchFunc(x.chunks, name, func(c nameChunk, name string) int {
		return strings.Compare(c.names[len(c.names)-1], name)
	})
	return min(i, len(x.chunks)-1)
}

// own returns chunk i, ready to be changed: a copy of its names if a
// snapshot shares them.
func (x *nameIndex) own(i int) *nameChunk {
	c := &x.chunks[i]
	if c.shared {
		names := make([]string, len(c.names), len(c.names)+1)
		copy(names, c.names)
		c.names, c.shared = names, false
	}
	return c
}

// add adds name, which may be there already.
func (x *nameIndex) add(name string) {
	if len(x.chunks) == 0 {
		x.chunks = append(x.chunks, nameChunk{names: []string{name}})
		return
	}
	i := x.find(name)
	c := x.own(i)
	j, _ := slices.BinarySearch(c.names, name)
	c.names = slices.Insert(c.names, j, name)
	if len(c.names) <= maxChunk {
		return
	}
	// Split in two halves; the left keeps the array.
	half := len(c.names) / 2
	right := nameChunk{names: append(make([]string, 0, maxChunk/2+1), c.names[half:]...)}
	clear(c.names[half:])
	c.names = c.names[:half]
	x.chunks = slices.Insert(x.chunks, i+1, right)
}

// remove removes one occurrence of name, and reports whether there was
// one.
func (x *nameIndex) remove(name string) bool {
	if len(x.chunks) == 0 {
		return false
	}
	i := x.find(name)
	j, found := slices.BinarySearch(x.chunks[i].names, name)
	if !found {
		return false
	}
	c := x.own(i)
	c.names = slices.Delete(c.names, j, j+1)
	switch {
	case len(c.names) == 0:
		x.chunks = slices.Delete(x.chunks, i, i+1)
	case len(c.names) < minChunk:
		// Merge with a neighbour it fits in with, so that churn does not
		// leave many small chunks.
		if i+1 < len(x.chunks) && len(c.names)+len(x.chunks[i+1].names) <= maxChunk {
			x.merge(i)
		} else if i > 0 && len(x.chunks[i-1].names)+len(c.names) <= maxChunk {
			x.merge(i - 1)
		}
	}
	return true
}

// merge appends chunk i+1 to chunk i.
func (x *nameIndex) merge(i int) {
	c := x.own(i)
	c.names = append(c.names, x.chunks[i+1].names...)
	x.chunks = slices.Delete(x.chunks, i+1, i+2)
}

// snapshot returns the names as they are now, in O(n/maxChunk): the
// index's later changes copy a chunk rather than change it.
func (x *nameIndex) snapshot() nameSnapshot {
	s := make(nameSnapshot, len(x.chunks))
	for i := range x.chunks {
		x.chunks[i].shared = true
		s[i] = x.chunks[i].names
	}
	return s
}

// pageSnapshot returns the part of the names that a page of up to limit
// of them after after needs (see nameSnapshot.page): the chunk where
// after is or belongs and the next ones, until they hold limit more names
// and one to tell whether more follow. It costs O(log n + limit/minChunk):
// a member list's page is measured and copied after, outside the lock.
func (x *nameIndex) pageSnapshot(after string, limit int) nameSnapshot {
	if len(x.chunks) == 0 {
		return nil
	}
	i := 0
	if after != "" {
		i = x.find(after)
	}
	need := limit + 1
	var s nameSnapshot
	for j := i; j < len(x.chunks) && need > 0; j++ {
		c := &x.chunks[j]
		c.shared = true
		s = append(s, c.names)
		n := len(c.names)
		if j == i && after != "" {
			k, _ := slices.BinarySearch(c.names, after)
			for k < n && c.names[k] <= after {
				k++
			}
			n -= k
		}
		need -= n
	}
	return s
}

// nameSnapshot is a nameIndex's names at one time, in sorted chunks that
// nothing changes. It is safe for concurrent use.
type nameSnapshot [][]string

// names returns the names, sorted; never nil, so that an empty list is
// sent as [] rather than null.
func (s nameSnapshot) names() []string {
	n := 0
	for _, c := range s {
		n += len(c)
	}
	out := make([]string, 0, n)
	for _, c := range s {
		out = append(out, c...)
	}
	return out
}
