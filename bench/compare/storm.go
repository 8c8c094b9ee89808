package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/bench"
)

// The restart storm: the clients join, the server is stopped with SIGTERM
// and started again on the same address and store, as a supervisor
// would, and the clients come back as their pages would. parley's rejoin
// as its page does (new-user with the token of the first answer, then
// the member list's pages); node's as the tutorial's page would if it
// rejoined at all (new-user with the name: its server has no identities
// and answers no acks, so a client is back once it has sent it).
const (
	stormClients      = 5000
	stormConnectRate  = 25 // joins per second: each is announced to all, and node must keep up
	stormHold         = 50 * time.Second
	stormLimit        = 2 * time.Minute
	stormSettle       = 5 * time.Minute
	stormQuickClients = 500
	stormQuickHold    = 5 * time.Second
)

// stormParams returns the storm's clients and hold: the hold outlasts a
// ping interval and timeout (25 + 20 s), so that a client whose pongs are
// not read is cut off before it ends.
func (r *runner) stormParams() (clients int, hold time.Duration) {
	if r.quick {
		return stormQuickClients, stormQuickHold
	}
	return stormClients, stormHold
}

// restartStorm runs the restart storm for node and parley.
func (r *runner) restartStorm(ctx context.Context) {
	clients, hold := r.stormParams()
	name := fmt.Sprintf("restart-storm: %s clients, SIGTERM and restart", count(float64(clients)))
	outs := map[string]outcome{}
	for _, srv := range r.table.servers {
		if srv != serverNode && srv != serverParley || ctx.Err() != nil {
			continue
		}
		rejoin := "tutorial"
		if srv == serverParley {
			rejoin = "page"
		}
		args := []string{
			"--clients", strconv.Itoa(clients), "--connect-rate", strconv.Itoa(stormConnectRate),
			"--connect-timeout", "20s", "--settle", dur(stormSettle), "--duration", dur(hold),
			"--restart-storm", "--rejoin", rejoin, "--storm-limit", dur(stormLimit),
		}
		res, err := r.benchStorm(ctx, spec{label: "restart-storm", server: srv, store: storeSQLite, args: args})
		outs[srv] = outcome{res, err}
	}
	stormOf := func(f func(*result) (float64, string, bool)) func(*result) (float64, string, bool) {
		return func(res *result) (float64, string, bool) {
			if res.Storm == nil {
				return 0, "no storm", false
			}
			return f(res)
		}
	}
	r.perServer(name, "joined before the restart", noRatio, outs, func(res *result) (float64, string, bool) {
		return float64(res.Connected), count(float64(res.Connected)) + " of " + count(float64(res.Clients)), true
	})
	r.perServer(name, "back (parley: new-user answered; node: new-user sent)", noRatio, outs, stormOf(func(res *result) (float64, string, bool) {
		s := res.Storm
		return float64(s.Back), count(float64(s.Back)) + " of " + count(float64(s.Joined)), true
	}))
	r.perServer(name, "time from SIGTERM until all were back", lowerBetter, outs, stormOf(func(res *result) (float64, string, bool) {
		s := res.Storm
		if s.AllBackMS == 0 {
			return 0, fmt.Sprintf("not all (%s of %s)", count(float64(s.Back)), count(float64(s.Joined))), false
		}
		return s.AllBackMS / 1000, sig3(s.AllBackMS/1000) + " s", true
	}))
	r.perServer(name, "time until the others had heard everything (server quiet)", lowerBetter, outs, stormOf(func(res *result) (float64, string, bool) {
		s := res.Storm
		v := (s.BackMaxMS + s.SettleMS) / 1000
		return v, sig3(v) + " s", true
	}))
	r.perServer(name, "cut off by the server once back", lowerBetter, outs, stormOf(func(res *result) (float64, string, bool) {
		return float64(res.Storm.CutOff), count(float64(res.Storm.CutOff)), true
	}))
	events := func(what string, pick func(s *bench.StormReport) (p50, most, total uint64)) {
		r.perServer(name, what+" each client received, p50 (max; total)", lowerBetter, outs, stormOf(func(res *result) (float64, string, bool) {
			p50, most, total := pick(res.Storm)
			return float64(p50), fmt.Sprintf("%s (%s; %s)", count(float64(p50)), count(float64(most)), count(float64(total))), true
		}))
	}
	events("user-connected", func(s *bench.StormReport) (uint64, uint64, uint64) {
		return s.UserConnected.P50, s.UserConnected.Max, s.UserConnected.Total
	})
	events("user-disconnected", func(s *bench.StormReport) (uint64, uint64, uint64) {
		return s.UserDisconnected.P50, s.UserDisconnected.Max, s.UserDisconnected.Total
	})
	r.perServer(name, "new server's CPU from its start until quiet", lowerBetter, outs, stormOf(func(res *result) (float64, string, bool) {
		if res.Storm.PID == 0 {
			return 0, "—", false
		}
		return res.Storm.CPUSeconds, sig3(res.Storm.CPUSeconds) + " s", true
	}))
	r.perServer(name, "new server's RSS once quiet", lowerBetter, outs, stormOf(func(res *result) (float64, string, bool) {
		if res.Storm.PID == 0 {
			return 0, "—", false
		}
		return float64(res.Storm.RSSKiB), kib(float64(res.Storm.RSSKiB)), true
	}))
}

// benchStorm runs parley bench's restart storm against a fresh server,
// with a supervisor that starts the server again, on the same address and
// store, once the storm's SIGTERM has stopped it, and writes its pid to
// the file the generator reads. Runs with the same server and flags are
// done once.
func (r *runner) benchStorm(ctx context.Context, s spec) (*result, error) {
	key := s.server + "/" + s.store + " storm " + strings.Join(s.args, " ")
	if o, ok := r.cache[key]; ok {
		return o.res, o.err
	}
	res, err := r.stormOnce(ctx, s)
	if ctx.Err() == nil {
		r.cache[key] = outcome{res, err}
	}
	what := s.label + " · " + s.serverLabel()
	switch {
	case err != nil:
		r.logf("  %s: failed: %v", what, err)
	default:
		r.logf("  %s: %s", what, stormSummary(res))
	}
	return res, err
}

// supervisor starts a server again once, when it exits: the restart of a
// restart storm. It is safe for concurrent use.
type supervisor struct {
	start   func() (*process, error)
	pidFile string

	mu       sync.Mutex
	cur      *process
	restarts int
	err      error
	stopped  bool
	done     chan struct{}
}

// watch waits for the current process to exit, starts the next, and
// writes its pid, until stop.
func (sv *supervisor) watch() {
	defer close(sv.done)
	sv.mu.Lock()
	p := sv.cur
	sv.mu.Unlock()
	<-p.done
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.stopped {
		return
	}
	next, err := sv.start()
	if err == nil {
		err = writePIDFile(sv.pidFile, next.pid())
	}
	if err != nil {
		sv.err = err
		return
	}
	sv.cur, sv.restarts = next, sv.restarts+1
}

// stop ends the supervision and the server that runs, and returns how
// many times it restarted the server and whether that failed.
func (sv *supervisor) stop() (int, error) {
	sv.mu.Lock()
	sv.stopped = true
	p := sv.cur
	sv.mu.Unlock()
	p.stop()
	<-sv.done
	sv.mu.Lock()
	defer sv.mu.Unlock()
	sv.cur.stop() // started just before stopped was set
	return sv.restarts, sv.err
}

// writePIDFile writes pid to path, whole: a reader never sees half of it.
func writePIDFile(path string, pid int) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// stormOnce does the work of benchStorm.
func (r *runner) stormOnce(ctx context.Context, s spec) (*result, error) {
	e := r.env
	e.runs++
	dir, err := os.MkdirTemp(e.tmp, "storm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	port, err := e.port()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	pidFile := filepath.Join(dir, "server.pid")
	start := func() (*process, error) {
		return startProcess(s.serverLabel(), e.command(s.server, s.store, s.history, port, dir))
	}
	first, err := start()
	if err != nil {
		return nil, err
	}
	if err := first.waitPort(ctx, addr); err != nil {
		first.stop()
		return nil, err
	}
	if err := writePIDFile(pidFile, first.pid()); err != nil {
		first.stop()
		return nil, err
	}
	sv := &supervisor{start: start, pidFile: pidFile, cur: first, done: make(chan struct{})}
	go sv.watch()

	args := append([]string{"bench", "--json", "--quiet", "--url", "http://" + addr, "--pid-file", pidFile}, s.args...)
	bctx, cancel := context.WithTimeout(ctx, stormTimeout(s.args))
	defer cancel()
	cmd := exec.CommandContext(bctx, e.parley, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	cmd.SysProcAttr = sysProcAttr()
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	runErr := cmd.Run()
	restarts, svErr := sv.stop()

	res, err := parseResult(stdout.Bytes())
	if err != nil {
		return nil, fmt.Errorf("parley bench: %v; %v: %s", runErr, err, lastLines(stderr.String(), 5))
	}
	switch {
	case svErr != nil:
		res.Warnings = append(res.Warnings, "restarting the server: "+svErr.Error())
	case restarts != 1:
		res.Warnings = append(res.Warnings, fmt.Sprintf("the server was started again %d times, want once", restarts))
	}
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

// stormTimeout bounds a restart storm's run: its phases' limits, and a
// margin.
func stormTimeout(args []string) time.Duration {
	d := benchTimeout(args) // connecting, settling and the hold
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--storm-limit" {
			limit, _ := time.ParseDuration(args[i+1])
			d += limit
		}
		if args[i] == "--settle" {
			settle, _ := time.ParseDuration(args[i+1])
			d += settle // once more, after the return
		}
	}
	return d
}

// stormSummary is a progress line's account of a storm.
func stormSummary(res *result) string {
	s := res.Storm
	if s == nil {
		return summary(res) + "; no storm"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d joined, %d back", res.Connected, res.Clients, s.Back)
	if s.AllBackMS > 0 {
		fmt.Fprintf(&b, ", all in %s s", sig3(s.AllBackMS/1000))
	}
	fmt.Fprintf(&b, ", quiet after %s s, %d cut off; user-connected p50 %d max %d, user-disconnected p50 %d max %d",
		sig3((s.BackMaxMS+s.SettleMS)/1000), s.CutOff, s.UserConnected.P50, s.UserConnected.Max,
		s.UserDisconnected.P50, s.UserDisconnected.Max)
	if s.PID > 0 {
		fmt.Fprintf(&b, ", new server %s s CPU, RSS %s", sig3(s.CPUSeconds), kib(float64(s.RSSKiB)))
	}
	if res.OtherBusy > 0.15 {
		fmt.Fprintf(&b, " [other programs: %.0f%% of the CPUs]", 100*res.OtherBusy)
	}
	for _, w := range res.Warnings {
		b.WriteString("; warning: " + w)
	}
	return b.String()
}
