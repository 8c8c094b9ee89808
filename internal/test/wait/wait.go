// Package wait is how tests wait: For polls a condition to a deadline
// instead of sleeping, and Context bounds what a test waits for on the
// network or a store. It is for tests only, and has no dependencies beyond
// the standard library.
package wait

import (
	"context"
	"errors"
	"testing"
	"time"
)

// interval is how long For sleeps between two polls.
const interval = 2 * time.Millisecond

// Cond is what For polls: a func() bool that reports whether the awaited
// state holds, or a func() error that returns nil once it holds and
// otherwise says what is still missing.
type Cond interface {
	func() bool | func() error
}

// errNotYet is the state of a func() bool condition that does not hold.
var errNotYet = errors.New("not yet")

// For polls cond every few milliseconds until it holds, and fails t if it
// does not within d, naming what it waited for and, for a func() error,
// the error of the last poll.
func For[C Cond](t testing.TB, what string, d time.Duration, cond C) {
	t.Helper()
	var check func() error
	switch c := any(cond).(type) {
	case func() bool:
		check = func() error {
			if c() {
				return nil
			}
			return errNotYet
		}
	case func() error:
		check = c
	}
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if err == errNotYet {
				t.Fatalf("timed out after %v waiting for %s", d, what)
			}
			t.Fatalf("timed out after %v waiting for %s: %v", d, what, err)
		}
		time.Sleep(interval)
	}
}

// Context returns a context that ends when the test does, or after d.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
