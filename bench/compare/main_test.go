package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/bench"
)

func TestPick(t *testing.T) {
	for _, tc := range []struct {
		name    string
		list    string
		want    []string
		wantErr string
	}{
		{"all", "node,zishang,parley", allServers, ""},
		{"one", "parley", []string{serverParley}, ""},
		{"in the table's order", "parley,node", []string{serverNode, serverParley}, ""},
		{"spaces and empty items", " parley , ,node,", []string{serverNode, serverParley}, ""},
		{"twice", "parley,parley", []string{serverParley}, ""},
		{"unknown", "parley,nodejs", nil, `unknown "nodejs", want some of node, zishang, parley`},
		{"case matters", "Parley", nil, `unknown "Parley"`},
		{"empty", "", nil, "none selected"},
		{"only commas", " , ", nil, "none selected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pick(tc.list, allServers)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("pick(%q) = %q, %v; want an error with %q", tc.list, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("pick(%q) = %q, %v; want %q", tc.list, got, err, tc.want)
			}
		})
	}
}

func TestBenchTimeout(t *testing.T) {
	full, quick := &runner{p: paramsFor(false)}, &runner{p: paramsFor(true)}
	for _, tc := range []struct {
		name string
		args []string
		want time.Duration
	}{
		// 100 clients at 500/s plus the 10 s connect timeout, 30 s settle,
		// 2 s warm-up, 10 s window, 5 s drain and a minute's margin.
		{"defaults", nil, 117200 * time.Millisecond},
		{"overload", full.loadArgs(overloadSenders, full.p.overloadWindow), 124 * time.Second},
		{"quick overload", quick.loadArgs(overloadSenders, quick.p.overloadWindow), 112 * time.Second},
		{
			"slow connects",
			[]string{"--clients", "2000", "--idle", "--duration", "5s", "--settle", "120s", "--connect-rate", "200", "--connect-timeout", "20s"},
			(10 + 20 + 120 + 2 + 5 + 5 + 60) * time.Second,
		},
		{"a connect rate of zero counts as one", []string{"--clients", "10", "--connect-rate", "0"}, (10 + 10 + 30 + 2 + 10 + 5 + 60) * time.Second},
		{"a flag without its value", []string{"--duration"}, 117200 * time.Millisecond},
		{"the message rate is not the connect rate", []string{"--rate", "1"}, 117200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := benchTimeout(tc.args); got != tc.want {
				t.Errorf("benchTimeout(%q) = %v, want %v", tc.args, got, tc.want)
			}
		})
	}
}

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b / c"},
		{"a\nb\nc", 5, "a / b / c"},
		{"one", 1, "one"},
		{"\n\nlast\n\n", 3, "last"},
		{"", 5, ""},
	} {
		if got := lastLines(tc.in, tc.n); got != tc.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    bench.Report
		want string
	}{
		{"idle, no server stats", bench.Report{Clients: 5000, Connected: 5000}, "5000/5000 connected"},
		{
			"load with server stats",
			bench.Report{
				Clients: 1000, Connected: 1000, Sent: 100, Expected: 99900, DeliveriesPerSec: 99900,
				LatencyP50MS: 1.5, LatencyP99MS: 42, LatencyMaxMS: 250,
				Server: &bench.ServerReport{CPUMicrosPerDelivery: 8, RSSMaxKiB: 204800, RSSPerClientKiB: 61.5},
			},
			"1000/1000 connected, 99,900 deliveries/s, loss 0%, p50 1.50 ms, p99 42.0 ms, max 250 ms, 8.00 µs CPU/delivery, RSS 200 MiB max, 61.5 KiB/client",
		},
		{
			"no CPU per delivery",
			bench.Report{Clients: 1, Connected: 1, Server: &bench.ServerReport{RSSMaxKiB: 512, RSSPerClientKiB: 0.5}},
			"1/1 connected, RSS 512 KiB max, 0.500 KiB/client",
		},
		{
			"unhealthy, slow readers, a busy machine, warnings",
			bench.Report{
				Clients: 10, Connected: 9, SlowReaders: 2, SlowCutOff: 1, OtherBusy: 0.3,
				Warnings: []string{"the run was stopped at its time limit", "another"},
			},
			"9/10 connected; 9 of 10 connected, 2 slow readers of which 1 cut off [other programs: 30% of the CPUs]; warning: the run was stopped at its time limit; warning: another",
		},
		{"a quiet machine", bench.Report{Clients: 1, Connected: 1, OtherBusy: 0.15}, "1/1 connected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summary(&result{Report: tc.r}); got != tc.want {
				t.Errorf("summary:\ngot  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestServerLabel(t *testing.T) {
	for _, tc := range []struct {
		s    spec
		want string
	}{
		{spec{server: serverParley, store: storeSQLite}, "parley"},
		{spec{server: serverParley, store: storeMemory}, "parley (memory store)"},
		{spec{server: serverNode, store: storeMemory}, "node"},
		{spec{server: serverZishang}, "zishang"},
	} {
		if got := tc.s.serverLabel(); got != tc.want {
			t.Errorf("serverLabel of %+v = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestNoteNoise(t *testing.T) {
	runs := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, "run"+string(rune('a'+i)))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		noisy []string
		want  []string
	}{
		{"none", nil, nil},
		{"one", []string{"overload · node (30%)"}, []string{
			"Other programs used more than 15% of the CPUs during 1 run, whose figures are noisier: overload · node (30%).",
		}},
		{"eight", runs(8), []string{
			"Other programs used more than 15% of the CPUs during 8 runs, whose figures are noisier: runa; runb; runc; rund; rune; runf; rung; runh.",
		}},
		{"ten: eight and the count of the rest", runs(10), []string{
			"Other programs used more than 15% of the CPUs during 10 runs, whose figures are noisier: runa; runb; runc; rund; rune; runf; rung; runh and 2 more.",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &runner{table: &table{}, noisy: tc.noisy}
			r.noteNoise()
			if !slices.Equal(r.table.notes, tc.want) {
				t.Errorf("notes:\ngot  %q\nwant %q", r.table.notes, tc.want)
			}
		})
	}
}

// TestREADMEListsTheScenarios keeps the README's list of scenarios, in
// its table of flags, the same as the command's.
func TestREADMEListsTheScenarios(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := "some of `" + strings.Join(scenarioNames(), ",") + "`"
	if !strings.Contains(string(b), want) {
		t.Errorf("README.md does not say %s", want)
	}
	for _, s := range scenarioNames() {
		if !strings.Contains(string(b), "| `"+s+"` |") {
			t.Errorf("README.md has no row for scenario %s", s)
		}
	}
}
