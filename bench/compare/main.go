package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := mainErr(); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func mainErr() error {
	var (
		servers   = flag.String("servers", strings.Join(allServers, ","), "servers to run, comma-separated: node, zishang, parley")
		scenarios = flag.String("scenarios", strings.Join(scenarioNames(), ","), "scenarios to run, comma-separated")
		quick     = flag.Bool("quick", false, "shorter windows and fewer steps: a check that everything works, not a measurement")
		out       = flag.String("out", "", "also write the markdown to this file")
		raw       = flag.String("raw", "", "append every run's JSON line from parley bench to this file")
		port      = flag.Int("port", 3100, "first of the 100 ports the servers may listen on, on 127.0.0.1")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: go run ./bench/compare [flags]\n\n"+
			"Runs parley, the Socket.IO tutorial's Node server and the zishang Go server\n"+
			"through the same parley bench scenarios, one fresh server per run, and prints\n"+
			"a markdown table comparing them.\n\nScenarios:\n")
		for _, s := range scenarioList {
			fmt.Fprintf(flag.CommandLine.Output(), "  %-12s %s\n", s.name, s.about)
		}
		fmt.Fprintf(flag.CommandLine.Output(), "\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", flag.Args())
	}
	selServers, err := pick(*servers, allServers)
	if err != nil {
		return fmt.Errorf("--servers: %w", err)
	}
	selScenarios, err := pick(*scenarios, scenarioNames())
	if err != nil {
		return fmt.Errorf("--scenarios: %w", err)
	}
	if *port < 1024 || *port > 65535-100 {
		return fmt.Errorf("--port %d: want 1024 to %d", *port, 65535-100)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "parley-compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	r := &runner{
		env:   &env{root: root, tmp: tmp, portBase: *port, portCount: 100, nextPort: *port},
		p:     paramsFor(*quick),
		quick: *quick,
		cache: map[string]outcome{},
		table: &table{servers: selServers},
		start: time.Now(),
	}
	if *raw != "" {
		f, err := os.OpenFile(*raw, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		r.raw = f
	}
	if err := setup(ctx, r.env, selServers, r.logf); err != nil {
		return err
	}
	if slices.Contains(selScenarios, "history") && slices.Contains(selServers, serverParley) {
		ok, err := probeMemoryStore(ctx, r.env)
		if err != nil {
			return fmt.Errorf("checking parley's --store memory: %w", err)
		}
		r.env.memoryStore = ok
	}

	for _, s := range scenarioList {
		if !slices.Contains(selScenarios, s.name) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		r.logf("scenario %s: %s", s.name, s.about)
		s.run(r, ctx)
	}
	if ctx.Err() != nil {
		r.table.note("Interrupted: the table is incomplete.")
	}
	r.noteNoise()

	var md bytes.Buffer
	r.header(ctx, &md, selScenarios)
	if err := r.table.write(&md); err != nil {
		return err
	}
	if _, err := os.Stdout.Write(md.Bytes()); err != nil {
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, md.Bytes(), 0o644); err != nil {
			return err
		}
	}
	r.logf("done: %d runs", r.env.runs)
	return ctx.Err()
}

// pick parses a comma-separated selection from all, keeping all's order.
func pick(list string, all []string) ([]string, error) {
	var out []string
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(all, name) {
			return nil, fmt.Errorf("unknown %q, want some of %s", name, strings.Join(all, ", "))
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, errors.New("none selected")
	}
	var sorted []string
	for _, name := range all {
		if slices.Contains(out, name) {
			sorted = append(sorted, name)
		}
	}
	return sorted, nil
}

// runner runs the scenarios and collects the table. It is not safe for
// concurrent use.
type runner struct {
	env   *env
	p     params
	quick bool
	raw   io.Writer
	cache map[string]outcome // by server, store and bench flags
	table *table
	start time.Time
	noisy []string // runs during which other programs kept the machine busy
}

// outcome is what one run of parley bench gave.
type outcome struct {
	res *result
	err error
}

// logf prints a progress line to stderr, with the time since the start.
func (r *runner) logf(format string, args ...any) {
	d := time.Since(r.start).Round(time.Second)
	fmt.Fprintf(os.Stderr, "[%6s] %s\n", d, fmt.Sprintf(format, args...))
}

// spec is one run: a server and the generator's flags.
type spec struct {
	label   string // for progress lines: "overload", "ceiling 150k"
	server  string
	store   string // parley's: storeSQLite or storeMemory
	history int    // messages the default room holds before the run (node and parley's SQLite store)
	args    []string
}

// serverLabel is the server's name, with parley's store when not the
// default.
func (s spec) serverLabel() string {
	if s.server == serverParley && s.store == storeMemory {
		return "parley (memory store)"
	}
	return s.server
}

// bench starts a fresh server, runs parley bench against it and stops it.
// Runs with the same server, store and flags are done once.
func (r *runner) bench(ctx context.Context, s spec) (*result, error) {
	key := s.server + "/" + s.store + " " + strconv.Itoa(s.history) + " " + strings.Join(s.args, " ")
	if o, ok := r.cache[key]; ok {
		return o.res, o.err
	}
	res, err := r.benchOnce(ctx, s)
	if ctx.Err() == nil {
		r.cache[key] = outcome{res, err}
	}
	what := s.label + " · " + s.serverLabel()
	switch {
	case err != nil:
		r.logf("  %s: failed: %v", what, err)
	default:
		r.logf("  %s: %s", what, summary(res))
	}
	return res, err
}

// benchOnce does the work of bench.
func (r *runner) benchOnce(ctx context.Context, s spec) (*result, error) {
	e := r.env
	e.runs++
	dir, err := os.MkdirTemp(e.tmp, "run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	port, err := e.port()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if s.history > 0 && s.server == serverParley {
		if s.store != storeSQLite {
			return nil, fmt.Errorf("a history of %d messages needs parley's SQLite store", s.history)
		}
		if err := fillHistory(ctx, filepath.Join(dir, parleyDB), s.history); err != nil {
			return nil, err
		}
	}
	p, err := startProcess(s.serverLabel(), e.command(s.server, s.store, s.history, port, dir))
	if err != nil {
		return nil, err
	}
	defer p.stop()
	if err := p.waitPort(ctx, addr); err != nil {
		return nil, err
	}

	args := append([]string{"bench", "--json", "--quiet", "--url", "http://" + addr, "--pid", strconv.Itoa(p.pid())}, s.args...)
	bctx, cancel := context.WithTimeout(ctx, benchTimeout(s.args))
	defer cancel()
	cmd := exec.CommandContext(bctx, e.parley, args...)
	// On a timeout the generator is asked to stop, and prints what it
	// measured so far; it is killed if it does not.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	cmd.SysProcAttr = sysProcAttr()
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	tcpMem := sampleTCPMem()
	runErr := cmd.Run()
	tcpPeak, tcpOK := tcpMem.end()

	select {
	case <-p.done:
		return nil, fmt.Errorf("%s exited during the run (%v): %s", s.serverLabel(), p.err, lastLines(p.out.String(), 5))
	default:
	}
	p.stop()

	res, err := parseResult(stdout.Bytes())
	if err != nil {
		return nil, fmt.Errorf("parley bench: %v; %v: %s", runErr, err, lastLines(stderr.String(), 5))
	}
	res.tcpMemPeakKiB, res.tcpMemKnown = tcpPeak, tcpOK
	if bctx.Err() != nil && ctx.Err() == nil {
		res.Warnings = append(res.Warnings, "the run was stopped at its time limit")
	}
	if r.raw != nil {
		fmt.Fprintf(r.raw, "{\"scenario\":%q,\"server\":%q,\"result\":%s}\n", s.label, s.serverLabel(), bytes.TrimSpace(stdout.Bytes()))
	}
	if res.OtherBusy > 0.15 {
		r.noisy = append(r.noisy, fmt.Sprintf("%s · %s (%.0f%%)", s.label, s.serverLabel(), 100*res.OtherBusy))
	}
	return res, nil
}

// benchTimeout bounds a run of parley bench with flags args: its phases'
// limits plus a margin.
func benchTimeout(args []string) time.Duration {
	clients, settle, warmup, duration := 100, 30*time.Second, 2*time.Second, 10*time.Second
	rate, timeout := 500.0, 10*time.Second
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--clients":
			clients, _ = strconv.Atoi(args[i+1])
		case "--connect-rate":
			rate, _ = strconv.ParseFloat(args[i+1], 64)
		case "--connect-timeout":
			timeout, _ = time.ParseDuration(args[i+1])
		case "--settle":
			settle, _ = time.ParseDuration(args[i+1])
		case "--warmup":
			warmup, _ = time.ParseDuration(args[i+1])
		case "--duration":
			duration, _ = time.ParseDuration(args[i+1])
		}
	}
	connect := time.Duration(float64(clients)/max(rate, 1)*float64(time.Second)) + timeout
	return connect + settle + warmup + duration + 5*time.Second /* drain */ + 60*time.Second
}

// summary is a progress line's account of a result.
func summary(r *result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d connected", r.Connected, r.Clients)
	if r.Sent > 0 {
		fmt.Fprintf(&b, ", %s deliveries/s, loss %s, p50 %s, p99 %s, max %s",
			count(r.DeliveriesPerSec), percent(r.lossPct()), millis(r.LatencyP50MS), millis(r.LatencyP99MS), millis(r.LatencyMaxMS))
	}
	if s := r.Server; s != nil {
		if s.CPUMicrosPerDelivery > 0 {
			fmt.Fprintf(&b, ", %s µs CPU/delivery", sig3(s.CPUMicrosPerDelivery))
		}
		fmt.Fprintf(&b, ", RSS %s max, %s/client", kib(float64(s.RSSMaxKiB)), kib(s.RSSPerClientKiB))
	}
	if ok, why := r.healthy(); !ok {
		b.WriteString("; " + why)
	}
	if r.SlowReaders > 0 {
		fmt.Fprintf(&b, ", %d slow readers of which %d cut off", r.SlowReaders, r.SlowCutOff)
	}
	if r.OtherBusy > 0.15 {
		fmt.Fprintf(&b, " [other programs: %.0f%% of the CPUs]", 100*r.OtherBusy)
	}
	for _, w := range r.Warnings {
		b.WriteString("; warning: " + w)
	}
	return b.String()
}

// lastLines returns the last n lines of s, on one line.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// noteNoise notes the runs during which other programs were busy.
func (r *runner) noteNoise() {
	if len(r.noisy) == 0 {
		return
	}
	const most = 8
	list := r.noisy
	more := ""
	if len(list) > most {
		more = fmt.Sprintf(" and %d more", len(list)-most)
		list = list[:most]
	}
	runs := "runs, whose figures are"
	if len(r.noisy) == 1 {
		runs = "run, whose figures are"
	}
	r.table.note("Other programs used more than 15%% of the CPUs during %d %s noisier: %s%s.",
		len(r.noisy), runs, strings.Join(list, "; "), more)
}

// header writes what the figures are of.
func (r *runner) header(ctx context.Context, w io.Writer, scenarios []string) {
	mode := "full run"
	if r.quick {
		mode = "quick run (--quick: short windows; a check, not a measurement)"
	}
	fmt.Fprintf(w, "## parley vs the Socket.IO chat tutorial's servers\n\n")
	for _, l := range describeMachine(ctx, r.env) {
		fmt.Fprintf(w, "- %s\n", l)
	}
	runs := fmt.Sprintf("%d server runs", r.env.runs)
	if r.env.runs == 1 {
		runs = "1 server run"
	}
	fmt.Fprintf(w, "- Run: %s, %s, %s in %v; scenarios %s\n",
		r.start.UTC().Format("2006-01-02 15:04 MST"), mode, runs,
		time.Since(r.start).Round(time.Second), strings.Join(scenarios, ", "))
	fmt.Fprintf(w, "- Generator: parley bench on the same machine, over WebSocket (HTTP long-polling in the polling scenario); ratios are parley's value over the other server's\n\n")
}
