package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestBenchSlowReadersFlag checks that --slow-readers is listed and
// validated before anything is dialed.
func TestBenchSlowReadersFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"negative", []string{"--slow-readers", "-0.1"}, "--slow-readers -0.1: want a fraction from 0 to 1"},
		{"more than all", []string{"--slow-readers", "1.5"}, "--slow-readers 1.5: want a fraction from 0 to 1"},
		{"NaN", []string{"--slow-readers", "NaN"}, "--slow-readers NaN: want a fraction from 0 to 1"},
		{"idle", []string{"--slow-readers", "0.2", "--idle"}, "--slow-readers needs messages to fall behind on: not with --idle"},
		{"not a number", []string{"--slow-readers", "some"}, `invalid value "some" for flag -slow-readers`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			// Nothing listens on port 1: a run that got as far as dialing
			// would fail differently.
			args := append([]string{"--url", "http://127.0.0.1:1", "--quiet"}, tt.args...)
			err := runBench(context.Background(), args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("runBench(%q) = %v, want %q", tt.args, err, tt.wantErr)
			}
		})
	}
	t.Run("help", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if err := runBench(context.Background(), []string{"--help"}, &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stderr.String(), "-slow-readers") || !strings.Contains(stderr.String(), "cut off") {
			t.Errorf("help does not describe --slow-readers:\n%s", stderr.String())
		}
	})
}

// TestBenchSlowReaders runs parley bench with slow readers against the app
// and reads its JSON line.
func TestBenchSlowReaders(t *testing.T) {
	ts := newTestApp(t, config{})
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := runBench(context.Background(), []string{
		"--url", ts.URL, "--clients", "12", "--senders", "2", "--rate", "10",
		"--warmup", "200ms", "--duration", "500ms", "--slow-readers", "0.5", "--json", "--quiet",
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("runBench: %v\n%s", err, stderr.String())
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("run took %v", d)
	}
	var res struct {
		Connected   int    `json:"connected"`
		Dropped     int    `json:"dropped"`
		SlowReaders *int   `json:"slow_readers"`
		SlowCutOff  *int   `json:"slow_cut_off"`
		Sent        uint64 `json:"sent"`
		Expected    uint64 `json:"expected"`
		Loss        uint64 `json:"loss"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("JSON: %v\n%s", err, stdout.String())
	}
	if res.SlowReaders == nil || *res.SlowReaders != 5 || res.SlowCutOff == nil || res.Connected != 12 || res.Dropped != 0 {
		t.Errorf("JSON %s: want 12 connected, 5 slow readers, slow_cut_off, none dropped", stdout.String())
	}
	if res.Sent == 0 || res.Expected != res.Sent*(12-5-1) || res.Loss != 0 {
		t.Errorf("sent %d, expected %d, loss %d; want expected = sent × 6, no loss", res.Sent, res.Expected, res.Loss)
	}
	if !strings.Contains(stderr.String(), "5 slow readers stopped reading") {
		t.Errorf("text result:\n%s", stderr.String())
	}
}

// TestBenchChurnFlags checks that --churn, --ack and --hostile are listed
// and validated before anything is dialed.
func TestBenchChurnFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"negative churn", []string{"--churn", "-1"}, "--churn -1: want 0 to 1000 clients per second"},
		{"too much churn", []string{"--churn", "5000"}, "--churn 5000: want 0 to 1000 clients per second"},
		{"churn idle", []string{"--churn", "2", "--idle"}, "--churn, --ack and --hostile need a load: not with --idle"},
		{"ack idle", []string{"--ack", "--idle"}, "--churn, --ack and --hostile need a load: not with --idle"},
		{"hostile idle", []string{"--hostile", "--idle"}, "--churn, --ack and --hostile need a load: not with --idle"},
		{"hostile over https", []string{"--hostile", "--url", "https://127.0.0.1:1"}, "the hostile client speaks plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"--url", "http://127.0.0.1:1", "--quiet"}, tt.args...)
			err := runBench(context.Background(), args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("runBench(%q) = %v, want %q", tt.args, err, tt.wantErr)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if err := runBench(context.Background(), []string{"--help"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"-churn", "-ack", "-hostile"} {
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("help does not list %s", f)
		}
	}
}

// TestBenchNodesFlags checks that --url's lists and --senders-url are
// described and validated before anything is dialed.
func TestBenchNodesFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"empty element", []string{"--url", "http://127.0.0.1:1,,http://127.0.0.1:2"}, "--url: URL 2 of"},
		{"node twice", []string{"--url", "http://127.0.0.1:1,http://127.0.0.1:1"}, "lists node http://127.0.0.1:1 twice"},
		{"bad senders URL", []string{"--senders-url", "ws://127.0.0.1:2"}, `--senders-url: URL scheme "ws"`},
		{"senders URL idle", []string{"--senders-url", "http://127.0.0.1:2", "--idle"}, "--senders-url needs senders: not with --idle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"--url", "http://127.0.0.1:1", "--quiet"}, tt.args...)
			err := runBench(context.Background(), args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("runBench(%q) = %v, want %q", tt.args, err, tt.wantErr)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if err := runBench(context.Background(), []string{"--help"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"-senders-url", "comma-separated", "cross-node"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("help lacks %q", s)
		}
	}
}
