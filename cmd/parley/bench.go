package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/bench"
)

// runBench runs `parley bench [flags]`: a load generator for any Socket.IO
// chat following the tutorial's contract (see package bench). It writes
// progress to stderr and the result to stdout: as text, or with --json as
// one JSON line (the text then goes to stderr).
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		cfg       bench.Config
		transport string
		asJSON    bool
		quiet     bool
		profile   string
		storm     bool
		restart   string
		pidFile   string
		rejoin    string
	)
	fs := flag.NewFlagSet("parley bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parley bench [flags]\n\nLoad-tests a Socket.IO chat that follows the tutorial's contract (new-user,\nsend-chat-message, chat-message) and reports delivery rate, loss and latency.\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.URL, "url", bench.DefaultURL, "server base URL; or the base URLs of several nodes of a cluster, comma-separated, which the clients are spread over in turn (client i on node i mod n)")
	fs.StringVar(&cfg.SendersURL, "senders-url", "", "base URL, or comma-separated base URLs, of the nodes the senders connect to; the other clients are then spread over --url's alone. --senders-url http://node1 --url http://node2 sends every message on one node and hears it on the other; the result splits the deliveries into same-node and cross-node, both timed by the generator's one clock")
	fs.StringVar(&cfg.Path, "path", bench.DefaultPath, "Socket.IO endpoint path")
	fs.StringVar(&transport, "transport", string(bench.TransportWebSocket), "websocket or polling")
	fs.IntVar(&cfg.Clients, "clients", bench.DefaultClients, fmt.Sprintf("clients to connect (at most %d)", bench.MaxClients))
	fs.IntVar(&cfg.Senders, "senders", bench.DefaultSenders, "how many of the clients send")
	fs.Float64Var(&cfg.Rate, "rate", bench.DefaultRate, "messages per second per sender (parley allows 20 per connection)")
	fs.DurationVar(&cfg.Duration, "duration", bench.DefaultDuration, fmt.Sprintf("measured window (at most %v)", bench.MaxDuration))
	fs.DurationVar(&cfg.Warmup, "warmup", bench.DefaultWarmup, "sending before the window, not measured (0 for none)")
	fs.DurationVar(&cfg.Drain, "drain", bench.DefaultDrain, "longest wait after the window for its last deliveries")
	fs.DurationVar(&cfg.Settle, "settle", bench.DefaultSettle, "longest wait, once connected, for the server to stop sending events (joins announced to everyone); 0 for none")
	fs.Float64Var(&cfg.ConnectRate, "connect-rate", bench.DefaultConnectRate, "new connections per second")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", bench.DefaultConnectTimeout, "limit on each connection, from dial to Socket.IO CONNECT")
	fs.IntVar(&cfg.PID, "pid", 0, "server process id (same machine): report its CPU time and memory")
	fs.BoolVar(&cfg.NoJoin, "no-join", false, "clients that do not send only listen: they emit no new-user, so no join is announced to everyone")
	fs.Float64Var(&cfg.SlowReaders, "slow-readers", 0, "fraction (0 to 1) of the clients that do not send which stop reading once joined, before the warm-up, like stuck phones (over WebSocket with a 4 KiB receive buffer); left out of loss and latency, reported with how many the server cut off")
	fs.Float64Var(&cfg.Churn, "churn", 0, fmt.Sprintf("clients per second that leave, each replaced by a new one that joins (and gets the history), from the warm-up to the end of the window; every other receiver churns, the others stay and their deliveries are the figures (at most %d)", bench.MaxChurn))
	fs.BoolVar(&cfg.Ack, "ack", false, "senders ask for an ack of each message; check that every message acked in the window reached every client connected throughout")
	fs.BoolVar(&cfg.Hostile, "hostile", false, "run a hostile client alongside the load, cycling through inputs a server must refuse or bound (parley's issue 10), and report what it met with")
	fs.BoolVar(&cfg.Idle, "idle", false, "connect, then send nothing: measure the server's memory and CPU over --duration")
	fs.BoolVar(&storm, "restart-storm", false, "restart storm: the clients join (and, with --rejoin page, keep the token new-user's ack gives), the server settles, then it is restarted (--restart-cmd, or SIGTERM to --pid); the clients reconnect with the page's backoff and rejoin; reports how soon all are back, who was cut off, and the user-connected and user-disconnected events each received; --duration is how long they stay once back")
	fs.StringVar(&restart, "restart-cmd", "", "with --restart-storm: a shell command that restarts the server (stops it and starts it again on the same address and store); without it, the server at --pid gets SIGTERM and something else must start it again")
	fs.StringVar(&pidFile, "pid-file", "", "a file holding the server's process id: read for --pid if that is not given, and again after a restart, until it names the new server")
	fs.StringVar(&rejoin, "rejoin", string(bench.RejoinPage), "with --restart-storm: page (new-user with an ack and the token of the first, then the member list's pages and list-rooms, as parley's page) or tutorial (new-user with the name alone, for servers without identities or acks)")
	fs.DurationVar(&cfg.StormLimit, "storm-limit", bench.DefaultStormLimit, fmt.Sprintf("with --restart-storm: longest wait, from the restart, for every client to be back (at most %v)", bench.MaxStorm))
	fs.BoolVar(&asJSON, "json", false, "print the result as one JSON line on stdout")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines")
	fs.StringVar(&profile, "cpuprofile", "", "write the generator's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg.Transport = bench.Transport(transport)
	if cfg.Warmup == 0 {
		cfg.Warmup = -1 // none; zero would mean the default
	}
	if cfg.Settle == 0 {
		cfg.Settle = -1
	}
	if pidFile != "" && cfg.PID == 0 {
		pid, err := readPIDFile(pidFile)
		if err != nil {
			return fmt.Errorf("--pid-file: %w", err)
		}
		cfg.PID = pid
	}
	switch {
	case storm && restart != "":
		cfg.Restart = commandRestart(restart, pidFile, cfg.PID, stderr)
	case storm && cfg.PID > 0:
		cfg.Restart = signalRestart(cfg.PID, pidFile)
	case storm:
		return errors.New("--restart-storm needs --restart-cmd, or --pid (or --pid-file) to send SIGTERM to")
	case restart != "":
		return errors.New("--restart-cmd is for --restart-storm")
	}
	cfg.Rejoin = bench.Rejoin(rejoin)
	if cfg.Senders == 0 && !cfg.Idle && !storm {
		return errors.New("--senders must be at least 1 (or use --idle)")
	}
	switch {
	case !(cfg.SlowReaders >= 0 && cfg.SlowReaders <= 1):
		return fmt.Errorf("--slow-readers %g: want a fraction from 0 to 1", cfg.SlowReaders)
	case cfg.SlowReaders > 0 && cfg.Idle:
		return errors.New("--slow-readers needs messages to fall behind on: not with --idle")
	case cfg.Idle && cfg.SendersURL != "":
		return errors.New("--senders-url needs senders: not with --idle")
	case cfg.Idle && (cfg.Churn != 0 || cfg.Ack || cfg.Hostile):
		return errors.New("--churn, --ack and --hostile need a load: not with --idle")
	case storm && (cfg.Idle || cfg.SlowReaders > 0 || cfg.NoJoin || cfg.Churn != 0 || cfg.Ack || cfg.Hostile):
		return errors.New("--restart-storm is a run of its own: not with --idle, --slow-readers, --no-join, --churn, --ack or --hostile")
	case !(cfg.Churn >= 0 && cfg.Churn <= bench.MaxChurn):
		return fmt.Errorf("--churn %g: want 0 to %d clients per second", cfg.Churn, bench.MaxChurn)
	}
	if cfg.Drain == 0 {
		cfg.Drain = time.Nanosecond
	}
	if !quiet {
		cfg.Progress = stderr
	}

	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench.Run(ctx, cfg)
	if res == nil {
		return err
	}
	text := stdout
	if asJSON {
		text = stderr
	}
	if werr := res.WriteText(text); werr != nil && err == nil {
		err = werr
	}
	if asJSON {
		b, jerr := json.Marshal(res)
		if jerr != nil {
			return errors.Join(err, jerr)
		}
		if _, werr := fmt.Fprintf(stdout, "%s\n", b); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}
