package main

import (
	"errors"
	"flag"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/bench"
)

// benchFlags reads the flags of parley bench that spec.args writes into
// a bench.Config, as cmd/parley does.
func benchFlags(t *testing.T, args []string) bench.Config {
	t.Helper()
	var cfg bench.Config
	var noJoin bool
	fs := flag.NewFlagSet("parley bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.URL, "url", bench.DefaultURL, "")
	fs.StringVar(&cfg.SendersURL, "senders-url", "", "")
	fs.IntVar(&cfg.Clients, "clients", bench.DefaultClients, "")
	fs.IntVar(&cfg.Senders, "senders", bench.DefaultSenders, "")
	fs.Float64Var(&cfg.Rate, "rate", bench.DefaultRate, "")
	fs.DurationVar(&cfg.Duration, "duration", bench.DefaultDuration, "")
	fs.DurationVar(&cfg.Warmup, "warmup", bench.DefaultWarmup, "")
	fs.BoolVar(&cfg.Idle, "idle", false, "")
	fs.BoolVar(&noJoin, "no-join", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		t.Fatalf("parsing %q: %v", args, err)
	}
	cfg.NoJoin = noJoin
	if cfg.Warmup == 0 {
		cfg.Warmup = -1
	}
	if cfg.Idle {
		// An idle run ignores these: parley bench's defaults stand.
		cfg.Senders, cfg.Rate, cfg.Warmup = 0, 0, -1
	}
	return cfg
}

// TestSpecArgs checks that the command a run prints makes the load the
// run makes, and who goes where.
func TestSpecArgs(t *testing.T) {
	base := spec{clients: 401, senders: 10, rate: 10, warmup: 2 * time.Second, window: 15 * time.Second}
	tests := []struct {
		name            string
		layout          layout
		idle, join      bool
		sendersURL, url string
		want            string
	}{
		{"one node", oneNode, false, false, "", "http://n1",
			"--url http://n1 --clients 401 --senders 10 --rate 10 --warmup 2s --no-join --duration 15s"},
		{"together", together, false, true, "", "http://n1",
			"--url http://n1 --clients 401 --senders 10 --rate 10 --warmup 2s --duration 15s"},
		{"split", split, false, false, "http://n1", "http://n2",
			"--senders-url http://n1 --url http://n2 --clients 401 --senders 10 --rate 10 --warmup 2s --no-join --duration 15s"},
		{"idle spread", spread, true, false, "", "http://n1,http://n2",
			"--url http://n1,http://n2 --clients 401 --idle --no-join --duration 15s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			s.layout, s.idle, s.join = tt.layout, tt.idle, tt.join
			args := s.args("http://n1", "http://n2")
			if got := strings.Join(args, " "); got != tt.want {
				t.Errorf("args\n%s\nwant\n%s", got, tt.want)
			}
			got, want := benchFlags(t, args), s.config("http://n1", "http://n2")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the command's configuration\n%+v\nthe run's\n%+v", got, want)
			}
			if want.URL != tt.url || want.SendersURL != tt.sendersURL {
				t.Errorf("url %q, senders-url %q; want %q, %q", want.URL, want.SendersURL, tt.url, tt.sendersURL)
			}
		})
	}
}

// TestOffered checks the deliveries a load offers.
func TestOffered(t *testing.T) {
	tests := []struct {
		s    spec
		want float64
	}{
		{spec{clients: 401, senders: 10, rate: 10}, 40_000},
		{spec{clients: 431, senders: 40, rate: 10}, 172_000},
		{spec{clients: 401, senders: 10, rate: 10, idle: true}, 0},
	}
	for _, tt := range tests {
		if got := tt.s.offered(); got != tt.want {
			t.Errorf("%+v: offered %g, want %g", tt.s, got, tt.want)
		}
	}
}

// TestStepHeld checks what makes a ceiling step fail.
func TestStepHeld(t *testing.T) {
	good := bench.Result{Clients: 401, Connected: 401, Expected: 1000, Received: 1000, LatencyP99: 20 * time.Millisecond}
	with := func(f func(*bench.Result)) *bench.Result {
		r := good
		f(&r)
		return &r
	}
	tests := []struct {
		name string
		res  *bench.Result
		want string // "" if held
	}{
		{"held", &good, ""},
		{"p99", with(func(r *bench.Result) { r.LatencyP99 = 150 * time.Millisecond }), "p99 150.0 ms ≥ 100.0 ms"},
		{"at the bound", with(func(r *bench.Result) { r.LatencyP99 = 100 * time.Millisecond }), "p99 100.0 ms ≥ 100.0 ms"},
		{"loss", with(func(r *bench.Result) { r.Loss = 5 }), "5 lost (0.5%)"},
		{"dropped", with(func(r *bench.Result) { r.Dropped = 2 }), "2 clients dropped"},
		{"not all connected", with(func(r *bench.Result) { r.Connected, r.ConnectFailures = 400, 1 }), "400 of 401 connected"},
		{"duplicates", with(func(r *bench.Result) { r.Duplicates = 3 }), "3 duplicates"},
		{"generator behind", with(func(r *bench.Result) { r.Unsent = 7 }), "7 messages due not sent"},
		{"one behind", with(func(r *bench.Result) { r.Unsent = 1 }), "1 message due not sent"},
		{"two reasons", with(func(r *bench.Result) { r.Loss, r.LatencyP99 = 1, time.Second }), "1 lost (0.1%), p99 1000.0 ms ≥ 100.0 ms"},
		{"failed", nil, "run failed: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := outcome{res: tt.res}
			if tt.res == nil {
				o.err = errors.New("boom")
			}
			held, why := stepHeld(o, 100*time.Millisecond)
			if held != (tt.want == "") || !strings.HasPrefix(why, tt.want) {
				t.Errorf("stepHeld = %v, %q; want %q", held, why, tt.want)
			}
		})
	}
}

// TestOthers checks the share of the machine other programs used.
func TestOthers(t *testing.T) {
	const cpus = 2
	o := outcome{
		cpus:     cpus,
		res:      &bench.Result{Measured: 10 * time.Second, HostBusy: 0.9, BenchCPU: 2 * time.Second},
		nodeCPU:  []time.Duration{3 * time.Second, time.Second},
		redisCPU: time.Second, pgCPU: time.Second,
	}
	want := 0.9 - 8.0/(10*cpus) // 8 s of ours over 10 s × 2 CPUs
	if got := o.others(); math.Abs(got-want) > 1e-9 {
		t.Errorf("others = %g, want %g", got, want)
	}
	o.res.HostBusy = 0
	if got := o.others(); got != 0 {
		t.Errorf("others = %g, want 0 when ours exceed the machine's", got)
	}
	if got := (outcome{}).others(); got != 0 {
		t.Errorf("others of a failed run = %g", got)
	}
}
