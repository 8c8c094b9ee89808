package storetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// Submitters is the number of concurrent senders in the parallel
// benchmarks: a busy chat server's worth of clients with a message in
// flight.
const Submitters = 64

// Bench runs the throughput benchmarks against the backend f makes, each on
// a new database. ns/op, B/op and allocs/op are per message, and msgs/s is
// the rate of messages stored:
//
//   - Committer: Submitters goroutines send through a store.Committer, each
//     waiting for its message to be acknowledged before sending the next, as
//     a client does; msgs/batch is the mean batch size.
//   - AppendOne: one goroutine appends 1-message batches, one transaction
//     per message.
//   - AppendOneParallel: Submitters goroutines append 1-message batches
//     directly, without group commit.
//   - ListRooms: pages of 100 of BenchListedRooms rooms active lately,
//     among BenchIdleRooms that are not; ns/op is per page.
//   - History: the newest page of 50 of a room of 1,000 messages, among
//     100 rooms, as scrollback and a join read it; ns/op is per page.
//   - ClaimParallel: Submitters goroutines claim new names, as people
//     arriving together do; msgs/s is claims per second.
//   - Seen: recording 1,000 identities as seen, as a server that stops
//     records the people online: one by one (SeenIdentity) or at once
//     (SeenIdentities); ns/op is per identity.
func Bench(b *testing.B, f Factory) {
	b.Run(fmt.Sprintf("Committer/submitters=%d", Submitters), func(b *testing.B) {
		benchCommitter(b, f, Submitters)
	})
	b.Run("AppendOne", func(b *testing.B) {
		benchAppendOne(b, f)
	})
	b.Run(fmt.Sprintf("AppendOneParallel/submitters=%d", Submitters), func(b *testing.B) {
		benchAppendParallel(b, f, Submitters)
	})
	b.Run(fmt.Sprintf("ListRooms/listed=%d/idle=%d", BenchListedRooms, BenchIdleRooms), func(b *testing.B) {
		benchListRooms(b, f)
	})
	b.Run("History/page=50", func(b *testing.B) {
		benchHistory(b, f)
	})
	b.Run(fmt.Sprintf("ClaimParallel/submitters=%d", Submitters), func(b *testing.B) {
		s := openBench(b, f)
		now := time.Now()
		parallel(b, Submitters, func(i int64) error {
			id := fmt.Sprintf("claimant-%d", i)
			_, err := s.ClaimName(context.Background(), store.Claim{ID: id, Name: id, Key: id, Now: now, Reserve: time.Hour, Kept: true})
			return err
		})
	})
	for _, batch := range []bool{false, true} {
		b.Run(fmt.Sprintf("Seen/identities=1000/batch=%v", batch), func(b *testing.B) {
			benchSeen(b, f, 1000, batch)
		})
	}
}

// benchSeen records n identities as seen, one by one or in one batch.
func benchSeen(b *testing.B, f Factory, n int, batch bool) {
	s := openBench(b, f)
	ctx := context.Background()
	ids := make([]string, n)
	t0 := time.Now()
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-%d", i)
		if _, err := s.ClaimName(ctx, store.Claim{ID: ids[i], Name: ids[i], Key: ids[i], Now: t0, Reserve: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		at := t0.Add(time.Duration(i+1) * time.Millisecond)
		if batch {
			if err := s.SeenIdentities(ctx, ids, at); err != nil {
				b.Fatal(err)
			}
			continue
		}
		for _, id := range ids {
			if err := s.SeenIdentity(ctx, id, at); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/identity")
}

// benchHistory reads the newest 50 messages of one of 100 rooms.
func benchHistory(b *testing.B, f Factory) {
	s := openBench(b, f)
	ctx := context.Background()
	for i := range 100 {
		msgs := make([]store.Message, 1000)
		for j := range msgs {
			msgs[j] = store.Message{Room: fmt.Sprintf("Room %03d", i), Author: "ann", Text: "a message of a few words"}
		}
		if _, err := s.Append(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		msgs, err := s.History(ctx, "Room 042", 0, 50)
		if err != nil || len(msgs) != 50 {
			b.Fatalf("History: %d messages, %v", len(msgs), err)
		}
	}
}

// The rooms of the ListRooms benchmark: a chat whose list holds some
// hundreds of rooms, among thousands made once and left.
const (
	BenchListedRooms = 1_000
	BenchIdleRooms   = 9_000
)

// benchListRooms pages through the rooms active lately, 100 at a time, as
// the chat's list-rooms does.
func benchListRooms(b *testing.B, f Factory) {
	s := openBench(b, f)
	ctx := context.Background()
	var listed []string
	for i := range BenchListedRooms + BenchIdleRooms {
		name := fmt.Sprintf("room %05d", i*7919%(BenchListedRooms+BenchIdleRooms)) // listed ones spread out
		if _, err := s.CreateRoom(ctx, name); err != nil {
			b.Fatal(err)
		}
		if i < BenchListedRooms {
			listed = append(listed, name)
		}
	}
	now := store.Timestamp(time.Now().Add(time.Hour))
	if err := s.TouchRooms(ctx, now, listed); err != nil {
		b.Fatal(err)
	}
	q := store.RoomQuery{ActiveSince: now, Limit: 100}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rooms, err := s.ListRooms(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(rooms) == 0 && q.After == "" {
			b.Fatal("ListRooms: no rooms")
		}
		q.After = ""
		if len(rooms) == q.Limit {
			q.After = rooms[len(rooms)-1].Name
		}
	}
}

// benchRooms is the number of rooms the benchmarks spread messages over.
const benchRooms = 8

// benchMessage returns the i-th message of a benchmark.
func benchMessage(i int64) store.Message {
	return store.Message{
		Room:   fmt.Sprintf("room-%d", i%benchRooms),
		Author: "user-" + fmt.Sprint(i%100),
		Text:   "a typical chat message, about sixty bytes long, no more.",
	}
}

// counter is a Store that counts Append calls.
type counter struct {
	store.Store
	appends atomic.Int64
}

func (c *counter) Append(ctx context.Context, msgs []store.Message) ([]store.Message, error) {
	c.appends.Add(1)
	return c.Store.Append(ctx, msgs)
}

// openBench opens a store on a new database, closed when b's run ends.
func openBench(b *testing.B, f Factory) store.Store {
	b.Helper()
	s := f(b)()
	b.Cleanup(func() {
		if err := s.Close(); err != nil {
			b.Errorf("Close: %v", err)
		}
	})
	return s
}

// parallel runs send on n goroutines until b.N messages are sent, and
// reports msgs/s.
func parallel(b *testing.B, n int, send func(i int64) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range n {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := send(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

func benchCommitter(b *testing.B, f Factory, submitters int) {
	s := &counter{Store: openBench(b, f)}
	c := store.NewCommitter(s, store.CommitterConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer c.Close()
	var acks sync.Pool
	acks.New = func() any { return make(chan error, 1) }
	parallel(b, submitters, func(i int64) error {
		ack := acks.Get().(chan error)
		defer acks.Put(ack)
		c.Submit(benchMessage(i), func(_ store.Message, err error) { ack <- err })
		return <-ack
	})
	if n := s.appends.Load(); n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "msgs/batch")
	}
}

func benchAppendOne(b *testing.B, f Factory) {
	s := openBench(b, f)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range int64(b.N) {
		if _, err := s.Append(ctx, []store.Message{benchMessage(i)}); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

func benchAppendParallel(b *testing.B, f Factory, submitters int) {
	s := openBench(b, f)
	ctx := context.Background()
	parallel(b, submitters, func(i int64) error {
		_, err := s.Append(ctx, []store.Message{benchMessage(i)})
		return err
	})
}
