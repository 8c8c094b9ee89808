package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// storm is the state of a restart storm (Config.Restart), beside its
// runner's.
type storm struct {
	r       *runner
	clients []*stormClient
	// joining counts down the clients that have not joined or failed yet.
	joining sync.WaitGroup

	// storming is set when the restart begins: from then on, lost
	// connections are reconnected. counting is set then too, and cleared
	// at the end of the hold: the events received meanwhile are counted.
	storming, counting atomic.Bool
	// restartAt is when the restart began (unix nanoseconds).
	restartAt atomic.Int64

	nJoined, nBack, nGaveUp atomic.Int64
	// What the restart and the clients' return did, counted from the
	// restart on.
	closed, cutOff, attempts, failedAttempts atomic.Int64
	rejoins, retries, renamed                atomic.Int64
	pages, names                             atomic.Uint64
}

// newStorm makes the run's clients.
func newStorm(r *runner) *storm {
	s := &storm{r: r, clients: make([]*stormClient, r.cfg.Clients)}
	for i := range s.clients {
		s.clients[i] = &stormClient{s: s, id: i, name: r.name(i), shard: &r.shards[i%len(r.shards)]}
	}
	return s
}

// joined records a client that joined before the restart.
func (s *storm) joined(sc *stormClient) {
	s.nJoined.Add(1)
	s.r.nJoined.Add(1)
	s.r.connect.Record(time.Since(sc.start))
	s.joining.Done()
}

// failed records a client that never joined; errGaveUp's reason is
// noted already.
func (s *storm) failed(sc *stormClient, err error) {
	if sc.state.Load() != stJoining {
		return
	}
	sc.state.Store(stFailed)
	s.r.nFailed.Add(1)
	if !errors.Is(err, errGaveUp) {
		s.r.noteErr("connect", err)
	}
	s.joining.Done()
}

// ended records, after the restart began, the end of a connection of a
// client that was in state st: the restart's own closing of it, the
// server cutting it off once it was back, or a failed attempt to come
// back.
func (s *storm) ended(sc *stormClient, st int32, err error) {
	switch st {
	case stJoined:
		s.closed.Add(1)
	case stBack:
		s.cutOff.Add(1)
		s.r.noteErr("cut off after coming back", err)
	default:
		s.failedAttempts.Add(1)
		s.r.noteErr("attempt to come back", err)
	}
	sc.state.Store(stAway)
}

// launch starts the clients, ConnectRate per second, until all are
// started or ctx is done; the ones not started count as failed.
func (s *storm) launch(ctx context.Context) {
	r := s.r
	s.joining.Add(len(s.clients))
	start := time.Now()
	for i := 0; i < len(s.clients); {
		due := min(int(time.Since(start).Seconds()*r.cfg.ConnectRate)+1, len(s.clients))
		for ; i < due; i++ {
			r.readers.Add(1)
			go s.clients[i].run(ctx)
		}
		if i == len(s.clients) {
			return
		}
		wait := time.Duration(float64(i)/r.cfg.ConnectRate*float64(time.Second)) - time.Since(start)
		if !sleep(ctx, max(wait, 0)) {
			for _, sc := range s.clients[i:] {
				s.failed(sc, context.Canceled)
			}
			return
		}
	}
}

// closeAll ends every client, in parallel.
func (s *storm) closeAll() {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range min(closeWorkers, len(s.clients)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(s.clients) {
					return
				}
				s.clients[i].close(closeTimeout)
			}
		})
	}
	wg.Wait()
}

// settled reports whether each of the expected clients is back or has
// given up.
func (s *storm) settled(expected int64) bool { return s.nBack.Load()+s.nGaveUp.Load() >= expected }

// runStorm is Run for a restart storm (Config.Restart).
func runStorm(ctx context.Context, cfg Config, r *runner, res *Result) (*Result, error) {
	s := newStorm(r)
	st := &StormStats{Rejoin: cfg.Rejoin}
	res.Storm = st

	var smp *sampler
	if cfg.PID > 0 {
		if _, err := procRSS(cfg.PID); err != nil {
			return nil, fmt.Errorf("bench: reading the server's memory: %w", err)
		}
		smp = startSampler(cfg.PID, cfg.SampleInterval)
		defer func() { smp.stop() }()
		res.Server = &ServerStats{PID: cfg.PID}
		res.Server.RSSBeforeKiB, _ = smp.sample()
	}
	if cfg.Progress != nil {
		p := startStormProgress(s, cfg.Progress)
		defer p.stop()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Join, and wait for the joins' announcements to be delivered.
	t := time.Now()
	cpu0 := serverCPU(cfg.PID)
	s.launch(ctx)
	s.joining.Wait()
	res.ConnectTime = time.Since(t)
	res.Connected = int(s.nJoined.Load())
	if res.Connected > 0 {
		t = time.Now()
		if !r.settle(ctx) && ctx.Err() == nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the server was still sending events after %v", cfg.Settle))
		}
		res.SettleTime = time.Since(t)
	}
	res.SettleEvents = r.totals().events
	if smp != nil {
		res.Server.ConnectCPU = serverCPU(cfg.PID) - cpu0
		res.Server.RSSConnectedKiB, _ = smp.sample()
		if res.Connected > 0 && res.Server.RSSConnectedKiB > 0 {
			res.Server.RSSPerClientKiB = float64(res.Server.RSSConnectedKiB-res.Server.RSSBeforeKiB) / float64(res.Connected)
		}
	}
	var err error
	if res.Connected == 0 {
		err = ErrNoClients
	} else {
		s.restart(ctx, res, &smp)
	}
	s.counting.Store(false)
	r.phase.Store("closing")
	s.closeAll()
	cancel()
	if !waitTimeout(&r.readers, stopTimeout) {
		res.Warnings = append(res.Warnings, "some connections did not stop within "+stopTimeout.String())
	}
	s.finish(res)
	return res, err
}

// restart restarts the server, waits for the clients to come back,
// for the server to go quiet and through the hold, and measures; what
// fails is in res.Warnings.
func (s *storm) restart(ctx context.Context, res *Result, smp **sampler) {
	r, cfg, st := s.r, s.r.cfg, res.Storm
	expected := s.nJoined.Load() - r.nDropped.Load()
	st.Joined = int(expected)
	cpuOld := serverCPU(cfg.PID)
	r.phase.Store("restarting")
	var m span
	m.snapshot(0, false)
	start := m.from
	s.restartAt.Store(start.UnixNano())
	s.counting.Store(true)
	s.storming.Store(true)
	type restarted struct {
		pid int
		err error
		at  time.Time
	}
	done := make(chan restarted, 1)
	go func() {
		pid, err := cfg.Restart(ctx)
		done <- restarted{pid, err, time.Now()}
	}()
	limit := time.NewTimer(cfg.StormLimit)
	defer limit.Stop()
	tick := time.NewTicker(settlePoll)
	defer tick.Stop()
	var (
		rs      *restarted
		newPID  int
		stopped bool
	)
	for !stopped && !(s.settled(expected) && rs != nil) {
		select {
		case x := <-done:
			rs = &x
			st.RestartTime = x.at.Sub(start)
			if x.err != nil {
				res.Warnings = append(res.Warnings, "restarting the server: "+x.err.Error())
			}
			if cfg.PID > 0 && x.pid > 0 && x.pid != cfg.PID {
				newPID = x.pid
				st.PID = x.pid
			}
			r.phase.Store("coming back")
		case <-tick.C:
			if d, err := procCPU(cfg.PID); cfg.PID > 0 && err == nil {
				st.OldCPU = d - cpuOld
			}
		case <-limit.C:
			stopped = true
		case <-ctx.Done():
			stopped = true
		}
	}
	if d, err := procCPU(cfg.PID); cfg.PID > 0 && err == nil {
		st.OldCPU = d - cpuOld // it has not exited
	}
	if n := s.nBack.Load(); n < expected && ctx.Err() == nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d clients were not back %v after the restart", expected-n, expected, cfg.StormLimit))
	}
	if rs == nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the restart did not return within %v", cfg.StormLimit))
	}

	// The new server: its memory from now on, its CPU since it started.
	if newPID > 0 {
		if _, err := procRSS(newPID); err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("reading the new server's memory (pid %d): %v", newPID, err))
			newPID = 0
		} else {
			(*smp).stop()
			*smp = startSampler(newPID, cfg.SampleInterval)
		}
	}
	if ctx.Err() == nil {
		r.phase.Store("settling")
		t := time.Now()
		if !r.settle(ctx) && ctx.Err() == nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the server was still sending events %v after the clients were back", cfg.Settle))
		}
		st.SettleTime = time.Since(t)
	}
	m.snapshot(0, true)
	res.Measured, res.BenchCPU = m.to.Sub(m.from), m.selfCPU
	if m.hostTotal > 0 {
		res.HostBusy = float64(m.hostBusy) / float64(m.hostTotal)
	}
	if newPID > 0 {
		st.CPU = serverCPU(newPID)
		st.RSSKiB, _ = (*smp).sample()
		if d := res.Measured.Seconds() * float64(runtime.NumCPU()); d > 0 {
			res.OtherBusy = max(0, res.HostBusy-(st.CPU+st.OldCPU+m.selfCPU).Seconds()/d)
		}
	}
	r.phase.Store("holding")
	sleep(ctx, cfg.Duration)
	st.Held = cfg.Duration
	if newPID > 0 {
		st.RSSMaxKiB = (*smp).peak(time.Time{}, time.Now())
		if err := (*smp).err(); err != nil {
			res.Warnings = append(res.Warnings, "reading the new server's memory: "+err.Error())
		}
	}
}

// backTimes returns how long after the restart the clients were back.
func (s *storm) backTimes() *Histogram {
	h := new(Histogram)
	at := s.restartAt.Load()
	for _, sc := range s.clients {
		if b := sc.backAt.Load(); b > 0 {
			h.Record(time.Duration(b - at))
		}
	}
	return h
}

// finish fills in the result once the clients have stopped.
func (s *storm) finish(res *Result) {
	r, st := s.r, res.Storm
	res.ConnectFailures = int(r.nFailed.Load())
	res.Dropped = int(r.nDropped.Load())
	res.ConnectP50 = r.connect.Quantile(0.5)
	res.ConnectP99 = r.connect.Quantile(0.99)
	res.ConnectMax = r.connect.Max()
	res.Errors = r.errorCounts()
	t := r.totals()
	res.Malformed, res.ServerErrors = t.malformed, t.serverErrors

	st.Closed = int(s.closed.Load())
	st.Back = int(s.nBack.Load())
	st.CutOff = int(s.cutOff.Load())
	st.Attempts = int(s.attempts.Load())
	st.FailedAttempts = int(s.failedAttempts.Load())
	st.Rejoins = int(s.rejoins.Load())
	st.Retries = int(s.retries.Load())
	st.Renamed = int(s.renamed.Load())
	st.MemberPages = s.pages.Load()
	st.MemberNames = s.names.Load()
	h := s.backTimes()
	st.BackP50, st.BackP99, st.BackMax = h.Quantile(0.5), h.Quantile(0.99), h.Max()
	if st.Back >= st.Joined {
		st.AllBack = st.BackMax // perhaps after the storm's limit, while settling
	}
	at := s.restartAt.Load()
	var uc, ud []uint64
	for _, sc := range s.clients {
		if sc.state.Load() == stFailed || sc.state.Load() == stDropped {
			continue
		}
		uc = append(uc, sc.connected.Load())
		ud = append(ud, sc.disconnected.Load())
		if l := sc.listedAt.Load(); l > 0 {
			st.ListedMax = max(st.ListedMax, time.Duration(l-at))
			st.Listed++
		}
		if sc.state.Load() == stGaveUp {
			st.GaveUp++
		}
	}
	st.UserConnected = countsOf(uc)
	st.UserDisconnected = countsOf(ud)
}

// EventCounts is how many events of one kind each client received: in
// all, and the median and the most over the clients.
type EventCounts struct {
	Total uint64 `json:"total"`
	P50   uint64 `json:"p50"`
	Max   uint64 `json:"max"`
}

// countsOf summarises per-client counts.
func countsOf(v []uint64) EventCounts {
	if len(v) == 0 {
		return EventCounts{}
	}
	slices.Sort(v)
	var c EventCounts
	for _, n := range v {
		c.Total += n
	}
	c.P50, c.Max = v[len(v)/2], v[len(v)-1]
	return c
}

// stormProgress writes a line about a restart storm each second, from its
// own goroutine, until stop.
type stormProgress struct {
	s     *storm
	w     io.Writer
	stopc chan struct{}
	done  chan struct{}
}

func startStormProgress(s *storm, w io.Writer) *stormProgress {
	p := &stormProgress{s: s, w: w, stopc: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *stormProgress) loop() {
	defer close(p.done)
	start := time.Now()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last uint64
	lastAt := start
	for {
		select {
		case <-p.stopc:
			return
		case now := <-t.C:
			s := p.s
			ev := s.r.totals().events
			var uc, ud uint64
			for _, sc := range s.clients {
				uc += sc.connected.Load()
				ud += sc.disconnected.Load()
			}
			fmt.Fprintf(p.w, "bench %3.0fs %-11s joined %d/%d failed %d dropped %d | back %d cut off %d attempts %d | user-connected %d user-disconnected %d | %.0f events/s\n",
				now.Sub(start).Seconds(), s.r.phase.Load(), s.nJoined.Load(), len(s.clients), s.r.nFailed.Load(), s.r.nDropped.Load(),
				s.nBack.Load(), s.cutOff.Load(), s.attempts.Load(), uc, ud, float64(ev-last)/now.Sub(lastAt).Seconds())
			last, lastAt = ev, now
		}
	}
}

func (p *stormProgress) stop() {
	close(p.stopc)
	<-p.done
}
