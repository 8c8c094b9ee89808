package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := mainErr(); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

// options are the benchmark's settings.
type options struct {
	clients, senders int
	rate             float64
	warmup, window   time.Duration
	idleWindow       time.Duration
	stepWarmup       time.Duration
	stepWindow       time.Duration
	steps            []int // senders of each ceiling step
	p99Bound         time.Duration
	refine           bool
	budget           time.Duration
	noisy            float64 // share of the machine other programs may use before a run is made again
	quietWait        time.Duration
	join             bool
	postgres         string
	redisServer      string
	out, raw         string
	keep, progress   bool
	quick            bool
}

// defaultSteps are the senders of the ceiling's steps (× --rate messages
// per second each, to --clients − --senders receivers and each other).
const defaultSteps = "10,20,40,60,80,120,160,240,320"

// parseOptions reads the flags; getenv gives PARLEY_TEST_POSTGRES.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var (
		o     options
		steps string
	)
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./bench/cluster [flags]\n\n"+
			"Measures parley on two nodes of a cluster, on this machine, in one run: the\n"+
			"latency at 40k deliveries/s on one node and across two, the Redis commands per\n"+
			"chat message, and the ceiling of two nodes; prints a markdown report.\n"+
			"It starts its own redis-server and uses a fresh schema per run in PostgreSQL.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&o.clients, "clients", 401, "clients of the latency runs")
	fs.IntVar(&o.senders, "senders", 10, "how many of them send")
	fs.Float64Var(&o.rate, "rate", 10, "messages per second per sender (parley allows 20)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up of the latency runs")
	fs.DurationVar(&o.window, "window", 15*time.Second, "measured window of the latency runs")
	fs.DurationVar(&o.idleWindow, "idle-window", 8*time.Second, "window of the idle run that measures what Redis does with nothing said")
	fs.DurationVar(&o.stepWarmup, "step-warmup", time.Second, "warm-up of each ceiling step")
	fs.DurationVar(&o.stepWindow, "step-window", 5*time.Second, "measured window of each ceiling step")
	fs.StringVar(&steps, "steps", defaultSteps, "senders of each ceiling step, comma-separated, rising; the receivers stay --clients − --senders")
	fs.DurationVar(&o.p99Bound, "p99-bound", 100*time.Millisecond, "a ceiling step holds if nothing is lost or dropped, the generator keeps up and the p99 is below this")
	fs.BoolVar(&o.refine, "refine", true, "after the first step that fails, try the one halfway from the last held")
	fs.DurationVar(&o.budget, "budget", 5*time.Minute, "the whole run's time: the ceiling search stops short of it")
	fs.Float64Var(&o.noisy, "noisy", 0.15, "a run during which other programs kept more than this share of the machine busy is made once more, and the quieter kept (a ceiling step only if it failed); 0: never")
	fs.DurationVar(&o.quietWait, "quiet-wait", 15*time.Second, "before each run, wait up to this long for the machine to be less busy than --noisy; 0: no wait")
	fs.BoolVar(&o.join, "join", false, "every client emits new-user, announced to everyone (by default only the senders join, the others listen)")
	fs.StringVar(&o.postgres, "postgres", "", "PostgreSQL URL whose database the runs' schemas go in (default PARLEY_TEST_POSTGRES, or "+DefaultPostgres+")")
	fs.StringVar(&o.redisServer, "redis-server", "redis-server", "the redis-server binary to start")
	fs.StringVar(&o.out, "out", "", "also write the markdown report to this file")
	fs.StringVar(&o.raw, "raw", "", "append each run's result, as a JSON line with its label, to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (the nodes' and Redis's logs) and print its path")
	fs.BoolVar(&o.progress, "progress", false, "show the generator's progress line each second")
	fs.BoolVar(&o.quick, "quick", false, "short windows and four ceiling steps, to check that everything works (figures not meant to be kept)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var err error
	if o.steps, err = parseSteps(steps); err != nil {
		return o, fmt.Errorf("--steps: %w", err)
	}
	if o.quick {
		o.warmup, o.window, o.idleWindow = time.Second, 3*time.Second, 3*time.Second
		o.stepWarmup, o.stepWindow = 500*time.Millisecond, 2*time.Second
		o.steps = o.steps[:min(4, len(o.steps))]
		o.refine = false
	}
	if o.postgres == "" {
		o.postgres = getenv("PARLEY_TEST_POSTGRES")
	}
	if o.postgres == "" {
		o.postgres = DefaultPostgres
	}
	switch {
	case o.clients < 3:
		return o, fmt.Errorf("--clients %d: want at least 3", o.clients)
	case o.senders < 1 || o.senders >= o.clients:
		return o, fmt.Errorf("--senders %d: want 1 to --clients − 1", o.senders)
	case !(o.rate > 0):
		return o, fmt.Errorf("--rate %g: want more than 0", o.rate)
	case o.window <= 0 || o.idleWindow <= 0 || o.stepWindow <= 0:
		return o, errors.New("--window, --idle-window and --step-window must be positive")
	case o.warmup < 0 || o.stepWarmup < 0 || o.quietWait < 0:
		return o, errors.New("--warmup, --step-warmup and --quiet-wait must not be negative")
	case !(o.noisy >= 0 && o.noisy <= 1):
		return o, fmt.Errorf("--noisy %g: want a share from 0 to 1", o.noisy)
	case o.p99Bound <= 0 || o.budget <= 0:
		return o, errors.New("--p99-bound and --budget must be positive")
	}
	return o, nil
}

// parseSteps reads a rising comma-separated list of sender counts.
func parseSteps(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		switch {
		case err != nil:
			return nil, fmt.Errorf("%q: %w", f, err)
		case n < 1:
			return nil, fmt.Errorf("%d senders: want at least 1", n)
		case len(out) > 0 && n <= out[len(out)-1]:
			return nil, fmt.Errorf("%d after %d: want rising counts", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	return out, nil
}

func mainErr() error {
	o, err := parseOptions(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	say := func(format string, args ...any) {
		d := time.Since(start).Round(time.Second)
		fmt.Fprintf(os.Stderr, "cluster %3d:%02d  %s\n", int(d.Minutes()), int(d.Seconds())%60, fmt.Sprintf(format, args...))
	}
	if err := raiseNoFile(); err != nil {
		say("warning: cannot raise the open-files limit: %v", err)
	}

	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "parley-cluster-")
	if err != nil {
		return err
	}
	if o.keep {
		defer say("kept %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	pg := postgres{dsn: o.postgres}
	pgVersion, err := pg.version(ctx)
	if err != nil {
		return fmt.Errorf("%w (set --postgres or PARLEY_TEST_POSTGRES)", err)
	}
	say("building parley")
	bin, err := build(ctx, root, tmp)
	if err != nil {
		return err
	}
	rs, err := startRedis(ctx, o.redisServer, tmp)
	if err != nil {
		return err
	}
	defer rs.stop()
	defer rs.client.Close()
	say("redis-server %s on %s (our own); PostgreSQL %s, a fresh schema per run", rs.version(ctx), rs.addr, pgVersion)

	var raw io.Writer
	if o.raw != "" {
		f, err := os.OpenFile(o.raw, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		raw = f
	}
	r := &runner{o: o, bin: bin, tmp: tmp, redis: rs, pg: pg, say: say, raw: raw}
	rep := &report{
		o: o, started: start, machine: machineInfo(), redisVersion: rs.version(ctx), pgVersion: pgVersion,
		command: commandLine(os.Args[1:]),
	}
	rep.collect(ctx, r, start.Add(o.budget))
	rep.elapsed = time.Since(start)
	if ctx.Err() != nil {
		return ctx.Err()
	}

	var md strings.Builder
	if err := rep.write(&md); err != nil {
		return err
	}
	fmt.Print(md.String())
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md.String()), 0o644); err != nil {
			return err
		}
	}
	if rep.failed() {
		return errors.New("some runs failed: see the report")
	}
	return nil
}

// commandLine is how the benchmark was started.
func commandLine(args []string) string {
	parts := []string{"go", "run", "./bench/cluster"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$&;|<>*?()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
