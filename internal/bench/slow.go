package bench

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Slow readers (Config.SlowReaders).
const (
	// slowRcvBuf is the receive buffer (SO_RCVBUF) a slow reader asks
	// for; Linux doubles it for its own bookkeeping.
	slowRcvBuf = 4 << 10
	// probeQuiet is how long a probe waits for more from the server
	// before it takes the connection to be open; probeLimit bounds the
	// probes of a run, which take about probeQuiet per probeWorkers slow
	// readers.
	probeQuiet = 500 * time.Millisecond
	probeLimit = 10 * time.Second
	// probeWorkers probe the slow readers in parallel.
	probeWorkers = 1024
	// slowCutOffPhase names the errors of slow readers cut off, in
	// Result.Errors.
	slowCutOffPhase = "slow reader cut off"
)

// slowCount is how many of the clients that do not send are slow readers.
func slowCount(cfg Config) int {
	return int(math.Round(cfg.SlowReaders * float64(cfg.Clients-cfg.Senders)))
}

// isSlow reports whether receiver i of m is one of the n slow readers,
// which are spread evenly over the receivers (and so over the connection
// order, the loopback sources and the counter shards).
func isSlow(i, n, m int) bool {
	return n > 0 && (i+1)*n/m != i*n/m
}

// probeSlow finds which of the slow readers that stopped reading the
// server has cut off, and counts them; it returns how many it could not
// probe within probeLimit. A slow reader to which the server has sent
// nothing since it settled is still reading: it has not stopped, and
// counts as cut off only if its read fails.
func (r *runner) probeSlow(ctx context.Context) (unprobed int) {
	var stopped []*client
	for _, c := range r.clients {
		if c.state.Load() == stateStopped {
			stopped = append(stopped, c)
		}
	}
	if len(stopped) == 0 {
		return 0
	}
	r.phase.Store("probing")
	end := time.Now().Add(probeLimit)
	var wg sync.WaitGroup
	var next, skipped atomic.Int64
	for range min(probeWorkers, len(stopped)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(stopped) {
					return
				}
				limit := time.Until(end)
				if limit <= 0 {
					skipped.Add(1)
					continue
				}
				err := stopped[i].probe(min(probeQuiet, limit), limit)
				if err != nil && ctx.Err() == nil { // not closed by Run
					stopped[i].state.Store(stateDropped) // no goodbye
					r.nSlowCutOff.Add(1)
					r.noteErr(slowCutOffPhase, err)
				}
			}
		})
	}
	wg.Wait()
	return int(skipped.Load())
}
