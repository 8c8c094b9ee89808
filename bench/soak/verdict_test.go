package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/bench"
)

// rep is a report of a run that met every criterion, with p99 in ms.
func rep(p99 float64, hostile bool) *bench.Report {
	r := &bench.Report{Clients: 10, Connected: 10, Steady: 6, Sent: 100, Expected: 500, Received: 500,
		LatencyP50MS: p99 / 4, LatencyP99MS: p99,
		Churn: &bench.ChurnStats{Left: 20, Joined: 20},
		Acks:  &bench.AckStats{Acked: 100, Steady: 6}}
	if hostile {
		r.Hostile = &bench.HostileReport{Cycles: 2, Items: []bench.HostileItemStats{{Name: "polling-pings", Runs: 2}}}
	}
	return r
}

// rss is samples every 10 s in a phase, in MiB.
func rss(phase string, from time.Duration, mibs ...int64) []sample {
	var s []sample
	for i, m := range mibs {
		s = append(s, sample{at: from + time.Duration(i)*10*time.Second, phase: phase, kib: m << 10})
	}
	return s
}

func TestVerdict(t *testing.T) {
	lim := limits{maxRSSKiB: 100 << 10, growth: 1.25, p99Ratio: 2}
	good := func() (run, run) {
		return run{name: "baseline", rep: rep(10, false), rss: rss("baseline", 0, 30, 35, 36)},
			run{name: "hostile", rep: rep(15, true), rss: rss("hostile", time.Minute, 30, 40, 45, 44, 46, 45)}
	}
	tests := []struct {
		name   string
		change func(b, h *run)
		failed string // the check that fails, "" for none
	}{
		{"all good", func(b, h *run) {}, ""},
		{"memory climbing in the first third", func(b, h *run) { h.rss = rss("hostile", time.Minute, 10, 30, 45, 44, 46, 45) }, ""},
		{"memory over the limit", func(b, h *run) { h.rss = rss("hostile", time.Minute, 40, 45, 120, 60, 60, 60) }, "server RSS bounded"},
		{"memory growing", func(b, h *run) { h.rss = rss("hostile", time.Minute, 30, 40, 45, 50, 60, 70) }, "server RSS bounded"},
		{"one sample", func(b, h *run) { h.rss = h.rss[:1] }, "server RSS bounded"},
		{"an acked message lost", func(b, h *run) { h.rep.Acks.Lost, h.rep.Acks.Missing = 1, 3 }, "nothing acked lost"},
		{"a message unanswered", func(b, h *run) { b.rep.Acks.Unanswered = 1 }, "nothing acked lost"},
		{"a client dropped", func(b, h *run) { h.rep.Dropped = 1 }, "nothing acked lost"},
		{"nothing acked", func(b, h *run) { b.rep.Acks.Acked = 0 }, "nothing acked lost"},
		{"a run failed", func(b, h *run) { b.rep = nil }, "nothing acked lost"},
		{"p99 more than doubled", func(b, h *run) { h.rep.LatencyP99MS = 21 }, "healthy p99 within 2× of the baseline"},
		{"no hostile cycle", func(b, h *run) { h.rep.Hostile.Cycles = 0 }, "every hostile input refused or bounded"},
		{"a hostile item failed", func(b, h *run) {
			h.rep.Hostile.Items[0].Failed, h.rep.Hostile.Items[0].Failure = 1, "the pings were answered"
		}, "every hostile input refused or bounded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, h := good()
			tt.change(&b, &h)
			checks := verdict(b, h, lim)
			for _, c := range checks {
				wantOK := c.name != tt.failed
				if tt.name == "a run failed" && strings.HasPrefix(c.name, "healthy p99") {
					wantOK = false // nothing to compare with either
				}
				if c.ok != wantOK {
					t.Errorf("%s: ok %v, want %v (%s)", c.name, c.ok, wantOK, c.detail)
				}
			}
			if passed(checks) != (tt.failed == "") {
				t.Errorf("passed = %v", passed(checks))
			}
			var out bytes.Buffer
			if err := writeSummary(&out, []run{b, h}, checks); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{true: "PASS", false: "FAIL"}[tt.failed == ""]; !strings.Contains(out.String(), want+"  ") {
				t.Errorf("summary has no %s line:\n%s", want, out.String())
			}
		})
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tparley\nVmPeak:\t  900000 kB\nVmRSS:\t   45678 kB\nRssAnon:\t 40000 kB\n"
	if got, err := parseVmRSS([]byte(status)); err != nil || got != 45678 {
		t.Errorf("parseVmRSS = %d, %v; want 45678", got, err)
	}
	for _, bad := range []string{"Name:\tx\n", "Name:\tx\nVmRSS:\t12 MB\n", "Name:\tx\nVmRSS:\tmany kB\n"} {
		if _, err := parseVmRSS([]byte(bad)); err == nil {
			t.Errorf("parseVmRSS(%q): no error", bad)
		}
	}
}

func TestParseOptions(t *testing.T) {
	env := map[string]string{"SOAK_DURATION": "1m", "SOAK_CHURN": "3"}
	var stderr bytes.Buffer
	o, err := parseOptions([]string{"--clients", "50"}, func(k string) string { return env[k] }, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.duration != time.Minute || o.churn != 3 || o.clients != 50 || o.lim.p99Ratio != 2 || o.lim.maxRSSKiB != 512<<10 {
		t.Errorf("options %+v", o)
	}
	args := o.benchArgs("http://127.0.0.1:1", 42, true)
	line := strings.Join(args, " ")
	for _, want := range []string{"--churn 3", "--ack", "--hostile", "--duration 1m0s", "--pid 42", "--clients 50", "--json", "--quiet"} {
		if !strings.Contains(line, want) {
			t.Errorf("bench args %q lack %q", line, want)
		}
	}
	for _, bad := range [][]string{{"--duration", "11m"}, {"--churn", "0"}, {"--p99-ratio", "0.5"}, {"extra"}} {
		if _, err := parseOptions(bad, func(string) string { return "" }, &stderr); err == nil {
			t.Errorf("parseOptions(%q): no error", bad)
		}
	}
}

func TestParseReport(t *testing.T) {
	out := []byte("something\n{\"run_id\":\"ab12cd\",\"sent\":7,\"acks\":{\"acked\":7,\"lost\":0}}\n")
	r, err := parseReport(out)
	if err != nil || r.RunID != "ab12cd" || r.Sent != 7 || r.Acks == nil || r.Acks.Acked != 7 {
		t.Errorf("parseReport = %+v, %v", r, err)
	}
	if _, err := parseReport([]byte("no json here\n")); err == nil {
		t.Errorf("parseReport without a JSON line: no error")
	}
}
