package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/bench"
)

// benchSlack is how long a run of parley bench may take beyond its
// duration: connecting, settling (at most 30 s), the warm-up, the drain.
const benchSlack = 2 * time.Minute

func main() {
	ok, err := mainErr()
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// options are the soak's settings.
type options struct {
	duration           time.Duration
	clients, senders   int
	rate, churn        float64
	transport          string
	every              time.Duration
	lim                limits
	raw                string
	keep, showProgress bool
}

// parseOptions reads the flags; SOAK_DURATION, SOAK_CLIENTS and SOAK_CHURN
// set the defaults of theirs.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var (
		o      options
		maxRSS int64
	)
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./bench/soak [flags]\n\n"+
			"Runs parley under parley bench's load with churn, without and then with a\n"+
			"hostile client, printing the server's RSS every 10 s, and checks that the\n"+
			"memory stays bounded, nothing acked is lost and the p99 stays within 2×.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "measured window of each run, at most 10m (SOAK_DURATION)")
	fs.IntVar(&o.clients, "clients", 200, "clients of each run (SOAK_CLIENTS)")
	fs.IntVar(&o.senders, "senders", 10, "how many of them send")
	fs.Float64Var(&o.rate, "rate", 5, "messages per second per sender")
	fs.Float64Var(&o.churn, "churn", 2, "clients per second leaving, each replaced by a new one (SOAK_CHURN)")
	fs.StringVar(&o.transport, "transport", "websocket", "websocket or polling")
	fs.DurationVar(&o.every, "rss-every", 10*time.Second, "how often the server's RSS is printed")
	fs.Int64Var(&maxRSS, "max-rss-mib", 512, "most resident memory the server may reach, in MiB")
	fs.Float64Var(&o.lim.growth, "max-growth", 1.25, "most the server's peak RSS may grow from the middle third of the hostile run to the last")
	fs.Float64Var(&o.lim.p99Ratio, "p99-ratio", 2, "most the healthy clients' p99 may be with the hostile client, over without")
	fs.StringVar(&o.raw, "raw", "", "append each run's JSON line from parley bench to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (server log, store) and print its path")
	fs.BoolVar(&o.showProgress, "progress", false, "show parley bench's progress lines, one a second")
	for env, name := range map[string]string{"SOAK_DURATION": "duration", "SOAK_CLIENTS": "clients", "SOAK_CHURN": "churn"} {
		if v := getenv(env); v != "" {
			if err := fs.Set(name, v); err != nil {
				return o, fmt.Errorf("%s=%q: %w", env, v, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	o.lim.maxRSSKiB = maxRSS << 10
	switch {
	case o.duration <= 0 || o.duration > bench.MaxDuration:
		return o, fmt.Errorf("--duration %v: want more than 0 and at most %v", o.duration, bench.MaxDuration)
	case o.churn <= 0:
		return o, fmt.Errorf("--churn %g: a soak needs churn", o.churn)
	case o.every <= 0 || maxRSS <= 0 || o.lim.growth < 1 || o.lim.p99Ratio < 1:
		return o, errors.New("--rss-every and --max-rss-mib must be positive, --max-growth and --p99-ratio at least 1")
	}
	return o, nil
}

// benchArgs are the arguments of parley bench for a run.
func (o options) benchArgs(url string, pid int, hostile bool) []string {
	args := []string{
		"bench", "--url", url, "--pid", strconv.Itoa(pid), "--transport", o.transport,
		"--clients", strconv.Itoa(o.clients), "--senders", strconv.Itoa(o.senders),
		"--rate", strconv.FormatFloat(o.rate, 'g', -1, 64), "--churn", strconv.FormatFloat(o.churn, 'g', -1, 64),
		"--ack", "--duration", o.duration.String(), "--json",
	}
	if !o.showProgress {
		args = append(args, "--quiet")
	}
	if hostile {
		args = append(args, "--hostile")
	}
	return args
}

func mainErr() (bool, error) {
	o, err := parseOptions(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	say := func(format string, args ...any) {
		fmt.Printf("soak %s  %s\n", fmtElapsed(time.Since(start)), fmt.Sprintf(format, args...))
	}

	root, err := moduleRoot(ctx)
	if err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp("", "parley-soak-")
	if err != nil {
		return false, err
	}
	if o.keep {
		defer say("kept %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	say("building parley")
	bin, err := build(ctx, root, tmp)
	if err != nil {
		return false, err
	}
	port, err := freePort()
	if err != nil {
		return false, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	srv, err := startServer(ctx, bin, addr, tmp)
	if err != nil {
		return false, err
	}
	defer srv.stop()
	if _, err := readRSS(srv.pid()); err != nil {
		return false, fmt.Errorf("reading the server's memory (Linux /proc only): %w", err)
	}
	say("parley pid %d on %s; two runs of %v: %d clients over %s, %d senders × %g msg/s, churn %g/s, acked",
		srv.pid(), addr, o.duration, o.clients, o.transport, o.senders, o.rate, o.churn)
	smp := startSampler(srv.pid(), o.every, start, say)

	var raw io.Writer
	if o.raw != "" {
		f, err := os.OpenFile(o.raw, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return false, err
		}
		defer f.Close()
		raw = f
	}
	runs := []run{{name: "baseline"}, {name: "hostile"}}
	for i := range runs {
		if ctx.Err() != nil || srv.exited() {
			break
		}
		r := &runs[i]
		smp.setPhase(r.name)
		say("run %d of 2, %s: parley bench for %v%s", i+1, r.name, o.duration, map[bool]string{true: " with --hostile"}[r.name == "hostile"])
		r.rep, err = benchRun(ctx, bin, o.benchArgs("http://"+addr, srv.pid(), r.name == "hostile"), o.duration+benchSlack, raw)
		if err != nil {
			say("run %s: %v", r.name, err)
		}
		smp.setPhase("after")
	}
	samples := smp.stop()
	exited := srv.exited()
	srv.stop()
	for i := range runs {
		for _, s := range samples {
			if s.phase == runs[i].name {
				runs[i].rss = append(runs[i].rss, s)
			}
		}
	}
	if exited {
		say("parley exited during the soak (%v): %s", srv.err, srv.tail())
	}
	if w := srv.warnings(); len(w) > 0 {
		for _, k := range slices.Sorted(maps.Keys(w)) {
			say("server log: %q ×%d", k, w[k])
		}
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}

	checks := verdict(runs[0], runs[1], o.lim)
	if exited {
		checks = append(checks, check{name: "server up", detail: "parley exited during the soak"})
	}
	fmt.Println()
	if err := writeSummary(os.Stdout, runs, checks); err != nil {
		return false, err
	}
	ok := passed(checks)
	fmt.Printf("\nsoak: %s\n", map[bool]string{true: "PASS", false: "FAIL"}[ok])
	return ok, nil
}

// benchRun runs parley bench with args, its text result going to stdout,
// and returns its JSON line, which it also appends to raw if not nil.
func benchRun(ctx context.Context, bin string, args []string, limit time.Duration, raw io.Writer) (*bench.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, os.Stdout
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	rep, perr := parseReport(out.Bytes())
	if perr != nil {
		return nil, errors.Join(err, perr)
	}
	if raw != nil {
		_, _ = fmt.Fprintf(raw, "%s\n", bytes.TrimSpace(out.Bytes()))
	}
	return rep, err
}

// parseReport finds the JSON line in parley bench's stdout.
func parseReport(stdout []byte) (*bench.Report, error) {
	lines := bytes.Split(bytes.TrimSpace(stdout), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var r bench.Report
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("parsing parley bench's JSON: %w", err)
		}
		return &r, nil
	}
	return nil, errors.New("parley bench printed no JSON line")
}
