package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// fakeStore is an in-memory store.Store whose Append can be held and made
// to fail. Only Append and Close do anything.
type fakeStore struct {
	store.Store // nil: the other methods are not used

	// hold, when set, is received from at the start of each Append, after
	// entered was sent to: a test can see that a batch is in progress and
	// let it go.
	hold    chan struct{}
	entered chan []store.Message
	// fail, when set, decides the outcome of each Append by its number.
	fail func(call int) error

	mu      sync.Mutex
	last    map[string]int64
	batches [][]store.Message // as committed
	calls   int
}

func newFakeStore() *fakeStore {
	return &fakeStore{last: map[string]int64{}}
}

func (f *fakeStore) Append(ctx context.Context, msgs []store.Message) ([]store.Message, error) {
	msgs = slices.Clone(msgs) // the Committer reuses its slice
	if f.hold != nil {
		f.entered <- msgs
		<-f.hold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		if err := f.fail(f.calls); err != nil {
			return nil, err
		}
	}
	for i := range msgs {
		f.last[msgs[i].Room]++
		msgs[i].ID = f.last[msgs[i].Room]
	}
	f.batches = append(f.batches, msgs)
	return slices.Clone(msgs), nil
}

func (f *fakeStore) Close() error { return nil }

// sizes returns the sizes of the committed batches.
func (f *fakeStore) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n []int
	for _, b := range f.batches {
		n = append(n, len(b))
	}
	return n
}

// held returns a fake store whose Appends wait to be let go.
func held() *fakeStore {
	f := newFakeStore()
	f.hold = make(chan struct{})
	f.entered = make(chan []store.Message, 100)
	return f
}

// waitEntered waits for an Append to start and returns its batch.
func (f *fakeStore) waitEntered(t *testing.T) []store.Message {
	t.Helper()
	select {
	case b := <-f.entered:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for Append")
		return nil
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// result is the outcome a done callback reported.
type result struct {
	m   store.Message
	err error
}

// recorder collects done callbacks in the order they were called.
type recorder struct {
	mu      sync.Mutex
	results []result
	wg      sync.WaitGroup
}

// done returns a callback that records its outcome once.
func (r *recorder) done() func(store.Message, error) {
	r.wg.Add(1)
	var called atomic.Bool
	return func(m store.Message, err error) {
		if called.Swap(true) {
			panic("done called twice")
		}
		r.mu.Lock()
		r.results = append(r.results, result{m, err})
		r.mu.Unlock()
		r.wg.Done()
	}
}

// wait waits for every callback and returns the outcomes.
func (r *recorder) wait(t *testing.T) []result {
	t.Helper()
	ch := make(chan struct{})
	go func() { r.wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for done callbacks")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.results)
}

func msg(room, text string) store.Message {
	return store.Message{Room: room, Author: "ann", Text: text}
}

// TestCommitterOrder submits from many goroutines and checks that each
// message is reported once, in commit order.
func TestCommitterOrder(t *testing.T) {
	f := newFakeStore()
	c := store.NewCommitter(f, store.CommitterConfig{Logger: quiet})
	var rec recorder
	const goroutines, each = 16, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				c.Submit(msg(fmt.Sprint("room", (g+i)%4), fmt.Sprintf("g%d m%d", g, i)), rec.done())
			}
		})
	}
	wg.Wait()
	c.Close()
	got := rec.wait(t)
	if len(got) != goroutines*each {
		t.Fatalf("%d callbacks, want %d", len(got), goroutines*each)
	}
	// The callbacks came in the order of the committed batches.
	var committed []store.Message
	for _, b := range f.batches {
		committed = append(committed, b...)
	}
	for i, r := range got {
		if r.err != nil {
			t.Fatalf("callback %d: %v", i, r.err)
		}
		if r.m != committed[i] {
			t.Fatalf("callback %d reported %+v, but commit order has %+v", i, r.m, committed[i])
		}
	}
	// Hence IDs by room in order, and each goroutine's messages in the
	// order it submitted them.
	last := map[string]int64{}
	next := map[string]int{}
	for _, r := range got {
		if r.m.ID != last[r.m.Room]+1 {
			t.Fatalf("room %s: ID %d reported after %d", r.m.Room, r.m.ID, last[r.m.Room])
		}
		last[r.m.Room] = r.m.ID
		var g, i int
		fmt.Sscanf(r.m.Text, "g%d m%d", &g, &i)
		if k := fmt.Sprint(g); next[k] != i {
			t.Fatalf("goroutine %d: message %d reported before %d", g, i, next[k])
		} else {
			next[k]++
		}
	}
	t.Logf("%d messages in %d batches", len(got), len(f.batches))
}

// TestCommitterBatches checks that what arrives during a commit is stored
// in the next one, up to MaxBatch per transaction.
func TestCommitterBatches(t *testing.T) {
	tests := []struct {
		name     string
		maxBatch int
		queued   int
		want     []int
	}{
		{"default max", 0, 100, []int{1, 100}},
		{"split at max", 10, 35, []int{1, 10, 10, 10, 5}},
		{"exactly max", 256, 256, []int{1, 256}},
		{"over default max", 0, 300, []int{1, 256, 44}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := held()
			c := store.NewCommitter(f, store.CommitterConfig{MaxBatch: tc.maxBatch, Logger: quiet})
			defer c.Close()
			var rec recorder
			c.Submit(msg("r", "first"), rec.done())
			f.waitEntered(t) // the writer holds the first message
			for i := range tc.queued {
				c.Submit(msg("r", fmt.Sprint(i)), rec.done())
			}
			// Let every batch go, and check each one's size as it starts.
			for i, want := range tc.want {
				if i > 0 {
					if b := f.waitEntered(t); len(b) != want {
						t.Errorf("batch %d has %d messages, want %d", i, len(b), want)
					}
				}
				f.hold <- struct{}{}
			}
			got := rec.wait(t)
			if sizes := f.sizes(); !slices.Equal(sizes, tc.want) {
				t.Errorf("batch sizes %v, want %v", sizes, tc.want)
			}
			for i, r := range got {
				if r.err != nil || r.m.ID != int64(i+1) {
					t.Errorf("callback %d: %+v", i, r)
				}
			}
		})
	}
}

// TestCommitterFailure checks that a failed batch fails each of its
// messages with the store's error, and that the next batch goes on.
func TestCommitterFailure(t *testing.T) {
	errDisk := errors.New("disk on fire")
	f := held()
	f.fail = func(call int) error {
		if call == 2 {
			return errDisk
		}
		return nil
	}
	c := store.NewCommitter(f, store.CommitterConfig{Logger: quiet})
	defer c.Close()
	var ok1, failed, ok3 recorder
	c.Submit(msg("r", "one"), ok1.done())
	f.waitEntered(t)
	for i := range 5 {
		c.Submit(msg("r", fmt.Sprint("lost ", i)), failed.done())
	}
	f.hold <- struct{}{}
	f.waitEntered(t) // batch 2, which fails
	f.hold <- struct{}{}
	for _, r := range failed.wait(t) {
		if !errors.Is(r.err, errDisk) {
			t.Errorf("failed batch reported %v, want an error wrapping %v", r.err, errDisk)
		}
		if !strings.HasPrefix(r.m.Text, "lost ") || r.m.ID != 0 {
			t.Errorf("failed message reported as %+v, want the submitted one", r.m)
		}
	}
	c.Submit(msg("r", "three"), ok3.done())
	f.waitEntered(t)
	f.hold <- struct{}{}
	for _, rec := range []*recorder{&ok1, &ok3} {
		for _, r := range rec.wait(t) {
			if r.err != nil {
				t.Errorf("%q: %v", r.m.Text, r.err)
			}
		}
	}
	if got := ok3.wait(t)[0].m.ID; got != 2 {
		t.Errorf("after the failure, ID %d, want 2", got)
	}
}

// TestCommitterShortResult checks that a store returning fewer messages than
// it was given fails the batch rather than reporting wrong messages.
func TestCommitterShortResult(t *testing.T) {
	c := store.NewCommitter(shortStore{}, store.CommitterConfig{Logger: quiet})
	defer c.Close()
	var rec recorder
	c.Submit(msg("r", "x"), rec.done())
	if r := rec.wait(t)[0]; r.err == nil {
		t.Errorf("short result reported %+v, want an error", r.m)
	}
}

type shortStore struct{ store.Store }

func (shortStore) Append(context.Context, []store.Message) ([]store.Message, error) { return nil, nil }

// TestCommitterOverload fills the queue while the writer is held: the next
// Submit fails at once with ErrOverloaded instead of blocking.
func TestCommitterOverload(t *testing.T) {
	f := held()
	c := store.NewCommitter(f, store.CommitterConfig{QueueSize: 2, Logger: quiet})
	defer c.Close()
	var rec recorder
	c.Submit(msg("r", "in the writer"), rec.done())
	f.waitEntered(t)
	c.Submit(msg("r", "queued 1"), rec.done())
	c.Submit(msg("r", "queued 2"), rec.done())
	var over result
	returned := make(chan struct{})
	go func() {
		c.Submit(msg("r", "too many"), func(m store.Message, err error) { over = result{m, err} })
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("Submit blocked on a full queue")
	}
	if !errors.Is(over.err, store.ErrOverloaded) || over.m.Text != "too many" {
		t.Errorf("Submit on a full queue: %+v, want ErrOverloaded", over)
	}
	f.hold <- struct{}{}
	f.waitEntered(t)
	f.hold <- struct{}{}
	for _, r := range rec.wait(t) {
		if r.err != nil {
			t.Errorf("%q: %v", r.m.Text, r.err)
		}
	}
}

// TestCommitterClose checks that Close commits what is queued, then
// refuses new messages.
func TestCommitterClose(t *testing.T) {
	f := held()
	c := store.NewCommitter(f, store.CommitterConfig{Logger: quiet})
	var rec recorder
	c.Submit(msg("r", "first"), rec.done())
	f.waitEntered(t)
	for i := range 50 {
		c.Submit(msg("r", fmt.Sprint(i)), rec.done())
	}
	closed := make(chan struct{})
	go func() {
		c.Close()
		close(closed)
	}()
	// Close refuses new messages at once, while it waits for the queue.
	// Until Close has begun, "late" messages are accepted: count them.
	var lateAccepted atomic.Int64
	var lateErr error
	deadline := time.Now().Add(5 * time.Second)
	for lateErr == nil && time.Now().Before(deadline) {
		refused := false
		c.Submit(msg("r", "late"), func(_ store.Message, err error) {
			if err == nil {
				lateAccepted.Add(1)
				return
			}
			lateErr, refused = err, true // called by Submit itself
		})
		if !refused {
			time.Sleep(time.Millisecond)
		}
	}
	if !errors.Is(lateErr, store.ErrClosed) {
		t.Fatalf("Submit during Close: %v, want ErrClosed", lateErr)
	}
	select {
	case <-closed:
		t.Fatal("Close returned before the queue was committed")
	default:
	}
	f.hold <- struct{}{}
	f.waitEntered(t)
	f.hold <- struct{}{}
	<-closed
	got := rec.wait(t)
	if sizes := f.sizes(); len(sizes) != 2 || sizes[1] != 50+int(lateAccepted.Load()) {
		t.Errorf("batch sizes %v, want [1 %d]", sizes, 50+lateAccepted.Load())
	}
	if len(got) != 51 {
		t.Fatalf("%d callbacks, want 51", len(got))
	}
	for i, r := range got {
		if r.err != nil || r.m.ID != int64(i+1) {
			t.Errorf("callback %d: %+v", i, r)
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCommitterSubmitDuringClose submits while Close runs: every message
// is either refused with ErrClosed or stored and acknowledged.
func TestCommitterSubmitDuringClose(t *testing.T) {
	f := newFakeStore()
	c := store.NewCommitter(f, store.CommitterConfig{Logger: quiet})
	var accepted, refused atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				c.Submit(msg("r", "x"), func(_ store.Message, err error) {
					switch {
					case err == nil:
						accepted.Add(1)
					case errors.Is(err, store.ErrClosed):
						refused.Add(1)
					default:
						t.Errorf("Submit: %v", err)
					}
				})
			}
		})
	}
	c.Close()
	wg.Wait()
	if got := accepted.Load() + refused.Load(); got != 8*500 {
		t.Errorf("%d callbacks, want %d", got, 8*500)
	}
	var stored int64
	for _, n := range f.sizes() {
		stored += int64(n)
	}
	if stored != accepted.Load() {
		t.Errorf("%d messages stored, %d acknowledged", stored, accepted.Load())
	}
}

// TestCommitterInvalid checks that an invalid message is refused at once,
// so that it cannot fail the batch of others.
func TestCommitterInvalid(t *testing.T) {
	f := newFakeStore()
	c := store.NewCommitter(f, store.CommitterConfig{Logger: quiet})
	defer c.Close()
	var got result
	c.Submit(store.Message{Room: "", Text: "x"}, func(m store.Message, err error) { got = result{m, err} })
	if !errors.Is(got.err, store.ErrInvalid) {
		t.Errorf("invalid message: %v, want ErrInvalid at once", got.err)
	}
	c.Submit(msg("r", "nil callback"), nil) // allowed
}

// TestCommitterPanic checks that a panicking callback is logged and does
// not stop the writer.
func TestCommitterPanic(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	c := store.NewCommitter(newFakeStore(), store.CommitterConfig{Logger: logger})
	defer c.Close()
	var rec recorder
	c.Submit(msg("r", "boom"), func(store.Message, error) { panic("boom") })
	c.Submit(msg("r", "after"), rec.done())
	if r := rec.wait(t)[0]; r.err != nil || r.m.ID != 2 {
		t.Errorf("after a panic: %+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "panic") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("panic not logged: %q", logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestCommitterOverlap checks that a batch's callbacks run while the next
// batch commits: a callback that waits for the next commit to start does
// not stall the Committer.
func TestCommitterOverlap(t *testing.T) {
	f := held()
	c := store.NewCommitter(f, store.CommitterConfig{Logger: quiet})
	defer c.Close()
	secondStarted := make(chan struct{})
	reported := make(chan string, 2)
	c.Submit(msg("r", "first"), func(m store.Message, err error) {
		select {
		case <-secondStarted:
		case <-time.After(10 * time.Second):
			t.Error("the second commit did not start while the first was reported")
		}
		reported <- m.Text
	})
	f.waitEntered(t)
	c.Submit(msg("r", "second"), func(m store.Message, err error) { reported <- m.Text })
	f.hold <- struct{}{} // the first commit ends
	f.waitEntered(t)     // the second starts, with the first's callback under way
	close(secondStarted)
	f.hold <- struct{}{}
	for _, want := range []string{"first", "second"} {
		if got := <-reported; got != want {
			t.Fatalf("reported %q, want %q", got, want)
		}
	}
}
