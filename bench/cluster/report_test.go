package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/bench"
)

// latencyOutcome is a made-up latency run.
func latencyOutcome(label string, l layout, p50, p99 time.Duration, cross *bench.PathStats) *outcome {
	s := spec{label: label, layout: l, clients: 401, senders: 10, rate: 10, warmup: 2 * time.Second, window: 15 * time.Second}
	res := &bench.Result{
		Clients: 401, Connected: 401, Sent: 1500, Expected: 600_000, Received: 600_000, DeliveriesPerSec: 40_000,
		LatencyP50: p50, LatencyP99: p99, LatencyMax: 2 * p99, Measured: 15 * time.Second,
		BenchCPU: 3 * time.Second, HostBusy: 0.5,
	}
	if cross != nil {
		same := bench.PathStats{Received: 13_500, LatencyP50: p50, LatencyP99: p99}
		res.SameNode, res.CrossNode = &same, cross
	}
	o := &outcome{spec: s, res: res, cpus: 2, nodeCPU: []time.Duration{6 * time.Second}, redisCPU: 150 * time.Millisecond, pgCPU: time.Second}
	if l != oneNode {
		o.nodeCPU = append(o.nodeCPU, 3*time.Second)
	}
	return o
}

// sampleReport is a made-up report of every part.
func sampleReport() *report {
	o, _ := parseOptions(nil, func(string) string { return "" }, nil)
	rp := &report{o: o, machine: "2 CPUs (test)", redisVersion: "7.0", pgVersion: "15", command: "go run ./bench/cluster", elapsed: 4 * time.Minute}
	rp.one = latencyOutcome(labelOne, oneNode, 3*time.Millisecond, 9*time.Millisecond, nil)
	rp.together = latencyOutcome(labelTogether, together, 4*time.Millisecond, 10*time.Millisecond, nil)
	rp.split = latencyOutcome(labelSplit, split, 5*time.Millisecond, 12*time.Millisecond,
		&bench.PathStats{Received: 586_500, LatencyP50: 5500 * time.Microsecond, LatencyP99: 13 * time.Millisecond})
	rp.split.cmds = cmdStats{"publish": {1510, 15000}, "xread": {400, 800}, "info": {2, 10}}
	rp.idle = latencyOutcome(labelIdle, spread, 0, 0, nil)
	rp.idle.spec.idle = true
	rp.idle.res.Measured = 8 * time.Second
	rp.idle.cmds = cmdStats{"publish": {8, 80}, "xread": {160, 320}}
	for _, n := range []int{10, 20, 40} {
		st := latencyOutcome("ceiling", split, 5*time.Millisecond, time.Duration(n)*2*time.Millisecond, nil)
		st.spec.senders, st.spec.clients, st.spec.window = n, n+391, 5*time.Second
		st.res.DeliveriesPerSec = st.spec.offered()
		rp.steps = append(rp.steps, ceilingStep{out: *st, held: true})
	}
	last := latencyOutcome("ceiling", split, 50*time.Millisecond, 150*time.Millisecond, nil)
	last.spec.senders, last.spec.clients = 60, 451
	rp.steps = append(rp.steps, ceilingStep{out: *last, held: false, why: "p99 150.0 ms ≥ 100.0 ms"})
	return rp
}

// TestReportWrite checks what the report says of made-up runs.
func TestReportWrite(t *testing.T) {
	rp := sampleReport()
	var b strings.Builder
	if err := rp.write(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"### Latency at 40,000 deliveries/s",
		"| (a) one node, no Redis | 40,000 | 0 | 3.00 ms | 9.00 ms | 18.0 ms | — | — | 1: 40% | — | 6.7% | 20% | 50% (16%) |",
		"| (b) two nodes, senders on node 1, the others on node 2 | 40,000 | 0 | 5.00 ms | 12.0 ms | 24.0 ms | 5.50 ms | 13.0 ms | 1: 40%, 2: 20% | 1.0% |",
		"| (a′) the same cluster, every client on node 1 | 4.00 ms | 10.0 ms | +1.50 ms | +3.00 ms |",
		"| (a) one node, no Redis | 3.00 ms | 9.00 ms | +2.50 ms | +4.00 ms |",
		"Goal: the hop adds at most 5.00 ms at p99. Against (a′): met (+3.00 ms); against (b)'s own same-node deliveries, measured at the same moments: met (+1.00 ms).\n",
		// (1510 − 1/s × 15 s) / 1500 and (400 − 20/s × 15 s) / 1500
		"| `publish` | 0.997 | 1,510 | 1.0 | 10.00 |",
		"| `xread` | 0.067 | 400 | 20.0 | 0.53 |",
		"| **all** | 1.063 | 1,910 | 21.0 |",
		// 150 ms less 150 ms / 8 s × 15 s, at least 0
		"redis-server's CPU over the window: 150ms (1.0% of a core), 100.0 µs per message; 0.0 µs net of its idle rate (1.9% of a core)",
		"| 40 | 400 | 172,000 | 172,000 |",
		"| 60 | 600 | 270,000 |",
		"no: p99 150.0 ms ≥ 100.0 ms |",
		"**Ceiling: 172,000 deliveries/s** held (40 senders × 10 msg/s, 172,000 offered; p99 80.0 ms); 60 senders failed: p99 150.0 ms ≥ 100.0 ms.",
		"go run ./bench/cluster   # or: make bench-cluster",
		"parley bench --senders-url NODE1 --url NODE2 --clients 401 --senders 10 --rate 10 --warmup 2s --no-join --duration 15s   # (b)",
		"parley bench --url NODE1,NODE2 --clients 401 --idle --no-join --duration 15s   # idle",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks\n%s\n\n%s", want, md)
		}
	}
	if strings.Contains(md, "`info`") {
		t.Error("the report counts the benchmark's own INFO")
	}
	if rp.failed() {
		t.Error("failed() with every latency run done")
	}
}

// TestReportEdges checks what the report says when parts are missing or
// the goal is missed.
func TestReportEdges(t *testing.T) {
	t.Run("goal missed", func(t *testing.T) {
		rp := sampleReport()
		rp.split.res.CrossNode.LatencyP99 = 40 * time.Millisecond
		var b strings.Builder
		_ = rp.write(&b)
		if !strings.Contains(b.String(), "Against (a′): **not met** (+30.0 ms)") {
			t.Errorf("report:\n%s", b.String())
		}
	})
	t.Run("noisy", func(t *testing.T) {
		rp := sampleReport()
		rp.split.res.HostBusy = 0.95
		rp.steps[3].out.res.HostBusy = 0.9
		var b strings.Builder
		_ = rp.write(&b)
		for _, want := range []string{"**Inconclusive**: other programs kept up to 51% of the machine busy", "Other programs kept 46% of the machine busy during that step"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("the report lacks %q:\n%s", want, b.String())
			}
		}
	})
	t.Run("every step held, search cut", func(t *testing.T) {
		rp := sampleReport()
		rp.steps = rp.steps[:3]
		rp.cut = "stopped before 60 senders: 5s of the 5m0s budget left, a step takes about 14s"
		var b strings.Builder
		_ = rp.write(&b)
		if !strings.Contains(b.String(), "**Ceiling: at least 172,000 deliveries/s** (40 senders × 10 msg/s): every step run held; the search stopped before 60 senders") {
			t.Errorf("report:\n%s", b.String())
		}
	})
	t.Run("first step failed", func(t *testing.T) {
		rp := sampleReport()
		rp.steps = rp.steps[3:]
		var b strings.Builder
		_ = rp.write(&b)
		if !strings.Contains(b.String(), "**Ceiling: below the first step** (270,000 deliveries/s offered): p99 150.0 ms") {
			t.Errorf("report:\n%s", b.String())
		}
	})
	t.Run("a run failed", func(t *testing.T) {
		rp := sampleReport()
		rp.split = &outcome{spec: rp.split.spec, err: errBoom}
		rp.idle.cmds = nil
		var b strings.Builder
		_ = rp.write(&b)
		md := b.String()
		for _, want := range []string{"| (b) two nodes, senders on node 1, the others on node 2 | failed: boom |", "no hop to measure", "No Redis command counts"} {
			if !strings.Contains(md, want) {
				t.Errorf("the report lacks %q:\n%s", want, md)
			}
		}
		if !rp.failed() {
			t.Error("failed() false with a latency run failed")
		}
	})
}

// TestFormats checks the numbers' formats.
func TestFormats(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{count(0), "0"}, {count(999), "999"}, {count(1000), "1,000"}, {count(1_234_567.6), "1,234,568"}, {count(-40000), "-40,000"},
		{percent(0), "0%"}, {percent(0.04), "0.0%"}, {percent(5.55), "5.5%"}, {percent(9.96), "10%"}, {percent(150), "150%"},
		{signed(1500 * time.Microsecond), "+1.50 ms"}, {signed(-12 * time.Millisecond), "−12.0 ms"},
		{ms(0), "0.00 ms"}, {ms(123456 * time.Microsecond), "123.5 ms"},
		{lossText(0, 10), "0"}, {lossText(5, 1000), "5 (0.5%)"},
		{share(time.Second, 4*time.Second), "25%"}, {share(time.Second, 0), "—"},
		{nodeShares([]time.Duration{time.Second, 2 * time.Second}, 10*time.Second), "1: 10%, 2: 20%"},
		{cellText("a|b\nc"), `a\|b c`},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

var errBoom = errors.New("boom")
