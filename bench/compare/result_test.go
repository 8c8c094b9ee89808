package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/bench"
)

func TestParseResult(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stdout  string
		want    func(*result) string // "" when r is right, else what is wrong
		wantErr string               // a part of the error, when one is due
	}{
		{
			name:   "the line alone",
			stdout: `{"clients":100,"connected":99,"deliveries_per_s":1234.5}` + "\n",
			want: func(r *result) string {
				if r.Clients != 100 || r.Connected != 99 || r.DeliveriesPerSec != 1234.5 {
					return "fields not decoded"
				}
				return ""
			},
		},
		{
			name:   "after progress and before a trailing line",
			stdout: "connecting 100 clients\n  99 connected\n{\"clients\":100}\nbye\n\n",
			want: func(r *result) string {
				if r.Clients != 100 {
					return "the JSON line among text lines was not found"
				}
				return ""
			},
		},
		{
			name:   "the last of two JSON lines",
			stdout: "{\"clients\":1}\n{\"clients\":2}\n",
			want: func(r *result) string {
				if r.Clients != 2 {
					return "not the last JSON line"
				}
				return ""
			},
		},
		{
			name:   "CRLF and indentation",
			stdout: "progress\r\n   {\"clients\":7}\r\n",
			want: func(r *result) string {
				if r.Clients != 7 {
					return "not decoded"
				}
				return ""
			},
		},
		{
			name:   "keys it does not know and no server",
			stdout: `{"clients":3,"a_key_from_a_newer_bench":[1,2]}`,
			want: func(r *result) string {
				if r.Clients != 3 || r.Server != nil {
					return "want clients 3 and no server stats"
				}
				return ""
			},
		},
		{
			name:   "server stats, warnings and errors",
			stdout: `{"server":{"pid":42,"rss_max_kib":2048,"rss_per_client_kib":3.5,"cpu_us_per_delivery":1.25},"warnings":["w"],"errors":{"connect: timeout":2}}`,
			want: func(r *result) string {
				s := r.Server
				if s == nil || s.PID != 42 || s.RSSMaxKiB != 2048 || s.RSSPerClientKiB != 3.5 || s.CPUMicrosPerDelivery != 1.25 {
					return "server stats not decoded"
				}
				if len(r.Warnings) != 1 || r.Errors["connect: timeout"] != 2 {
					return "warnings or errors not decoded"
				}
				return ""
			},
		},
		{
			name:   "the runner's own fields are not from the line",
			stdout: `{"tcpMemPeakKiB":5,"tcp_mem_peak_kib":5,"tcpMemKnown":true}`,
			want: func(r *result) string {
				if r.tcpMemPeakKiB != 0 || r.tcpMemKnown {
					return "the JSON line set what the runner measures"
				}
				return ""
			},
		},
		{name: "nothing", stdout: "", wantErr: "no JSON line"},
		{name: "blank lines", stdout: "\n \n\t\n", wantErr: "no JSON line"},
		{name: "text only", stdout: "parley bench: cannot connect\n", wantErr: "no JSON line"},
		{name: "a line cut short", stdout: "{\"clients\":100,\"conn\n", wantErr: "parsing parley bench's JSON"},
		{name: "a wrong type", stdout: `{"clients":"many"}`, wantErr: "parsing parley bench's JSON"},
		{name: "a JSON array", stdout: `[{"clients":1}]`, wantErr: "no JSON line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseResult([]byte(tc.stdout))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseResult(%q) = %+v, %v; want an error with %q", tc.stdout, r, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseResult(%q): %v", tc.stdout, err)
			}
			if why := tc.want(r); why != "" {
				t.Errorf("parseResult(%q) = %+v: %s", tc.stdout, r, why)
			}
		})
	}
}

// TestParseResultOfParleyBench decodes what parley bench prints (its
// Result's JSON encoding), so that a change of keys or units on either
// side shows.
func TestParseResultOfParleyBench(t *testing.T) {
	in := &bench.Result{
		Clients: 1000, Senders: 10, Rate: 10, Connected: 998, Dropped: 1,
		SlowReaders: 100, SlowCutOff: 97,
		ConnectTime: 1500 * time.Millisecond, SettleTime: 250 * time.Millisecond,
		Sent: 1500, Unsent: 2, Expected: 1_495_500, Received: 1_495_000, Loss: 500, Duplicates: 3,
		ServerErrors: 4, Measured: 15 * time.Second, DeliveriesPerSec: 99_666.667,
		LatencyP50: 1500 * time.Microsecond, LatencyP99: 42 * time.Millisecond, LatencyMax: 2 * time.Second,
		Server: &bench.ServerStats{
			CPU: 12 * time.Second, CPUPerDelivery: 8 * time.Microsecond, ConnectCPU: 3 * time.Second,
			RSSConnectedKiB: 81920, RSSMaxKiB: 204800, RSSPerClientKiB: 61.5,
		},
		OtherBusy: 0.25,
		Warnings:  []string{"a warning"},
	}
	line, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseResult(append([]byte("progress on stderr would not be here\n"), line...))
	if err != nil {
		t.Fatalf("parseResult(%s): %v", line, err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"clients", float64(r.Clients), 1000},
		{"connected", float64(r.Connected), 998},
		{"dropped", float64(r.Dropped), 1},
		{"slow readers", float64(r.SlowReaders), 100},
		{"slow cut off", float64(r.SlowCutOff), 97},
		{"connect time, ms", r.ConnectTimeMS, 1500},
		{"settle, ms", r.SettleMS, 250},
		{"sent", float64(r.Sent), 1500},
		{"unsent", float64(r.Unsent), 2},
		{"expected", float64(r.Expected), 1_495_500},
		{"loss", float64(r.Loss), 500},
		{"duplicates", float64(r.Duplicates), 3},
		{"server errors", float64(r.ServerErrors), 4},
		{"measured, ms", r.MeasuredMS, 15000},
		{"deliveries/s", r.DeliveriesPerSec, 99_666.667},
		{"p50, ms", r.LatencyP50MS, 1.5},
		{"p99, ms", r.LatencyP99MS, 42},
		{"max, ms", r.LatencyMaxMS, 2000},
		{"other busy", r.OtherBusy, 0.25},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	s := r.Server
	if s == nil {
		t.Fatalf("no server stats in %s", line)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"server CPU, s", s.CPUSeconds, 12},
		{"server CPU per delivery, µs", s.CPUMicrosPerDelivery, 8},
		{"server connect CPU, s", s.ConnectCPUSeconds, 3},
		{"RSS connected, KiB", float64(s.RSSConnectedKiB), 81920},
		{"RSS max, KiB", float64(s.RSSMaxKiB), 204800},
		{"RSS per client, KiB", s.RSSPerClientKiB, 61.5},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(r.Warnings) != 1 || r.Warnings[0] != "a warning" {
		t.Errorf("warnings = %q, want [a warning]", r.Warnings)
	}
}

func TestLossPct(t *testing.T) {
	for _, tc := range []struct {
		name           string
		loss, expected uint64
		want           float64
	}{
		{"nothing expected", 0, 0, 0},
		{"loss with nothing expected", 5, 0, 0},
		{"none lost", 0, 1000, 0},
		{"a tenth of a percent", 1, 1000, 0.1},
		{"all", 1000, 1000, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &result{Report: bench.Report{Loss: tc.loss, Expected: tc.expected}}
			if got := r.lossPct(); got != tc.want {
				t.Errorf("lossPct() of %d of %d = %v, want %v", tc.loss, tc.expected, got, tc.want)
			}
		})
	}
}

func TestHealthy(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    bench.Report
		want string // why not; "" for healthy
	}{
		{"all well", bench.Report{Clients: 10, Connected: 10, Expected: 90}, ""},
		{"idle, nothing expected", bench.Report{Clients: 10, Connected: 10}, ""},
		{"reorders and echoes do not count", bench.Report{Clients: 2, Connected: 2, Reorders: 3, Echoes: 1}, ""},
		{"some did not connect", bench.Report{Clients: 10, Connected: 8}, "8 of 10 connected"},
		{"dropped", bench.Report{Clients: 1, Connected: 1, Dropped: 2}, "2 dropped"},
		{"unsent", bench.Report{Clients: 1, Connected: 1, Unsent: 3}, "3 unsent"},
		{"loss", bench.Report{Clients: 1, Connected: 1, Loss: 1, Expected: 3}, "loss 33%"},
		{"small loss", bench.Report{Clients: 1, Connected: 1, Loss: 1, Expected: 1_000_000}, "loss 0.0001%"},
		{"duplicates", bench.Report{Clients: 1, Connected: 1, Duplicates: 4}, "4 duplicates"},
		{"error events", bench.Report{Clients: 1, Connected: 1, ServerErrors: 5}, "5 error events"},
		{
			"everything, in order",
			bench.Report{Clients: 10, Connected: 9, Dropped: 1, Unsent: 2, Loss: 10, Expected: 100, Duplicates: 3, ServerErrors: 4},
			"9 of 10 connected, 1 dropped, 2 unsent, loss 10%, 3 duplicates, 4 error events",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, why := (&result{Report: tc.r}).healthy()
			if ok != (tc.want == "") || why != tc.want {
				t.Errorf("healthy() = %v, %q; want %v, %q", ok, why, tc.want == "", tc.want)
			}
		})
	}
}

// FuzzParseResult checks that no output of parley bench makes the parser
// panic, and that what it decodes is the last line that opens an object.
func FuzzParseResult(f *testing.F) {
	for _, s := range []string{
		"",
		"{}",
		`{"clients":100,"connected":100,"server":{"pid":1,"rss_max_kib":10}}`,
		"progress\n{\"clients\":1}\ntrailing\n",
		"{\"clients\":1}\n{\"clients\":",
		`{"warnings":["a","b"],"errors":{"x":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, stdout []byte) {
		r, err := parseResult(stdout)
		if (r == nil) == (err == nil) {
			t.Fatalf("parseResult(%q) = %v, %v: want a result or an error", stdout, r, err)
		}
		if err != nil {
			return
		}
		if r.tcpMemKnown || r.tcpMemPeakKiB != 0 {
			t.Fatalf("parseResult(%q) set the runner's fields", stdout)
		}
	})
}
