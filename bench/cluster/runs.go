package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/bench"
)

// layout is where a run's nodes and clients are.
type layout int

const (
	// oneNode is one node without Redis, every client on it.
	oneNode layout = iota
	// together is two nodes of a cluster, every client on the first.
	together
	// split is two nodes of a cluster, the senders on the first and every
	// other client on the second.
	split
	// spread is two nodes of a cluster, the clients on both in turn (for
	// the idle run, which has no senders to put on a node of their own).
	spread
)

// nodes is how many nodes a run with the layout starts.
func (l layout) nodes() int {
	if l == oneNode {
		return 1
	}
	return 2
}

// spec is one run: a layout and a load.
type spec struct {
	label            string
	layout           layout
	clients, senders int
	rate             float64 // messages per second per sender
	warmup, window   time.Duration
	idle             bool // connect, send nothing, measure over the window
	join             bool // every client emits new-user (else only the senders)
}

// offered is the deliveries per second the run's senders offer: each
// message goes to every client but its sender.
func (s spec) offered() float64 {
	if s.idle {
		return 0
	}
	return float64(s.senders) * s.rate * float64(s.clients-1)
}

// urlFlags are the run's --senders-url and --url, with the nodes' base
// URLs.
func (s spec) urlFlags(node1, node2 string) (sendersURL, url string) {
	switch s.layout {
	case split:
		return node1, node2
	case spread:
		return "", node1 + "," + node2
	default:
		return "", node1
	}
}

// args are the flags of the parley bench command that makes the run's
// load, with the nodes' base URLs.
func (s spec) args(node1, node2 string) []string {
	sendersURL, url := s.urlFlags(node1, node2)
	var a []string
	if sendersURL != "" {
		a = append(a, "--senders-url", sendersURL)
	}
	a = append(a, "--url", url, "--clients", strconv.Itoa(s.clients))
	if s.idle {
		a = append(a, "--idle")
	} else {
		a = append(a, "--senders", strconv.Itoa(s.senders), "--rate", strconv.FormatFloat(s.rate, 'f', -1, 64),
			"--warmup", s.warmup.String())
	}
	if !s.join {
		a = append(a, "--no-join")
	}
	return append(a, "--duration", s.window.String())
}

// config is the generator's configuration of the run, the same as args
// gives parley bench.
func (s spec) config(node1, node2 string) bench.Config {
	sendersURL, url := s.urlFlags(node1, node2)
	cfg := bench.Config{
		URL: url, SendersURL: sendersURL, Clients: s.clients, Senders: s.senders, Rate: s.rate,
		Warmup: s.warmup, Duration: s.window, Idle: s.idle, NoJoin: !s.join,
	}
	if s.idle {
		cfg.Senders, cfg.Rate, cfg.Warmup = 0, 0, 0
	}
	if cfg.Warmup == 0 {
		cfg.Warmup = -1 // none, as parley bench's --warmup 0
	}
	return cfg
}

// outcome is what a run measured.
type outcome struct {
	spec spec
	res  *bench.Result
	// Over the measured window: Redis's commands (cluster runs), the CPU
	// time of each node, of redis-server and of PostgreSQL's processes.
	cmds     cmdStats
	nodeCPU  []time.Duration
	redisCPU time.Duration
	pgCPU    time.Duration
	// again is set on a run made a second time, as other programs kept
	// the machine busy during the first.
	again bool
	// cpus is how many CPUs the machine has (runtime.NumCPU, when 0).
	cpus int
	// warnings counts the nodes' log lines at WARN or above, by message.
	warnings map[string]int
	err      error
}

// runner runs the benchmark's runs, one after another.
type runner struct {
	o     options
	bin   string // parley
	tmp   string
	redis *redisServer
	pg    postgres
	say   func(string, ...any)
	raw   io.Writer
	n     int // runs so far
}

// runSlack bounds a run beyond its warm-up and window: starting the
// nodes, connecting, settling (30 s at most), draining (5 s), closing.
const runSlack = 90 * time.Second

// run starts the nodes of s afresh (a new schema, Redis flushed), runs
// the load and stops them.
func (r *runner) run(ctx context.Context, s spec) (out outcome) {
	out.spec = s
	r.n++
	if r.o.quietWait > 0 && r.o.noisy > 0 {
		t := time.Now()
		if busy, ok := waitQuiet(ctx, r.o.noisy, r.o.quietWait); !ok && ctx.Err() == nil {
			r.say("  the machine is still %s busy after %v: running anyway", percent(100*busy), r.o.quietWait)
		} else if d := time.Since(t); d > 2*quietSample {
			r.say("  waited %v for the machine to be quiet", d.Round(100*time.Millisecond))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.warmup+s.window+runSlack)
	defer cancel()
	dir := filepath.Join(r.tmp, fmt.Sprintf("run-%02d", r.n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		out.err = err
		return out
	}
	schema, err := r.pg.newSchema(ctx)
	if err != nil {
		out.err = err
		return out
	}
	defer func() {
		if err := r.pg.dropSchema(context.Background(), schema); err != nil {
			r.say("warning: %v", err)
		}
	}()
	store, err := r.pg.storeURL(schema)
	if err != nil {
		out.err = err
		return out
	}
	cluster := s.layout != oneNode
	if cluster {
		if err := r.redis.flush(ctx); err != nil {
			out.err = fmt.Errorf("flushing Redis: %w", err)
			return out
		}
	}
	var nodes []*process
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	for i := range s.layout.nodes() {
		addr, err := freeAddr()
		if err != nil {
			out.err = err
			return out
		}
		args := []string{"--addr", addr, "--store", store, "--log-level", "warn", "--shutdown-timeout", "5s"}
		if cluster {
			args = append(args, "--redis", r.redis.url())
		}
		n, err := startProcess(ctx, fmt.Sprintf("node %d", i+1), addr, filepath.Join(dir, fmt.Sprintf("node%d.log", i+1)), childEnv(), r.bin, args...)
		if err != nil {
			out.err = err
			return out
		}
		nodes = append(nodes, n)
	}
	urls := []string{"http://" + nodes[0].addr, ""}
	if len(nodes) > 1 {
		urls[1] = "http://" + nodes[1].addr
	}

	cfg := s.config(urls[0], urls[1])
	if r.o.progress {
		cfg.Progress = os.Stderr
	}
	w := &windowMeter{nodes: nodes, redis: r.redis, cluster: cluster}
	cfg.OnWindow = w.mark
	res, err := bench.Run(ctx, cfg)
	out.res = res
	out.err = err
	for _, n := range nodes {
		if n.exited() && out.err == nil {
			out.err = fmt.Errorf("%s exited during the run (%v): %s", n.name, n.err, n.tail())
		}
	}
	for _, n := range nodes {
		n.stop()
	}
	out.warnings = map[string]int{}
	for _, n := range nodes {
		for k, v := range n.warnings() {
			out.warnings[n.name+": "+k] += v
		}
	}
	out.cmds, out.nodeCPU, out.redisCPU, out.pgCPU = w.result()
	if werr := w.error(); werr != nil && out.err == nil {
		out.err = werr
	}
	if res != nil && res.Measured == 0 && out.err == nil {
		out.err = errors.New("the measured window did not run")
	}
	r.record(out)
	return out
}

// record appends the run's JSON line, with its label, to --raw.
func (r *runner) record(o outcome) {
	if r.raw == nil || o.res == nil {
		return
	}
	b, err := json.Marshal(struct {
		Label  string        `json:"label"`
		Result *bench.Result `json:"result"`
	}{o.spec.label, o.res})
	if err == nil {
		_, _ = fmt.Fprintf(r.raw, "%s\n", b)
	}
}

// describe is a line about an outcome for the progress log.
func describe(o outcome) string {
	if o.res == nil {
		return "failed: " + o.err.Error()
	}
	r := o.res
	s := fmt.Sprintf("%d/%d connected, %.0f deliveries/s, loss %d, p50 %s, p99 %s, max %s",
		r.Connected, r.Clients, r.DeliveriesPerSec, r.Loss, ms(r.LatencyP50), ms(r.LatencyP99), ms(r.LatencyMax))
	if r.CrossNode != nil && r.CrossNode.Received > 0 {
		s += fmt.Sprintf("; cross-node p50 %s, p99 %s", ms(r.CrossNode.LatencyP50), ms(r.CrossNode.LatencyP99))
	}
	if secs := r.Measured.Seconds(); secs > 0 {
		s += fmt.Sprintf("; generator %.0f%% of a core, machine %.0f%% busy (other programs %.0f%%)",
			100*r.BenchCPU.Seconds()/secs, 100*r.HostBusy, 100*o.others())
	}
	if o.err != nil {
		s += "; " + o.err.Error()
	}
	for _, k := range slices.Sorted(maps.Keys(o.warnings)) {
		s += fmt.Sprintf("\n    log: %s ×%d", k, o.warnings[k])
	}
	for _, w := range r.Warnings {
		s += "\n    bench: " + w
	}
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		s += fmt.Sprintf("\n    bench error: %s ×%d", k, r.Errors[k])
	}
	return s
}

// windowMeter reads Redis's command counts and the processes' CPU times
// as the generator's measured window opens and closes.
type windowMeter struct {
	nodes   []*process
	redis   *redisServer
	cluster bool

	mu             sync.Mutex
	cmds0, cmds1   cmdStats
	cpu0, cpu1     []time.Duration
	redis0, redis1 time.Duration
	pg0, pg1       time.Duration
	errs           []error
}

// mark is bench.Config.OnWindow.
func (w *windowMeter) mark(open bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var cmds cmdStats
	var err error
	if w.cluster {
		cmds, err = w.redis.commandStats(ctx)
	}
	cpu := make([]time.Duration, len(w.nodes))
	var errs []error
	for i, n := range w.nodes {
		var cerr error
		if cpu[i], cerr = cpuTime(n.pid()); cerr != nil {
			errs = append(errs, fmt.Errorf("%s's CPU time: %w", n.name, cerr))
		}
	}
	rcpu, rerr := cpuTime(w.redis.pid())
	pg := commandCPU("postgres")
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.errs = append(w.errs, err)
	}
	if rerr != nil {
		w.errs = append(w.errs, fmt.Errorf("redis-server's CPU time: %w", rerr))
	}
	w.errs = append(w.errs, errs...)
	if open {
		w.cmds0, w.cpu0, w.redis0, w.pg0 = cmds, cpu, rcpu, pg
	} else {
		w.cmds1, w.cpu1, w.redis1, w.pg1 = cmds, cpu, rcpu, pg
	}
}

// result returns the deltas over the window; nil and zero when it did
// not close.
func (w *windowMeter) result() (cmds cmdStats, nodes []time.Duration, redis, pg time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cpu1 == nil || w.cpu0 == nil {
		return nil, nil, 0, 0
	}
	cpu := make([]time.Duration, len(w.cpu1))
	for i := range cpu {
		cpu[i] = w.cpu1[i] - w.cpu0[i]
	}
	if w.cmds1 != nil {
		cmds = w.cmds1.since(w.cmds0)
	}
	return cmds, cpu, w.redis1 - w.redis0, max(w.pg1-w.pg0, 0)
}

// others is the share of the whole machine, 0 to 1, that neither the
// nodes, redis-server, PostgreSQL nor the generator used over the window:
// other programs, which make the figures noisier.
func (o outcome) others() float64 {
	r := o.res
	if r == nil || r.Measured <= 0 {
		return 0
	}
	ours := r.BenchCPU + o.redisCPU + o.pgCPU
	for _, c := range o.nodeCPU {
		ours += c
	}
	cpus := o.cpus
	if cpus == 0 {
		cpus = runtime.NumCPU()
	}
	return max(0, r.HostBusy-ours.Seconds()/(r.Measured.Seconds()*float64(cpus)))
}

// error returns what could not be read.
func (w *windowMeter) error() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return errors.Join(w.errs...)
}

// ms prints a duration in milliseconds, with two decimals below 10.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	if f < 10 {
		return strconv.FormatFloat(f, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " ms"
}

// joinArgs prints a command line.
func joinArgs(args []string) string { return strings.Join(args, " ") }
