package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Run connects the clients, sends for the warm-up and the measured
// window (or idles through it), waits for the last deliveries, closes the
// clients and returns what it measured. It ends by itself; canceling ctx
// ends it early, with what was measured so far. It returns an error when
// the configuration is invalid, when the server's process cannot be read,
// or, with the result, when no client could connect. Clients that fail or
// are dropped are counted in the result, not returned as errors.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	res := newResult(cfg, r.runID)
	if cfg.SlowReaders > 0 && slowCount(cfg) == 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("no slow reader: a fraction %g of %d receivers rounds to none", cfg.SlowReaders, cfg.Clients-cfg.Senders))
	}
	if res.NoFile, err = raiseNoFile(); err != nil {
		res.Warnings = append(res.Warnings, err.Error())
	}
	conns := uint64(cfg.Clients)
	if cfg.Transport == TransportPolling {
		conns *= 2
	}
	if res.NoFile > 0 && conns+64 > res.NoFile {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d connections need more open files than the limit, %d", conns, res.NoFile))
	}

	if cfg.Restart != nil {
		return runStorm(ctx, cfg, r, res)
	}

	var smp *sampler
	if cfg.PID > 0 {
		if _, err := procRSS(cfg.PID); err != nil {
			return nil, fmt.Errorf("bench: reading the server's memory: %w", err)
		}
		smp = startSampler(cfg.PID, cfg.SampleInterval)
		defer smp.stop()
		res.Server = &ServerStats{PID: cfg.PID}
		res.Server.RSSBeforeKiB, _ = smp.sample()
	}
	if cfg.Progress != nil {
		p := startProgress(r, cfg.Progress)
		defer p.stop()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(ctx, r.closeAll)()

	// Connect, and wait for the joins' announcements to be delivered.
	t := time.Now()
	cpu0 := serverCPU(cfg.PID)
	r.launch(ctx)
	r.connecting.Wait()
	res.ConnectTime = time.Since(t)
	res.Connected = int(r.nJoined.Load())
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
	}

	var m span
	if res.Connected == 0 {
		err = ErrNoClients
	} else if cfg.Idle {
		m = r.idle(ctx)
	} else {
		m = r.load(ctx, res)
	}
	if smp != nil {
		res.Server.RSSEndKiB, _ = smp.sample()
	}
	if ctx.Err() == nil {
		if n := r.probeSlow(ctx); n > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%d slow readers were not probed within %v: taken as not cut off", n, probeLimit))
		}
	}

	r.phase.Store("closing")
	r.closeAll()
	if !waitTimeout(&r.readers, stopTimeout) {
		res.Warnings = append(res.Warnings, "some connections did not stop within "+stopTimeout.String())
	}
	r.finish(res, m, smp)
	return res, err
}

// span is the measured window and what was read at its edges.
type span struct {
	from, to            time.Time
	serverCPU           time.Duration
	selfCPU             time.Duration
	hostBusy, hostTotal uint64
	serverErr           error
}

// snapshot reads the CPU counters at the start (end false) or end of the
// window.
func (m *span) snapshot(pid int, end bool) {
	now := time.Now()
	self := selfCPU()
	busy, total, _ := hostCPU()
	var cpu time.Duration
	if pid > 0 {
		var err error
		if cpu, err = procCPU(pid); err != nil && m.serverErr == nil {
			m.serverErr = err
		}
	}
	if !end {
		m.from, m.selfCPU, m.hostBusy, m.hostTotal, m.serverCPU = now, self, busy, total, cpu
		return
	}
	m.to = now
	m.selfCPU = self - m.selfCPU
	m.hostBusy, m.hostTotal = busy-m.hostBusy, total-m.hostTotal
	m.serverCPU = cpu - m.serverCPU
}

// idle measures the server through the window without sending.
func (r *runner) idle(ctx context.Context) span {
	var m span
	start := time.Now()
	end := start.Add(r.cfg.Duration)
	r.winEnd.Store(end.UnixNano())
	r.winStart.Store(start.UnixNano())
	r.phase.Store("idle")
	m.snapshot(r.cfg.PID, false)
	r.onWindow(true)
	if sleepUntil(ctx, end) {
		m.snapshot(r.cfg.PID, true)
		r.onWindow(false)
	} else {
		m.snapshot(r.cfg.PID, true)
	}
	return m
}

// load sends through the warm-up and the window, then drains.
func (r *runner) load(ctx context.Context, res *Result) span {
	var m span
	var senders []*client
	for _, c := range r.clients[:r.cfg.Senders] {
		if c.state.Load() == stateConnected {
			senders = append(senders, c)
		}
	}
	res.SendersActive = len(senders)
	// The slow readers stop at the next packet they get.
	r.stopReading.Store(true)
	start := time.Now().Add(sendLead)
	from := start.Add(r.cfg.Warmup)
	to := from.Add(r.cfg.Duration)
	r.winEnd.Store(to.UnixNano())
	r.winStart.Store(from.UnixNano())

	size := wsGroupSize
	if r.cfg.Transport == TransportPolling {
		size = pollingGroupSize
	}
	gs, starts := groups(senders, size, r.cfg.Rate, start)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, g := range gs {
		wg.Go(func() { g.run(starts[i], to, stop) })
	}
	// The steady clients are connected now, and must stay.
	r.steady = r.steady[:0]
	for _, c := range r.clients {
		if !c.slow && !c.churns && c.state.Load() == stateConnected {
			r.steady = append(r.steady, c)
		}
	}
	if r.cfg.Churn > 0 {
		wg.Go(func() { r.churner(ctx, start, to, stop) })
	}
	if r.cfg.Hostile {
		params := defaultHostile
		if r.cfg.hostile != nil {
			params = *r.cfg.hostile
		}
		if h, err := newHostile(r.nodes.nodes[r.nodes.receivers[0]].base, r.cfg.Path, r.runID, params); err != nil {
			res.Warnings = append(res.Warnings, "hostile client: "+err.Error())
		} else {
			res.Hostile = &h.report
			wg.Go(func() { h.run(ctx, start, to, stop) })
		}
	}
	r.phase.Store("warm-up")
	if sleepUntil(ctx, from) {
		r.phase.Store("measuring")
		m.snapshot(r.cfg.PID, false)
		r.onWindow(true)
		if sleepUntil(ctx, to) {
			m.snapshot(r.cfg.PID, true)
			r.onWindow(false)
		}
	}
	close(stop)
	wg.Wait()
	for _, g := range gs {
		res.Unsent += g.unsent.Load()
	}
	if m.to.IsZero() {
		if !m.from.IsZero() {
			m.snapshot(r.cfg.PID, true)
		}
		return m // canceled
	}

	// Drain: wait for the deliveries of what was sent in the window.
	r.phase.Store("draining")
	deadline := time.Now().Add(r.cfg.Drain)
	for !r.drained(res.Connected) && time.Now().Before(deadline) {
		if !sleep(ctx, drainPoll) {
			break
		}
	}
	return m
}

// onWindow calls Config.OnWindow, if set.
func (r *runner) onWindow(open bool) {
	if r.cfg.OnWindow != nil {
		r.cfg.OnWindow(open)
	}
}

// drained reports whether what was sent in the window has all been
// delivered: to every healthy client, or, with Config.Churn or Ack, to
// every steady one (and, with Ack, whether every message has its answer).
func (r *runner) drained(connected int) bool {
	_, sent := r.sent()
	if !r.bySteady() {
		healthy := r.healthy(connected)
		expected := sent * uint64(max(healthy-1, 0))
		return r.totals().received >= expected || r.nDropped.Load() >= int64(healthy)
	}
	if r.cfg.Ack {
		var answered uint64
		for _, s := range r.clients[:r.cfg.Senders] {
			answered += s.ackedN.Load() + s.refused.Load()
		}
		if answered < sent && r.sendersConnected() {
			return false
		}
	}
	expected, received := r.steadyFigures()
	return received >= expected
}

// sendersConnected reports whether every sender is still connected, and
// so may still get its acks.
func (r *runner) sendersConnected() bool {
	for _, s := range r.clients[:r.cfg.Senders] {
		if s.state.Load() != stateConnected {
			return false
		}
	}
	return true
}

// bySteady reports whether the delivery figures are those of the steady
// clients: with Config.Churn, which has clients come and go, or Ack.
func (r *runner) bySteady() bool { return r.cfg.Churn > 0 || r.cfg.Ack }

// steadyFigures returns the deliveries the steady clients still connected
// expect of the messages sent in the window, or, with Config.Ack, of
// those acknowledged, and how many of them they received.
func (r *runner) steadyFigures() (expected, received uint64) {
	var total uint64
	per := make([]uint64, r.cfg.Senders)
	for i, s := range r.clients[:r.cfg.Senders] {
		per[i] = s.sentMeasured.Load()
		if r.cfg.Ack {
			per[i] = s.ackedN.Load()
		}
		total += per[i]
	}
	for _, c := range r.steady {
		if c.state.Load() != stateConnected {
			continue
		}
		expected += total
		if c.sender >= 0 {
			expected -= per[c.sender]
		}
		received += c.recvMeasured.Load()
	}
	return expected, received
}

// finish fills in the result.
func (r *runner) finish(res *Result, m span, smp *sampler) {
	res.ConnectFailures = int(r.nFailed.Load())
	res.Dropped = int(r.nDropped.Load())
	res.SlowReaders = int(r.nSlow.Load())
	res.SlowCutOff = int(r.nSlowCutOff.Load())
	res.ConnectP50 = r.connect.Quantile(0.5)
	res.ConnectP99 = r.connect.Quantile(0.99)
	res.ConnectMax = r.connect.Max()
	res.Errors = r.errorCounts()

	all, sent := r.sent()
	t := r.totals()
	res.SentTotal, res.Sent = all, sent
	// Every healthy client but its sender (never a slow reader) hears
	// each message; or, with churn or acks, every steady client.
	if h := r.healthy(res.Connected); h > 0 {
		res.Expected = sent * uint64(h-1)
	}
	res.Received = t.received
	if r.bySteady() {
		res.Expected, res.Received = r.steadyFigures()
	}
	res.Loss = res.Expected - min(res.Expected, res.Received)
	if r.cfg.Churn > 0 {
		res.Churn = &ChurnStats{
			Left:       int(r.nLeft.Load()),
			Joined:     int(r.nRejoined.Load()),
			JoinFailed: int(r.nRejoinFailed.Load()),
		}
	}
	if r.cfg.Ack {
		f := r.checkAcks(r.stillSteady())
		res.Acks = &AckStats{
			Acked: f.acked, Refused: f.refused, Unanswered: f.unanswered,
			Steady: f.steady, Lost: f.lost, Missing: f.missing,
		}
	}
	if r.bySteady() {
		res.Steady = len(r.stillSteady())
	}
	res.Duplicates, res.Reorders, res.Echoes = t.dups, t.late, t.echoes
	res.History, res.Malformed, res.ServerErrors = t.history, t.malformed, t.serverErrors
	h := r.latencies()
	res.LatencyP50, res.LatencyP90 = h.Quantile(0.5), h.Quantile(0.9)
	res.LatencyP99, res.LatencyMax = h.Quantile(0.99), h.Max()
	if r.nodes.multi() {
		clients, senders := r.nodes.count(r.cfg.Clients)
		for k, n := range r.nodes.nodes {
			res.Nodes = append(res.Nodes, NodeStats{
				URL: n.base, Clients: clients[k], Senders: senders[k], Connected: int(r.nodeJoined[k].Load()),
				Deliveries: pathStats(r.nodeShards(k), true, true),
			})
		}
		same, cross := pathStats(r.shards, true, false), pathStats(r.shards, false, true)
		res.SameNode, res.CrossNode = &same, &cross
	}

	if m.to.IsZero() {
		return
	}
	res.Measured = m.to.Sub(m.from)
	if secs := res.Measured.Seconds(); secs > 0 {
		res.DeliveriesPerSec = float64(t.received) / secs
	}
	res.BenchCPU = m.selfCPU
	if m.hostTotal > 0 {
		res.HostBusy = float64(m.hostBusy) / float64(m.hostTotal)
	}
	if smp == nil {
		return
	}
	s := res.Server
	if m.serverErr != nil {
		res.Warnings = append(res.Warnings, "reading the server's CPU time: "+m.serverErr.Error())
	}
	if err := smp.err(); err != nil {
		res.Warnings = append(res.Warnings, "reading the server's memory: "+err.Error())
	}
	s.CPU = m.serverCPU
	if d := res.Measured.Seconds() * float64(runtime.NumCPU()); d > 0 {
		res.OtherBusy = max(0, res.HostBusy-(m.serverCPU+m.selfCPU).Seconds()/d)
	}
	if t.received > 0 {
		s.CPUPerDelivery = m.serverCPU / time.Duration(t.received)
	}
	s.RSSPeakKiB = smp.peak(m.from, m.to)
	s.RSSMaxKiB = smp.peak(time.Time{}, time.Now())
	if res.Connected > 0 && s.RSSConnectedKiB > 0 {
		s.RSSPerClientKiB = float64(s.RSSConnectedKiB-s.RSSBeforeKiB) / float64(res.Connected)
	}
}

// stillSteady returns the steady clients that were still connected at
// the end.
func (r *runner) stillSteady() []*client {
	var out []*client
	for _, c := range r.steady {
		if c.state.Load() == stateConnected {
			out = append(out, c)
		}
	}
	return out
}

// healthy is how many of the connected clients are not slow readers.
func (r *runner) healthy(connected int) int {
	return connected - int(r.nSlow.Load())
}

// waitTimeout waits for wg, at most d, and reports whether it finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// serverCPU returns the CPU time of process pid, 0 without one or when it
// cannot be read.
func serverCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	d, _ := procCPU(pid)
	return d
}
