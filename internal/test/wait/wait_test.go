package wait_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/test/wait"
)

// recorder is a testing.TB whose Fatalf records the failure and ends the
// goroutine, as testing's does.
type recorder struct {
	testing.TB
	failure string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with a recorder on a goroutine of its own and returns the
// failure it recorded, "" for none.
func run(t *testing.T, f func(tb testing.TB)) string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.failure
}

func TestFor(t *testing.T) {
	tests := []struct {
		name string
		f    func(tb testing.TB)
		want string // in the failure; "" for none
	}{
		{"bool that comes to hold", func(tb testing.TB) {
			n := 0
			wait.For(tb, "three polls", time.Second, func() bool { n++; return n == 3 })
		}, ""},
		{"bool that never holds", func(tb testing.TB) {
			wait.For(tb, "the impossible", 20*time.Millisecond, func() bool { return false })
		}, "timed out after 20ms waiting for the impossible"},
		{"error that comes to be nil", func(tb testing.TB) {
			n := 0
			wait.For(tb, "three polls", time.Second, func() error {
				if n++; n < 3 {
					return errors.New("early")
				}
				return nil
			})
		}, ""},
		{"error that stays", func(tb testing.TB) {
			n := 0
			wait.For(tb, "the impossible", 20*time.Millisecond, func() error { n++; return fmt.Errorf("poll %d failed", n) })
		}, "waiting for the impossible: poll "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.f)
			switch {
			case tt.want == "" && got != "":
				t.Fatalf("failed: %s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Fatalf("failure %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestContext(t *testing.T) {
	ctx := wait.Context(t, 10*time.Millisecond)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the context did not end after its timeout")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("context error %v, want context.DeadlineExceeded", ctx.Err())
	}
}
