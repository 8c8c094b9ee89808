package names

// Reserved is a set of names that nobody may take: the labels the page
// shows in the place of a name ("You", "System"...), the server's own. A
// name is reserved if its Key is the key of one of them, so that "YOU" and
// "Yоu" (with a Cyrillic о) are reserved with "You".
//
// A Reserved is read-only once made and safe for concurrent use. A nil
// *Reserved reserves nothing.
type Reserved struct {
	keys map[string]struct{}
}

// NewReserved returns the set of the names given.
func NewReserved(names ...string) *Reserved {
	r := &Reserved{keys: make(map[string]struct{}, len(names))}
	for _, n := range names {
		if k := Key(n); k != "" {
			r.keys[k] = struct{}{}
		}
	}
	return r
}

// Contains reports whether name is reserved.
func (r *Reserved) Contains(name string) bool { return r.ContainsKey(Key(name)) }

// ContainsKey reports whether the name whose Key is key is reserved, for a
// caller that has the key already.
func (r *Reserved) ContainsKey(key string) bool {
	if r == nil {
		return false
	}
	_, ok := r.keys[key]
	return ok
}
