package bench

import (
	"sync/atomic"
	"time"
)

// Sender groups: how many senders share one ticker and goroutine. A
// WebSocket write only copies into the kernel's buffer, so one goroutine
// keeps up with many; a polling write is an HTTP round trip, so each
// polling sender has its own.
const (
	wsGroupSize      = 32
	pollingGroupSize = 1
	// minTick is the shortest ticker period; a tick sends what is due.
	minTick = time.Millisecond
)

// maxDebt is how far behind its schedule a sender group may catch up:
// beyond that, it skips messages rather than bursting.
const maxDebt = 100 * time.Millisecond

// group paces the messages of a few senders on one ticker: it spreads
// their total rate evenly, sending from each in turn.
type group struct {
	members []*client
	rate    float64 // messages per second, per member
	// unsent counts the messages due that were not sent: skipped when
	// the group fell behind, or whose sender was disconnected.
	unsent atomic.Uint64
}

// run sends from start until end or stop. A group that falls behind
// catches up on what was due in the last maxDebt, at least one message per
// member, and skips the rest.
func (g *group) run(start, end time.Time, stop <-chan struct{}) {
	n := len(g.members)
	total := g.rate * float64(n)
	period := max(time.Duration(float64(time.Second)/total), minTick)
	debt := max(int64(n), int64(total*maxDebt.Seconds()))
	select {
	case <-stop:
		return
	case <-time.After(time.Until(start)):
	}
	t := time.NewTicker(period)
	defer t.Stop()
	var issued int64
	next := 0
	for {
		now := time.Now()
		if !now.Before(end) {
			return
		}
		due := int64(now.Sub(start).Seconds()*total) + 1
		if skip := due - debt - issued; skip > 0 {
			g.unsent.Add(uint64(skip))
			issued += skip
			next = int((int64(next) + skip) % int64(n))
		}
		for ; issued < due; issued++ {
			if !g.members[next].send() {
				g.unsent.Add(1)
			}
			next = (next + 1) % n
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// groups splits the senders into groups of at most size, and returns
// them with their start times, spread over one period of the first.
func groups(senders []*client, size int, rate float64, start time.Time) ([]*group, []time.Time) {
	var gs []*group
	for i := 0; i < len(senders); i += size {
		gs = append(gs, &group{members: senders[i:min(i+size, len(senders))], rate: rate})
	}
	starts := make([]time.Time, len(gs))
	if len(gs) > 0 {
		period := time.Duration(float64(time.Second) / (rate * float64(len(gs[0].members))))
		for i := range gs {
			starts[i] = start.Add(period * time.Duration(i) / time.Duration(len(gs)))
		}
	}
	return gs, starts
}
