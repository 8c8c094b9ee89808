package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/bench"
)

func TestStepPassed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		r       bench.Report
		want    bool
		wantWhy string
	}{
		{"held", bench.Report{Clients: 10, Connected: 10, LatencyP99MS: 99.9}, true, ""},
		{"p99 at the limit", bench.Report{Clients: 10, Connected: 10, LatencyP99MS: 100}, false, "p99 100 ms"},
		{"p99 over", bench.Report{Clients: 10, Connected: 10, LatencyP99MS: 250}, false, "p99 250 ms"},
		{"p99 over and loss", bench.Report{Clients: 10, Connected: 10, LatencyP99MS: 250, Loss: 1, Expected: 10}, false, "p99 250 ms, loss 10%"},
		{"fast but lossy", bench.Report{Clients: 10, Connected: 10, LatencyP99MS: 5, Loss: 1, Expected: 10}, false, "loss 10%"},
		{"fast but some did not connect", bench.Report{Clients: 10, Connected: 9, LatencyP99MS: 5}, false, "9 of 10 connected"},
		{"fast but behind", bench.Report{Clients: 10, Connected: 10, LatencyP99MS: 5, Unsent: 7}, false, "7 unsent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, why := stepPassed(&result{Report: tc.r})
			if ok != tc.want || why != tc.wantWhy {
				t.Errorf("stepPassed = %v, %q; want %v, %q", ok, why, tc.want, tc.wantWhy)
			}
		})
	}
}

// TestExtractors checks each row's value and text, with and without the
// server's stats.
func TestExtractors(t *testing.T) {
	withServer := &result{Report: bench.Report{
		Clients: 1000, Connected: 998, Loss: 5, Expected: 1000, Received: 1e6, DeliveriesPerSec: 99900.4,
		MeasuredMS: 8000, BenchCPUSeconds: 2,
		LatencyP50MS: 1.5, LatencyP99MS: 42, LatencyMaxMS: 1234,
		Server: &bench.ServerReport{
			RSSPerClientKiB: 61.5, RSSConnectedKiB: 81920, RSSMaxKiB: 204800, CPUMicrosPerDelivery: 8.25,
		},
	}}
	noServer := &result{Report: bench.Report{Clients: 10, Connected: 10}}
	noCPU := &result{Report: bench.Report{Server: &bench.ServerReport{}}}
	for _, tc := range []struct {
		name     string
		f        func(*result) (float64, string, bool)
		r        *result
		wantV    float64
		wantText string
		wantOK   bool
	}{
		{"connected", connected, withServer, 998, "998 of 1,000", true},
		{"deliveries", deliveries, withServer, 99900.4, "99,900", true},
		{"loss", lossPct, withServer, 0.5, "0.500%", true},
		{"no loss", lossPct, noServer, 0, "0%", true},
		{"p50", p50, withServer, 1.5, "1.50 ms", true},
		{"p99", p99, withServer, 42, "42.0 ms", true},
		{"max", pmax, withServer, 1234, "1,234 ms", true},
		{"rss per client", rssPerClient, withServer, 61.5, "61.5 KiB", true},
		{"rss connected", rssConnected, withServer, 81920, "80.0 MiB", true},
		{"rss max", rssMax, withServer, 204800, "200 MiB", true},
		{"cpu per delivery", cpuPerDelivery, withServer, 8.25, "8.25 µs", true},
		{"bench cpu per delivery", benchCPUPerDelivery, withServer, 2, "2.00 µs (25.0% of a core)", true},
		{"bench cpu per delivery, nothing received", benchCPUPerDelivery, noServer, 0, "—", false},
		{"rss per client, no stats", rssPerClient, noServer, 0, "no server stats", false},
		{"rss connected, no stats", rssConnected, noServer, 0, "no server stats", false},
		{"rss max, no stats", rssMax, noServer, 0, "no server stats", false},
		{"cpu per delivery, no stats", cpuPerDelivery, noServer, 0, "—", false},
		{"cpu per delivery, none measured", cpuPerDelivery, noCPU, 0, "—", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, text, ok := tc.f(tc.r)
			if v != tc.wantV || text != tc.wantText || ok != tc.wantOK {
				t.Errorf("got %v, %q, %v; want %v, %q, %v", v, text, ok, tc.wantV, tc.wantText, tc.wantOK)
			}
		})
	}
}

func TestPerServer(t *testing.T) {
	r := &runner{table: &table{servers: allServers}}
	outs := map[string]outcome{
		serverNode:    {err: errors.New("node exited during the run")},
		serverZishang: {res: &result{Report: bench.Report{Connected: 1}}},
		serverParley:  {res: &result{Report: bench.Report{Connected: 1, Server: &bench.ServerReport{RSSPerClientKiB: 12}}}},
	}
	r.perServer("idle", "server RSS per client", lowerBetter, outs, rssPerClient)
	if len(r.table.rows) != 1 {
		t.Fatalf("%d rows, want 1", len(r.table.rows))
	}
	rw := r.table.rows[0]
	if rw.scenario != "idle" || rw.metric != "server RSS per client" || rw.better != lowerBetter {
		t.Errorf("row %+v: not the scenario, metric and direction given", rw)
	}
	for srv, want := range map[string]cell{
		serverNode:    {text: "failed"},
		serverZishang: {text: "no server stats"},
		serverParley:  {v: 12, text: "12.0 KiB", has: true},
	} {
		if got := rw.cells[srv]; got != want {
			t.Errorf("%s's cell = %+v, want %+v", srv, got, want)
		}
	}
	if got := rw.ratio(serverNode); got != "" {
		t.Errorf("ratio to a failed run = %q, want none", got)
	}
}

// TestCeilingRows renders the ceiling's rows for a server that held no
// step, one that failed on the way and one that held every step.
func TestCeilingRows(t *testing.T) {
	r := &runner{table: &table{servers: allServers}}
	r.ceilingRows("ceiling", map[string]ceilingResult{
		serverNode: {fail: "20k: p99 300 ms"},
		serverZishang: {
			best:     &result{Report: bench.Report{DeliveriesPerSec: 149000, LatencyP99MS: 80}},
			bestStep: 150e3, fail: "200k: loss 1%",
		},
		serverParley: {
			best: &result{Report: bench.Report{
				DeliveriesPerSec: 2.99e6, LatencyP99MS: 40, Server: &bench.ServerReport{CPUMicrosPerDelivery: 0.9},
			}},
			bestStep: 3e6,
		},
	})
	var b strings.Builder
	if err := r.table.write(&b); err != nil {
		t.Fatal(err)
	}
	want := `| scenario | metric | node | zishang | parley | parley vs node | parley vs zishang |
|---|---|---:|---:|---:|---:|---:|
| ceiling | highest step held (deliveries/s offered) | < 20k | 150k | ≥ 3M | ≥ 150× node | ≥ 20× zishang |
| ceiling | deliveries/s there |  | 149,000 | 2,990,000 |  |  |
| ceiling | latency p99 there |  | 80.0 ms | 40.0 ms |  |  |
| ceiling | server CPU per delivery there |  |  | 0.900 µs |  |  |
| ceiling | lowest step failed | 20k: p99 300 ms | 200k: loss 1% | none up to 3M |  |  |
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestLoadArgs(t *testing.T) {
	r := &runner{p: paramsFor(false)}
	got := strings.Join(r.loadArgs(overloadSenders, r.p.overloadWindow), " ")
	want := "--clients 1000 --senders 10 --rate 10 --no-join --warmup 2s --duration 15s --settle 30s"
	if got != want {
		t.Errorf("loadArgs = %q, want %q", got, want)
	}
	// What the scenarios' names say they offer.
	for _, tc := range []struct {
		senders int
		want    float64
	}{
		{overloadSenders, 99900},
		{moderateSenders, 39960},
		{1, 9990},
	} {
		if got := r.offered(tc.senders); got != tc.want {
			t.Errorf("offered(%d) = %v, want %v", tc.senders, got, tc.want)
		}
	}
}

func TestPollingArgs(t *testing.T) {
	for _, tc := range []struct {
		quick bool
		want  string
	}{
		{false, "--transport polling --clients 200 --senders 5 --rate 10 --no-join --warmup 2s --duration 15s --settle 30s"},
		{true, "--transport polling --clients 200 --senders 5 --rate 10 --no-join --warmup 1s --duration 4s --settle 30s"},
	} {
		r := &runner{p: paramsFor(tc.quick)}
		if got := strings.Join(r.pollingArgs(), " "); got != tc.want {
			t.Errorf("quick %v: pollingArgs = %q, want %q", tc.quick, got, tc.want)
		}
	}
}

func TestCeilingStepsClimb(t *testing.T) {
	for i := 1; i < len(ceilingSteps); i++ {
		if ceilingSteps[i] <= ceilingSteps[i-1] {
			t.Errorf("step %d (%v) is not above step %d (%v)", i, ceilingSteps[i], i-1, ceilingSteps[i-1])
		}
	}
}
