package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The latency runs' labels.
const (
	labelOne      = "(a) one node, no Redis"
	labelTogether = "(a′) two nodes, every client on node 1"
	labelSplit    = "(b) two nodes, senders on node 1, the others on node 2"
	labelIdle     = "idle: as many clients, on both nodes in turn, nothing sent"
)

// stepOverhead is a first guess at what a run takes beyond its warm-up
// and window (starting the nodes, connecting, settling, closing), for the
// budget; later steps go by what the last one took.
const stepOverhead = 8 * time.Second

// hopGoal is the goal for the latency the hop between the nodes
// adds at p99.
const hopGoal = 5 * time.Millisecond

// report is what the benchmark measured, and how.
type report struct {
	o                       options
	started                 time.Time
	elapsed                 time.Duration
	machine                 string
	redisVersion, pgVersion string
	command                 string

	// The latency runs, and the idle run with the split run's clients.
	one, together, split, idle *outcome
	steps                      []ceilingStep
	// cut says why the ceiling search stopped before a step failed, ""
	// when it did not.
	cut string
}

// ceilingStep is one step of the ceiling search.
type ceilingStep struct {
	out  outcome
	held bool
	why  string // why it did not hold
}

// base is the latency runs' spec.
func (rp *report) base() spec {
	o := rp.o
	return spec{clients: o.clients, senders: o.senders, rate: o.rate, warmup: o.warmup, window: o.window, join: o.join}
}

// collect makes every run, in order, within the budget that ends at
// deadline (only the ceiling search is cut short by it).
func (rp *report) collect(ctx context.Context, r *runner, deadline time.Time) {
	o := rp.o
	// run makes a run, and makes it once more if other programs kept the
	// machine busy during it and again says so, keeping the quieter.
	run := func(s spec, again func(outcome) bool) *outcome {
		r.say("%s: parley bench %s", s.label, joinArgs(s.args("NODE1", "NODE2")))
		out := r.run(ctx, s)
		r.say("  %s", describe(out))
		if o.noisy > 0 && out.others() > o.noisy && again(out) && ctx.Err() == nil {
			r.say("  other programs kept %s of the machine busy: once more", percent(100*out.others()))
			next := r.run(ctx, s)
			r.say("  %s", describe(next))
			if next.res != nil && next.err == nil && (out.res == nil || next.others() < out.others()) {
				out = next
			}
			out.again = true
		}
		return &out
	}
	// A latency run is made again if the budget keeps room for the
	// ceiling's first steps.
	roomFor := func(s spec) func(outcome) bool {
		return func(outcome) bool {
			return time.Until(deadline) > 2*(s.warmup+s.window+stepOverhead)+4*(o.stepWarmup+o.stepWindow+stepOverhead)
		}
	}
	s := rp.base()
	s.label, s.layout = labelOne, oneNode
	rp.one = run(s, roomFor(s))
	s.label, s.layout = labelTogether, together
	rp.together = run(s, roomFor(s))
	s.label, s.layout = labelSplit, split
	rp.split = run(s, roomFor(s))
	s.label, s.layout, s.idle, s.window, s.warmup = labelIdle, spread, true, o.idleWindow, 0
	rp.idle = run(s, func(outcome) bool { return false })
	if ctx.Err() == nil {
		rp.ceiling(ctx, r, deadline, run)
	}
}

// ceiling climbs the steps until one fails, then tries the one halfway
// from the last held, if told to and the budget allows.
func (rp *report) ceiling(ctx context.Context, r *runner, deadline time.Time, run func(spec, func(outcome) bool) *outcome) {
	o := rp.o
	receivers := o.clients - o.senders
	overhead := stepOverhead
	step := func(senders int) (ceilingStep, bool) {
		need := o.stepWarmup + o.stepWindow + overhead
		if left := time.Until(deadline); left < need {
			rp.cut = fmt.Sprintf("stopped before %d senders: %v of the %v budget left, a step takes about %v",
				senders, left.Round(time.Second), o.budget, need.Round(time.Second))
			return ceilingStep{}, false
		}
		s := spec{
			label:  fmt.Sprintf("ceiling, %d senders", senders),
			layout: split, clients: senders + receivers, senders: senders, rate: o.rate,
			warmup: o.stepWarmup, window: o.stepWindow, join: o.join,
		}
		t := time.Now()
		// A step that failed while other programs were busy is made
		// again, if there is time for it and the next.
		out := run(s, func(out outcome) bool {
			held, _ := stepHeld(out, o.p99Bound)
			return !held && time.Until(deadline) > 2*need
		})
		if !out.again {
			overhead = max(time.Since(t)-o.stepWarmup-o.stepWindow, 0)
		}
		held, why := stepHeld(*out, o.p99Bound)
		if !held {
			r.say("  step failed: %s", why)
		}
		return ceilingStep{out: *out, held: held, why: why}, true
	}
	last := 0
	for _, n := range o.steps {
		if ctx.Err() != nil {
			return
		}
		st, ok := step(n)
		if !ok {
			return
		}
		rp.steps = append(rp.steps, st)
		if st.held {
			last = n
			continue
		}
		if o.refine && last > 0 && n-last >= 2 && ctx.Err() == nil {
			if st, ok := step((last + n) / 2); ok {
				rp.steps = append(rp.steps, st)
			}
		}
		return
	}
}

// stepHeld says whether a ceiling step held: every client connected and
// stayed, nothing lost or duplicated, the generator sent all it was to,
// and the p99 is below bound; if not, why.
func stepHeld(o outcome, bound time.Duration) (bool, string) {
	if o.res == nil {
		return false, "run failed: " + o.err.Error()
	}
	r := o.res
	var why []string
	if o.err != nil {
		why = append(why, o.err.Error())
	}
	if r.Connected < r.Clients || r.ConnectFailures > 0 {
		why = append(why, fmt.Sprintf("%d of %d connected", r.Connected, r.Clients))
	}
	if r.Dropped > 0 {
		why = append(why, fmt.Sprintf("%s dropped", plural(uint64(r.Dropped), "client")))
	}
	if r.Loss > 0 {
		why = append(why, fmt.Sprintf("%s lost (%s)", count(float64(r.Loss)), percent(100*float64(r.Loss)/float64(max(r.Expected, 1)))))
	}
	if r.Duplicates > 0 {
		why = append(why, plural(r.Duplicates, "duplicate"))
	}
	if r.Unsent > 0 {
		why = append(why, fmt.Sprintf("%s due not sent (the generator fell behind, or a sender was refused)", plural(r.Unsent, "message")))
	}
	if r.LatencyP99 >= bound {
		why = append(why, fmt.Sprintf("p99 %s ≥ %s", ms(r.LatencyP99), ms(bound)))
	}
	return len(why) == 0, strings.Join(why, ", ")
}

// failed reports whether a latency run failed.
func (rp *report) failed() bool {
	for _, o := range []*outcome{rp.one, rp.together, rp.split, rp.idle} {
		if o == nil || o.res == nil || o.err != nil {
			return true
		}
	}
	return false
}

// write writes the report as markdown.
func (rp *report) write(w io.Writer) error {
	ew := &errWriter{w: w}
	p := ew.printf
	o := rp.o
	b := rp.base()
	p("## parley on two nodes (bench/cluster)\n\n")
	p("- machine: %s\n", rp.machine)
	p("- redis-server %s, the benchmark's own, on loopback, nothing saved; PostgreSQL %s, a fresh schema per run; every run starts its nodes afresh, Redis flushed\n",
		rp.redisVersion, rp.pgVersion)
	joinNote := "only the senders emit new-user, the others listen"
	if o.join {
		joinNote = "every client emits new-user"
	}
	p("- load: %d clients over WebSocket, %d senders × %g msg/s = %g msg/s, each to the %d others: %s deliveries/s offered; %v warm-up, %v window; %s; one room\n",
		b.clients, b.senders, b.rate, float64(b.senders)*b.rate, b.clients-1, count(b.offered()), o.warmup, o.window, joinNote)
	p("- the generator (parley bench, in the benchmark's process) shares the machine with the nodes, redis-server and PostgreSQL; it times every message by its one clock, send to arrival\n")
	if o.quick {
		p("- **--quick**: short windows, to check the plumbing; not figures to keep\n")
	}
	p("\n### Latency at %s deliveries/s\n\n", count(b.offered()))
	p("| run | deliveries/s | loss | p50 | p99 | max | cross-node p50 | cross-node p99 | node CPU (%% of a core) | redis-server | PostgreSQL | generator | machine busy (other programs) |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|\n")
	for _, x := range []*outcome{rp.one, rp.together, rp.split} {
		if x == nil {
			continue
		}
		if x.res == nil {
			p("| %s | failed: %s ||||||||||||\n", x.spec.label, cellText(x.err.Error()))
			continue
		}
		r := x.res
		cp50, cp99 := "—", "—"
		if r.CrossNode != nil && r.CrossNode.Received > 0 {
			cp50, cp99 = ms(r.CrossNode.LatencyP50), ms(r.CrossNode.LatencyP99)
		}
		redis := "—"
		if x.spec.layout != oneNode {
			redis = share(x.redisCPU, r.Measured)
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", runLabel(x), count(r.DeliveriesPerSec), lossText(r.Loss, r.Expected),
			ms(r.LatencyP50), ms(r.LatencyP99), ms(r.LatencyMax), cp50, cp99, nodeShares(x.nodeCPU, r.Measured), redis,
			share(x.pgCPU, r.Measured), share(r.BenchCPU, r.Measured), busy(*x))
	}
	rp.writeHop(p)
	rp.writeCommands(p)
	rp.writeCeiling(p)
	rp.writeCommand(p)
	return ew.err
}

// writeHop writes what the hop between the nodes adds.
func (rp *report) writeHop(p func(string, ...any)) {
	sp, tg, one := rp.split, rp.together, rp.one
	if sp == nil || sp.res == nil || sp.res.CrossNode == nil || sp.res.CrossNode.Received == 0 {
		p("\nThe cross-node run has no cross-node deliveries: no hop to measure.\n")
		return
	}
	c := sp.res.CrossNode
	p("\n### The hop between the nodes\n\n")
	p("Run (b)'s %s cross-node deliveries (sent on node 1, heard on node 2) against:\n\n", count(float64(c.Received)))
	p("| baseline | its p50 | its p99 | added at p50 | added at p99 |\n|---|---:|---:|---:|---:|\n")
	row := func(name string, p50, p99 time.Duration) {
		p("| %s | %s | %s | %s | %s |\n", name, ms(p50), ms(p99), signed(c.LatencyP50-p50), signed(c.LatencyP99-p99))
	}
	if tg != nil && tg.res != nil {
		row("(a′) the same cluster, every client on node 1", tg.res.LatencyP50, tg.res.LatencyP99)
	}
	if one != nil && one.res != nil {
		row("(a) one node, no Redis", one.res.LatencyP50, one.res.LatencyP99)
	}
	if s := sp.res.SameNode; s != nil && s.Received > 0 {
		row(fmt.Sprintf("(b)'s own same-node deliveries (the other senders, on node 1; %s)", count(float64(s.Received))), s.LatencyP50, s.LatencyP99)
	}
	verdict := func(added time.Duration) string {
		if added > hopGoal {
			return "**not met** (" + signed(added) + ")"
		}
		return "met (" + signed(added) + ")"
	}
	if tg != nil && tg.res != nil {
		p("\nGoal: the hop adds at most %s at p99. Against (a′): %s", ms(hopGoal), verdict(c.LatencyP99-tg.res.LatencyP99))
		if s := sp.res.SameNode; s != nil && s.Received > 0 {
			p("; against (b)'s own same-node deliveries, measured at the same moments: %s", verdict(c.LatencyP99-s.LatencyP99))
		}
		p(".")
		if noisy := max(sp.others(), tg.others()); rp.o.noisy > 0 && noisy > rp.o.noisy {
			p(" **Inconclusive**: other programs kept up to %s of the machine busy during (a′) and (b), more than the latency they are to tell apart; run it again on a quiet machine.",
				percent(100*noisy))
		}
		p("\n")
	}
}

// writeCommands writes the Redis commands per chat message.
func (rp *report) writeCommands(p func(string, ...any)) {
	sp, idle := rp.split, rp.idle
	if sp == nil || sp.res == nil || sp.cmds == nil || sp.res.Sent == 0 {
		p("\nNo Redis command counts: run (b) did not complete its window.\n")
		return
	}
	loadSecs := sp.res.Measured.Seconds()
	var idleCmds cmdStats
	var idleSecs float64
	if idle != nil && idle.res != nil && idle.cmds != nil {
		idleCmds, idleSecs = idle.cmds, idle.res.Measured.Seconds()
	}
	rows := perMessage(sp.cmds, loadSecs, idleCmds, idleSecs, sp.res.Sent)
	p("\n### Redis commands per chat message\n\n")
	p("Run (b): %s messages sent in its %.1f s window; INFO commandstats of the benchmark's own redis-server, read as the window opened and closed. ",
		count(float64(sp.res.Sent)), loadSecs)
	if idleSecs > 0 {
		p("Per message = (calls in the window − the idle rate × the window) / messages, the idle rate measured over %.1f s with the same clients connected and nothing said.",
			idleSecs)
	} else {
		p("The idle run failed: per message = calls in the window / messages, background included.")
	}
	p(" The benchmark's own INFO calls are left out.\n\n")
	p("| command | per message | calls in the window | idle, per second | Redis µs per message |\n|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		name := "`" + r.name + "`"
		if r.name == "all" {
			name = "**all**"
		}
		p("| %s | %.3f | %s | %.1f | %.2f |\n", name, r.perMessage, count(float64(r.calls)), r.idlePerSec, float64(r.usec)/float64(sp.res.Sent))
	}
	p("\nredis-server's CPU over the window: %s (%s of a core), %.1f µs per message",
		sp.redisCPU.Round(time.Millisecond), share(sp.redisCPU, sp.res.Measured), float64(sp.redisCPU)/float64(time.Microsecond)/float64(sp.res.Sent))
	if idleSecs > 0 {
		net := max(0, sp.redisCPU.Seconds()-idle.redisCPU.Seconds()/idleSecs*loadSecs)
		p("; %.1f µs net of its idle rate (%s of a core), from /proc in 10 ms ticks", net*1e6/float64(sp.res.Sent), share(idle.redisCPU, idle.res.Measured))
	}
	p(".\n")
}

// writeCeiling writes the ceiling search.
func (rp *report) writeCeiling(p func(string, ...any)) {
	o := rp.o
	receivers := o.clients - o.senders
	p("\n### Ceiling of two nodes\n\n")
	p("Senders on node 1 at %g msg/s each, added step by step; %d receivers on node 2; each message to every other client. A step holds when every client connects and stays, nothing is lost or duplicated, the generator sends all it is to, and the p99 is below %s. Windows of %v after %v of warm-up.\n\n",
		o.rate, receivers, ms(o.p99Bound), o.stepWindow, o.stepWarmup)
	if len(rp.steps) == 0 {
		p("No step ran. %s\n", rp.cut)
		return
	}
	p("| senders | msg/s | offered deliveries/s | delivered/s | cross-node/s | loss | p99 | cross-node p99 | node CPU (%% of a core) | redis-server | PostgreSQL | generator | machine busy (other programs) | held |\n")
	p("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|\n")
	var best *ceilingStep
	var failed *ceilingStep
	for i := range rp.steps {
		st := &rp.steps[i]
		s := st.out.spec
		held := "yes"
		if !st.held {
			held = "no: " + cellText(st.why)
			if failed == nil || s.senders < failed.out.spec.senders {
				failed = st
			}
		} else if best == nil || s.senders > best.out.spec.senders {
			best = st
		}
		r := st.out.res
		if r == nil {
			p("| %d | %g | %s | | | | | | | | | | | %s |\n", s.senders, float64(s.senders)*s.rate, count(s.offered()), held)
			continue
		}
		cross, cp99 := "—", "—"
		if r.CrossNode != nil && r.Measured > 0 {
			cross = count(float64(r.CrossNode.Received) / r.Measured.Seconds())
			cp99 = ms(r.CrossNode.LatencyP99)
		}
		if st.out.again {
			held += " (run twice: other programs were busy)"
		}
		p("| %d | %g | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.senders, float64(s.senders)*s.rate, count(s.offered()),
			count(r.DeliveriesPerSec), cross, lossText(r.Loss, r.Expected), ms(r.LatencyP99), cp99,
			nodeShares(st.out.nodeCPU, r.Measured), share(st.out.redisCPU, r.Measured), share(st.out.pgCPU, r.Measured),
			share(r.BenchCPU, r.Measured), busy(st.out), held)
	}
	p("\n")
	switch {
	case best == nil:
		p("**Ceiling: below the first step** (%s deliveries/s offered): %s.\n", count(rp.steps[0].out.spec.offered()), rp.steps[0].why)
	case failed == nil:
		p("**Ceiling: at least %s deliveries/s** (%d senders × %g msg/s): every step run held", count(best.out.res.DeliveriesPerSec), best.out.spec.senders, o.rate)
		if rp.cut != "" {
			p("; the search %s", rp.cut)
		}
		p(".\n")
	default:
		p("**Ceiling: %s deliveries/s** held (%d senders × %g msg/s, %s offered; p99 %s); %d senders failed: %s.",
			count(best.out.res.DeliveriesPerSec), best.out.spec.senders, o.rate, count(best.out.spec.offered()),
			ms(best.out.res.LatencyP99), failed.out.spec.senders, failed.why)
		if o.noisy > 0 && failed.out.others() > o.noisy {
			p(" Other programs kept %s of the machine busy during that step: on a quiet machine the ceiling may be higher.", percent(100*failed.out.others()))
		}
		p("\n")
	}
	var genMax time.Duration
	var genShare float64
	for _, st := range rp.steps {
		if r := st.out.res; r != nil && r.Measured > 0 {
			if f := r.BenchCPU.Seconds() / r.Measured.Seconds(); f > genShare {
				genShare, genMax = f, r.BenchCPU
			}
		}
	}
	if genMax > 0 {
		p("The generator used at most %.0f%% of a core in a step, of the machine's %d; the nodes share the machine with it, redis-server and PostgreSQL.\n",
			100*genShare, runtime.NumCPU())
	}
}

// writeCommand writes how to run it all again.
func (rp *report) writeCommand(p func(string, ...any)) {
	p("\n### Command\n\n```sh\n%s   # or: make bench-cluster\n```\n\n", rp.command)
	p("It took %v. Each run starts its nodes as\n\n", rp.elapsed.Round(time.Second))
	p("```sh\nparley --addr 127.0.0.1:PORT --store 'postgres://…/test?search_path=FRESH_SCHEMA' --redis redis://127.0.0.1:REDIS_PORT/0 --log-level warn   # (a): no --redis\n```\n\n")
	p("and its load is, NODE1 and NODE2 being the nodes' base URLs:\n\n```sh\n")
	for _, x := range []*outcome{rp.one, rp.together, rp.split, rp.idle} {
		if x != nil {
			p("parley bench %s   # %s\n", joinArgs(x.spec.args("NODE1", "NODE2")), x.spec.label)
		}
	}
	for _, st := range rp.steps {
		p("parley bench %s   # %s\n", joinArgs(st.out.spec.args("NODE1", "NODE2")), st.out.spec.label)
	}
	p("```\n")
	var notes []string
	for _, x := range append([]*outcome{rp.one, rp.together, rp.split, rp.idle}, stepOutcomes(rp.steps)...) {
		if x == nil {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(x.warnings)) {
			notes = append(notes, fmt.Sprintf("%s: %s ×%d", x.spec.label, k, x.warnings[k]))
		}
		if x.res != nil {
			for _, w := range x.res.Warnings {
				notes = append(notes, fmt.Sprintf("%s: generator: %s", x.spec.label, w))
			}
		}
	}
	if len(notes) > 0 {
		p("\nLog lines at WARN or above, and the generator's warnings:\n\n")
		for _, n := range notes {
			p("- %s\n", cellText(n))
		}
	}
}

func stepOutcomes(steps []ceilingStep) []*outcome {
	var out []*outcome
	for i := range steps {
		out = append(out, &steps[i].out)
	}
	return out
}

// machineInfo describes this machine.
func machineInfo() string {
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "?"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = string(bytes.TrimSpace(b))
	}
	return fmt.Sprintf("%d CPUs (%s), %s %s, %s", runtime.NumCPU(), model, runtime.GOOS, kernel, runtime.Version())
}

// runLabel is a latency run's label, with what went wrong or was done
// again.
func runLabel(x *outcome) string {
	label := x.spec.label
	if x.again {
		label += " (run twice: other programs were busy; the quieter kept)"
	}
	if x.err != nil {
		label += " (" + cellText(x.err.Error()) + ")"
	}
	return label
}

// plural prints n things, with an s unless one.
func plural(n uint64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%s %ss", count(float64(n)), thing)
}

// busy prints how busy the machine was, and other programs' share.
func busy(o outcome) string {
	if o.res == nil {
		return "—"
	}
	return fmt.Sprintf("%s (%s)", percent(100*o.res.HostBusy), percent(100*o.others()))
}

// share prints a CPU time over a window as a share of one core.
func share(cpu, window time.Duration) string {
	if window <= 0 {
		return "—"
	}
	return percent(100 * cpu.Seconds() / window.Seconds())
}

// nodeShares prints each node's share of a core.
func nodeShares(cpu []time.Duration, window time.Duration) string {
	if len(cpu) == 0 {
		return "—"
	}
	var parts []string
	for i, c := range cpu {
		parts = append(parts, fmt.Sprintf("%d: %s", i+1, share(c, window)))
	}
	return strings.Join(parts, ", ")
}

// percent prints a percentage.
func percent(f float64) string {
	if f != 0 && f < 9.95 {
		return strconv.FormatFloat(f, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + "%"
}

// lossText prints a loss, as a count and a share of what was expected.
func lossText(loss, expected uint64) string {
	if loss == 0 {
		return "0"
	}
	return fmt.Sprintf("%s (%s)", count(float64(loss)), percent(100*float64(loss)/float64(max(expected, 1))))
}

// signed prints a difference of latencies with its sign.
func signed(d time.Duration) string {
	if d < 0 {
		return "−" + ms(-d)
	}
	return "+" + ms(d)
}

// count prints a number rounded to a whole, with thousands separated by
// commas.
func count(f float64) string {
	s := strconv.FormatFloat(f, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// cellText makes text safe in a table cell.
func cellText(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", "\\|")
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
