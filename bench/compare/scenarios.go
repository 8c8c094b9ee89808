package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// params are the sizes and windows of the scenarios.
type params struct {
	idleClients    int           // idle: connected, not joined
	idleWindow     time.Duration //
	joinedClients  int           // idle-joined: connected and joined
	joinedWindow   time.Duration //
	clients        int           // every scenario with messages
	rate           float64       // messages per second per sender
	warmup         time.Duration //
	overloadWindow time.Duration //
	moderateWindow time.Duration //
	pollingClients int           // polling: clients over HTTP long-polling
	pollingWindow  time.Duration //
	slowWindow     time.Duration // slow: long enough for what slow readers miss to pile up
	stepWindow     time.Duration // each step of a ceiling search
	refine         bool          // try a step between a ceiling's last pass and first failure
}

// paramsFor returns the full run's parameters, or the quick run's.
func paramsFor(quick bool) params {
	p := params{
		idleClients:    5000,
		idleWindow:     10 * time.Second,
		joinedClients:  2000,
		joinedWindow:   5 * time.Second,
		clients:        1000,
		rate:           10,
		warmup:         2 * time.Second,
		overloadWindow: 15 * time.Second,
		moderateWindow: 10 * time.Second,
		pollingClients: 200,
		pollingWindow:  15 * time.Second,
		slowWindow:     30 * time.Second,
		stepWindow:     5 * time.Second,
		refine:         true,
	}
	if quick {
		p.idleWindow = 3 * time.Second
		p.joinedWindow = 2 * time.Second
		p.warmup = time.Second
		p.overloadWindow = 4 * time.Second
		p.moderateWindow = 3 * time.Second
		p.pollingWindow = 4 * time.Second
		p.slowWindow = p.overloadWindow
		p.stepWindow = 2 * time.Second
		p.refine = false
	}
	return p
}

// Offered loads, in deliveries per second: each message goes to every
// client but its sender.
const (
	overloadSenders = 10 // × 10 msg/s × 999 ≈ 100k deliveries/s
	moderateSenders = 4  // ≈ 40k deliveries/s
	pollingSenders  = 5  // × 10 msg/s × 199 ≈ 10k deliveries/s, over polling
	slowFraction    = 0.1
	ceilingP99MS    = 100.0
)

// ceilingSteps are the offered loads a ceiling search climbs, in
// deliveries per second.
var ceilingSteps = []float64{20e3, 50e3, 100e3, 150e3, 200e3, 300e3, 400e3, 500e3, 600e3, 800e3, 1e6, 1.2e6, 1.5e6, 2e6, 2.5e6, 3e6}

// scenario is one part of the comparison.
type scenario struct {
	name  string
	about string
	run   func(*runner, context.Context)
}

// scenarioList is every scenario, in the order they run and show.
var scenarioList = []scenario{
	{"idle", "5,000 WebSocket clients connected and idle, none joined: memory per connection", (*runner).idle},
	{"idle-history", "idle, each client first sent the last 50 of the default room's 200 messages: memory per connection (node and parley)", (*runner).idleHistory},
	{"idle-joined", "2,000 clients that each emit new-user, announced to everyone, then idle", (*runner).idleJoined},
	{"overload", "1,000 clients, 10 senders × 10 msg/s (≈100k deliveries/s offered)", (*runner).overload},
	{"moderate", "1,000 clients, 4 senders × 10 msg/s (≈40k deliveries/s offered)", (*runner).moderate},
	{"polling", "200 clients over HTTP long-polling, 5 senders × 10 msg/s (≈10k deliveries/s offered)", (*runner).polling},
	{"ceiling", "the highest offered load held with p99 < 100 ms and no loss, 1,000 clients", (*runner).ceiling},
	{"history", "parley's ceiling with its default SQLite store and with --store memory", (*runner).history},
	{"slow", "10% of the listening clients stop reading: the others' p99 and the server's peak memory (node and parley)", (*runner).slow},
	{"restart-storm", "5,000 joined clients, the server restarted with SIGTERM: how soon all are back, who is cut off, what the others hear (node and parley)", (*runner).restartStorm},
}

// scenarioNames are the names of scenarioList.
func scenarioNames() []string {
	var out []string
	for _, s := range scenarioList {
		out = append(out, s.name)
	}
	return out
}

// dur formats a duration as a bench flag.
func dur(d time.Duration) string { return d.String() }

// loadArgs are the generator's flags for senders × rate over clients
// that only listen (no join announcements to wait for), over window.
func (r *runner) loadArgs(senders int, window time.Duration) []string {
	return []string{
		"--clients", strconv.Itoa(r.p.clients), "--senders", strconv.Itoa(senders),
		"--rate", strconv.FormatFloat(r.p.rate, 'f', -1, 64), "--no-join",
		"--warmup", dur(r.p.warmup), "--duration", dur(window), "--settle", "30s",
	}
}

// offered is the deliveries per second that senders offer.
func (r *runner) offered(senders int) float64 {
	return float64(senders) * r.p.rate * float64(r.p.clients-1)
}

// each runs s for every selected server, in the table's order.
func (r *runner) each(ctx context.Context, s spec, servers []string) map[string]outcome {
	out := map[string]outcome{}
	for _, srv := range r.table.servers {
		if !slices.Contains(servers, srv) || ctx.Err() != nil {
			continue
		}
		s.server, s.store = srv, storeSQLite
		res, err := r.bench(ctx, s)
		out[srv] = outcome{res, err}
	}
	return out
}

// failed fills row's cells of the servers whose run failed.
func failed(rw *row, outs map[string]outcome) {
	for srv, o := range outs {
		if o.err != nil {
			rw.setText(srv, "failed")
		}
	}
}

// perServer adds a row whose value f takes from each server's result.
func (r *runner) perServer(scenario, metric string, better int, outs map[string]outcome, f func(*result) (float64, string, bool)) {
	rw := r.table.add(scenario, metric, better)
	failed(rw, outs)
	for srv, o := range outs {
		if o.err != nil {
			continue
		}
		if v, text, ok := f(o.res); ok {
			rw.set(srv, v, text)
		} else {
			rw.setText(srv, text)
		}
	}
}

// Extractors for perServer.

func rssPerClient(res *result) (float64, string, bool) {
	if res.Server == nil {
		return 0, "no server stats", false
	}
	return res.Server.RSSPerClientKiB, kib(res.Server.RSSPerClientKiB), true
}

func rssConnected(res *result) (float64, string, bool) {
	if res.Server == nil {
		return 0, "no server stats", false
	}
	return float64(res.Server.RSSConnectedKiB), kib(float64(res.Server.RSSConnectedKiB)), true
}

func rssMax(res *result) (float64, string, bool) {
	if res.Server == nil {
		return 0, "no server stats", false
	}
	return float64(res.Server.RSSMaxKiB), kib(float64(res.Server.RSSMaxKiB)), true
}

func connected(res *result) (float64, string, bool) {
	return float64(res.Connected), count(float64(res.Connected)) + " of " + count(float64(res.Clients)), true
}

func deliveries(res *result) (float64, string, bool) {
	return res.DeliveriesPerSec, count(res.DeliveriesPerSec), true
}

func lossPct(res *result) (float64, string, bool) {
	return res.lossPct(), percent(res.lossPct()), true
}

func p50(res *result) (float64, string, bool) {
	return res.LatencyP50MS, millis(res.LatencyP50MS), true
}
func p99(res *result) (float64, string, bool) {
	return res.LatencyP99MS, millis(res.LatencyP99MS), true
}
func pmax(res *result) (float64, string, bool) {
	return res.LatencyMaxMS, millis(res.LatencyMaxMS), true
}

func cpuPerDelivery(res *result) (float64, string, bool) {
	if res.Server == nil || res.Server.CPUMicrosPerDelivery == 0 {
		return 0, "—", false
	}
	return res.Server.CPUMicrosPerDelivery, sig3(res.Server.CPUMicrosPerDelivery) + " µs", true
}

// idle measures memory per connection: clients connect and listen, and
// nothing is announced or sent.
func (r *runner) idle(ctx context.Context) {
	name := fmt.Sprintf("idle: %s clients, no join", count(float64(r.p.idleClients)))
	outs := r.each(ctx, spec{label: "idle", args: r.idleArgs()}, allServers)
	r.perServer(name, "connected", noRatio, outs, connected)
	r.perServer(name, "server RSS per client", lowerBetter, outs, rssPerClient)
	r.perServer(name, "server RSS, all connected", lowerBetter, outs, rssConnected)
	r.perServer(name, "server CPU while idle (% of a core)", lowerBetter, outs, func(res *result) (float64, string, bool) {
		if res.Server == nil || res.MeasuredMS == 0 {
			return 0, "—", false
		}
		pct := 100 * res.Server.CPUSeconds / (res.MeasuredMS / 1000)
		return pct, percent(pct), true
	})
}

// idleArgs are the generator's flags of the idle scenarios: clients that
// connect, listen and send nothing, over the idle window.
func (r *runner) idleArgs() []string {
	return []string{
		"--clients", strconv.Itoa(r.p.idleClients), "--idle", "--no-join",
		"--duration", dur(r.p.idleWindow), "--settle", "30s",
	}
}

// idleHistory is idle on a server whose default room has a history: each
// client gets its last messages on connecting, and the memory is measured
// once they all have (the generator waits for the events to stop). The
// tutorial has no history: node's server is given one for this scenario,
// an array of the last messages in memory (node/server.js, HISTORY), each
// sent to a new connection with socket.emit; parley keeps its history in
// its default SQLite store, filled before it starts. zishang's server has
// none, and is not run.
func (r *runner) idleHistory(ctx context.Context) {
	name := fmt.Sprintf("idle-history: %s clients, no join, each sent %d of %d messages",
		count(float64(r.p.idleClients)), historySent, historyStored)
	outs := r.each(ctx, spec{label: "idle-history", history: historyStored, args: r.idleArgs()}, []string{serverNode, serverParley})
	if len(outs) == 0 {
		return
	}
	r.perServer(name, "connected", noRatio, outs, connected)
	r.perServer(name, "history events received per client", noRatio, outs, eventsPerClient)
	r.perServer(name, "server RSS per client", lowerBetter, outs, rssPerClient)
	r.perServer(name, "server RSS, all connected", lowerBetter, outs, rssConnected)
	r.table.note("idle-history: the tutorial keeps no history; node's server is given one for this scenario, "+
		"the last %d messages in an array (node/server.js with HISTORY=%d), each sent to a new connection by socket.emit; "+
		"parley's are in its SQLite store. zishang's server has none and is not run.", historyStored, historyStored)
}

// eventsPerClient is the events each connected client received before the
// window, on average: on an idle run, what the server sent on connecting.
func eventsPerClient(res *result) (float64, string, bool) {
	if res.Connected == 0 {
		return 0, "—", false
	}
	v := float64(res.SettleEvents) / float64(res.Connected)
	return v, sig3(v), true
}

// idleJoined is idle with the tutorial's join: every client emits
// new-user, which the server announces to everyone already there (N²/2
// user-connected events).
func (r *runner) idleJoined(ctx context.Context) {
	n := r.p.joinedClients
	name := fmt.Sprintf("idle-joined: %s clients joined", count(float64(n)))
	outs := r.each(ctx, spec{label: "idle-joined", args: []string{
		"--clients", strconv.Itoa(n), "--idle", "--duration", dur(r.p.joinedWindow), "--settle", "120s",
		// Each join is announced to everyone there: connect slowly
		// enough for a single-threaded server to keep up.
		"--connect-rate", "200", "--connect-timeout", "20s",
	}}, allServers)
	r.perServer(name, "connected", noRatio, outs, connected)
	r.perServer(name, "server RSS per client", lowerBetter, outs, rssPerClient)
	r.perServer(name, fmt.Sprintf("time to connect and announce all (%.1fM user-connected)", float64(n)*float64(n-1)/2e6),
		lowerBetter, outs, func(res *result) (float64, string, bool) {
			s := (res.ConnectTimeMS + res.SettleMS) / 1000
			return s, sig3(s) + " s", true
		})
	r.perServer(name, "server CPU to connect and announce", lowerBetter, outs, func(res *result) (float64, string, bool) {
		if res.Server == nil {
			return 0, "—", false
		}
		return res.Server.ConnectCPUSeconds, sig3(res.Server.ConnectCPUSeconds) + " s", true
	})
}

// overload offers more than a tutorial server on two cores delivers.
func (r *runner) overload(ctx context.Context) {
	name := fmt.Sprintf("overload: %s offered", kilo(math.Round(r.offered(overloadSenders)/1000)*1000))
	outs := r.each(ctx, spec{label: "overload", args: r.loadArgs(overloadSenders, r.p.overloadWindow)}, allServers)
	r.perServer(name, "deliveries/s", higherBetter, outs, deliveries)
	r.perServer(name, "loss", lowerBetter, outs, lossPct)
	r.perServer(name, "latency p50", lowerBetter, outs, p50)
	r.perServer(name, "latency p99", lowerBetter, outs, p99)
	r.perServer(name, "latency max", lowerBetter, outs, pmax)
	r.perServer(name, "server CPU per delivery", lowerBetter, outs, cpuPerDelivery)
}

// moderate offers a load that every server should hold.
func (r *runner) moderate(ctx context.Context) {
	name := fmt.Sprintf("moderate: %s offered", kilo(math.Round(r.offered(moderateSenders)/1000)*1000))
	outs := r.each(ctx, spec{label: "moderate", args: r.loadArgs(moderateSenders, r.p.moderateWindow)}, allServers)
	r.perServer(name, "deliveries/s", higherBetter, outs, deliveries)
	r.perServer(name, "loss", lowerBetter, outs, lossPct)
	r.perServer(name, "latency p99", lowerBetter, outs, p99)
	r.perServer(name, "server CPU per delivery", lowerBetter, outs, cpuPerDelivery)
}

// pollingArgs are the generator's flags of the polling scenario: the
// moderate scenario's kind of load, over HTTP long-polling, on fewer
// clients (each holds a pending GET and makes a POST per message it sends).
func (r *runner) pollingArgs() []string {
	return []string{
		"--transport", "polling",
		"--clients", strconv.Itoa(r.p.pollingClients), "--senders", strconv.Itoa(pollingSenders),
		"--rate", strconv.FormatFloat(r.p.rate, 'f', -1, 64), "--no-join",
		"--warmup", dur(r.p.warmup), "--duration", dur(r.p.pollingWindow), "--settle", "30s",
	}
}

// polling offers a moderate load over HTTP long-polling, where every
// delivery costs the server an HTTP answer (or a share of one, when
// several messages wait for the same GET). The generator's own CPU is
// shown beside the server's: a polling client costs it more than a
// WebSocket one, and the figures hold only while it keeps up.
func (r *runner) polling(ctx context.Context) {
	offered := float64(pollingSenders) * r.p.rate * float64(r.p.pollingClients-1)
	name := fmt.Sprintf("polling: %s clients, %s offered", count(float64(r.p.pollingClients)), kilo(math.Round(offered/1000)*1000))
	outs := r.each(ctx, spec{label: "polling", args: r.pollingArgs()}, allServers)
	r.perServer(name, "deliveries/s", higherBetter, outs, deliveries)
	r.perServer(name, "loss", lowerBetter, outs, lossPct)
	r.perServer(name, "latency p50", lowerBetter, outs, p50)
	r.perServer(name, "latency p99", lowerBetter, outs, p99)
	r.perServer(name, "latency max", lowerBetter, outs, pmax)
	r.perServer(name, "server CPU per delivery", lowerBetter, outs, cpuPerDelivery)
	r.perServer(name, "generator CPU per delivery (parley bench's own)", noRatio, outs, benchCPUPerDelivery)
}

// benchCPUPerDelivery is the generator's own CPU time over the window per
// delivery, and its share of a core: a generator near a whole core
// measures itself as much as the server.
func benchCPUPerDelivery(res *result) (float64, string, bool) {
	if res.Received == 0 || res.MeasuredMS == 0 {
		return 0, "—", false
	}
	us := res.BenchCPUSeconds * 1e6 / float64(res.Received)
	pct := 100 * res.BenchCPUSeconds / (res.MeasuredMS / 1000)
	return us, fmt.Sprintf("%s µs (%s of a core)", sig3(us), percent(pct)), true
}

// ceilingResult is a server's ceiling search.
type ceilingResult struct {
	best     *result // the highest step passed, nil if none
	bestStep float64 // its offered load, nominal
	fail     string  // the first failing step and why, "" if none failed
}

// stepPassed says whether a step held: everyone connected and stayed,
// nothing lost, and p99 under the limit; if not, why.
func stepPassed(res *result) (bool, string) {
	ok, why := res.healthy()
	if res.LatencyP99MS >= ceilingP99MS {
		if why != "" {
			why = ", " + why
		}
		return false, "p99 " + millis(res.LatencyP99MS) + why
	}
	return ok, why
}

// searchCeiling climbs ceilingSteps for server (with store) until a step
// fails, then, with refine, tries the step halfway.
func (r *runner) searchCeiling(ctx context.Context, server, store string) ceilingResult {
	var c ceilingResult
	senders := func(step float64) int {
		return max(1, int(math.Round(step/(r.p.rate*float64(r.p.clients-1)))))
	}
	try := func(step float64, n int) (bool, string, *result) {
		s := spec{label: "ceiling " + kilo(step), server: server, store: store,
			args: r.loadArgs(n, r.p.stepWindow)}
		res, err := r.bench(ctx, s)
		if err != nil {
			return false, "run failed: " + err.Error(), nil
		}
		ok, why := stepPassed(res)
		return ok, why, res
	}
	prev := 0
	for _, step := range ceilingSteps {
		if ctx.Err() != nil {
			c.fail = "interrupted"
			return c
		}
		n := senders(step)
		ok, why, res := try(step, n)
		if ok {
			c.best, c.bestStep, prev = res, step, n
			continue
		}
		c.fail = kilo(step) + ": " + why
		if r.p.refine && prev > 0 && n-prev >= 2 && ctx.Err() == nil {
			mid := (prev + n) / 2
			midStep := math.Round(r.offered(mid)/10e3) * 10e3
			if ok, why, res := try(midStep, mid); ok {
				c.best, c.bestStep = res, midStep
			} else {
				c.fail = kilo(midStep) + ": " + why
			}
		}
		return c
	}
	return c
}

// ceilingRows adds the rows of ceiling searches.
func (r *runner) ceilingRows(name string, cs map[string]ceilingResult) {
	step := r.table.add(name, "highest step held (deliveries/s offered)", higherBetter)
	// At different loads, these are not for ratios.
	held := r.table.add(name, "deliveries/s there", noRatio)
	lat := r.table.add(name, "latency p99 there", noRatio)
	cpu := r.table.add(name, "server CPU per delivery there", noRatio)
	fail := r.table.add(name, "lowest step failed", noRatio)
	for srv, c := range cs {
		if c.best == nil {
			step.cells[srv] = cell{v: ceilingSteps[0], text: "< " + kilo(ceilingSteps[0]), has: true, bound: below}
		} else if c.fail == "" {
			// Every step held: the ceiling is higher than the search went.
			step.cells[srv] = cell{v: c.bestStep, text: "≥ " + kilo(c.bestStep), has: true, bound: atLeast}
		} else {
			step.set(srv, c.bestStep, kilo(c.bestStep))
		}
		if c.best != nil {
			v, t, _ := deliveries(c.best)
			held.set(srv, v, t)
			v, t, _ = p99(c.best)
			lat.set(srv, v, t)
			if v, t, ok := cpuPerDelivery(c.best); ok {
				cpu.set(srv, v, t)
			}
		}
		if c.fail == "" {
			fail.setText(srv, "none up to "+kilo(ceilingSteps[len(ceilingSteps)-1]))
		} else {
			fail.setText(srv, c.fail)
		}
	}
}

// ceiling searches each server's ceiling.
func (r *runner) ceiling(ctx context.Context) {
	cs := map[string]ceilingResult{}
	for _, srv := range r.table.servers {
		if ctx.Err() != nil {
			break
		}
		r.logf(" ceiling of %s", srv)
		cs[srv] = r.searchCeiling(ctx, srv, storeSQLite)
	}
	r.ceilingRows("ceiling: p99 < 100 ms, no loss", cs)
}

// history compares parley's ceiling on its two stores. The SQLite
// search is the ceiling scenario's when that ran (runs are cached).
func (r *runner) history(ctx context.Context) {
	if !slices.Contains(r.table.servers, serverParley) {
		r.logf(" history: skipped: parley is not among --servers")
		return
	}
	name := "history: parley's store"
	r.logf(" ceiling of parley, SQLite store")
	sqlite := r.searchCeiling(ctx, serverParley, storeSQLite)
	rs := r.table.add(name, "ceiling, SQLite store (default)", noRatio)
	rm := r.table.add(name, "ceiling, --store memory", noRatio)
	rr := r.table.add(name, "SQLite ceiling ÷ memory ceiling", noRatio)
	show := func(rw *row, c ceilingResult) cell {
		switch {
		case c.best == nil:
			rw.setText(serverParley, "< "+kilo(ceilingSteps[0])+" ("+c.fail+")")
			return cell{v: ceilingSteps[0], has: true, bound: below}
		case c.fail == "": // every step held
			rw.setText(serverParley, fmt.Sprintf("≥ %s (p99 %s)", kilo(c.bestStep), millis(c.best.LatencyP99MS)))
			return cell{v: c.bestStep, has: true, bound: atLeast}
		default:
			rw.setText(serverParley, fmt.Sprintf("%s (p99 %s)", kilo(c.bestStep), millis(c.best.LatencyP99MS)))
			return cell{v: c.bestStep, has: true}
		}
	}
	cs := show(rs, sqlite)
	if !r.env.memoryStore {
		msg := "this parley has no --store memory (it would open an SQLite file called memory)"
		r.logf(" history: skipped the memory store: %s", msg)
		rm.setText(serverParley, "not run")
		r.table.note("history: %s; the memory-store search was skipped.", msg)
		return
	}
	r.logf(" ceiling of parley, memory store")
	cm := show(rm, r.searchCeiling(ctx, serverParley, storeMemory))
	switch x := ratio(cs, cm); {
	case x != "":
		rr.setText(serverParley, x)
	case cs.bound == atLeast:
		rr.setText(serverParley, "unknown: both held every step")
	default:
		rr.setText(serverParley, "unknown: both failed the first step")
	}
}

// slow adds clients that stop reading to the overload scenario's load, for
// node and parley, over a window long enough for the server to cut them
// off, and compares with the same run without them.
func (r *runner) slow(ctx context.Context) {
	name := fmt.Sprintf("slow: %s offered for %v, %.0f%% of listeners stop reading",
		kilo(math.Round(r.offered(overloadSenders)/1000)*1000), r.p.slowWindow, 100*slowFraction)
	if !r.env.slowReaders {
		msg := "this parley bench has no --slow-readers"
		r.logf(" slow: skipped: %s", msg)
		r.table.note("slow: skipped: %s.", msg)
		return
	}
	servers := []string{serverNode, serverParley}
	// Without slow readers, this is the overload scenario's run when
	// the windows match (runs are cached).
	label := "slow (none)"
	if r.p.slowWindow == r.p.overloadWindow {
		label = "overload"
	}
	base := r.each(ctx, spec{label: label, args: r.loadArgs(overloadSenders, r.p.slowWindow)}, servers)
	args := append(r.loadArgs(overloadSenders, r.p.slowWindow), "--slow-readers", strconv.FormatFloat(slowFraction, 'f', -1, 64))
	with := r.each(ctx, spec{label: "slow", args: args}, servers)
	r.perServer(name, "others' latency p99, no slow readers", lowerBetter, base, p99)
	r.perServer(name, "others' latency p99, with slow readers", lowerBetter, with, p99)
	r.perServer(name, "others' loss, with slow readers", lowerBetter, with, lossPct)
	r.perServer(name, "server peak RSS, no slow readers", lowerBetter, base, rssMax)
	r.perServer(name, "server peak RSS, with slow readers", lowerBetter, with, rssMax)
	tcp := func(res *result) (float64, string, bool) {
		if !res.tcpMemKnown {
			return 0, "—", false
		}
		return float64(res.tcpMemPeakKiB), kib(float64(res.tcpMemPeakKiB)), true
	}
	r.perServer(name, "kernel TCP buffers at peak (whole machine), no slow readers", noRatio, base, tcp)
	r.perServer(name, "kernel TCP buffers at peak (whole machine), with slow readers", noRatio, with, tcp)
	r.perServer(name, "slow readers cut off by the server", noRatio, with, func(res *result) (float64, string, bool) {
		return float64(res.SlowCutOff), count(float64(res.SlowCutOff)) + " of " + count(float64(res.SlowReaders)), true
	})
	r.perServer(name, "other clients dropped, with slow readers", noRatio, with, func(res *result) (float64, string, bool) {
		return float64(res.Dropped), count(float64(res.Dropped)), true
	})
}
