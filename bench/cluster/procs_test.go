package main

import (
	"maps"
	"os"
	"strings"
	"testing"
	"time"
)

// TestParseStatCPU checks the reading of /proc/PID/stat.
func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{"plain", "1234 (parley) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 8 0 100 0 0", 3250 * time.Millisecond, false},
		{"spaces and parens in the name", "99 (a) b (c)) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0", 30 * time.Millisecond, false},
		{"no name", "1234 S 1", 0, true},
		{"short", "1 (x) S 1 2 3", 0, true},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 u 2 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStatCPU = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := os.Stat("/proc/self/stat"); err == nil {
		if _, err := cpuTime(os.Getpid()); err != nil {
			t.Errorf("cpuTime of this process: %v", err)
		}
	}
}

// TestParseHostTicks checks the reading of /proc/stat.
func TestParseHostTicks(t *testing.T) {
	tests := []struct {
		name        string
		stat        string
		busy, total uint64
		wantErr     bool
	}{
		{"eight fields and guests", "cpu  100 5 50 800 20 3 2 1 40 0\ncpu0 1 1 1 1\n", 161, 981, false},
		{"four fields", "cpu 1 2 3 4\n", 6, 10, false},
		{"not the cpu line", "intr 1 2 3 4\n", 0, 0, true},
		{"not a number", "cpu 1 x 3 4\n", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			busy, total, err := parseHostTicks([]byte(tt.stat))
			if (err != nil) != tt.wantErr || busy != tt.busy || total != tt.total {
				t.Errorf("parseHostTicks = %d, %d, %v; want %d, %d, error %v", busy, total, err, tt.busy, tt.total, tt.wantErr)
			}
		})
	}
}

// TestLogWarnings checks the counting of a node's log lines.
func TestLogWarnings(t *testing.T) {
	log := `time=2025-01-01T00:00:00Z level=INFO msg="parley is running"
time=2025-01-01T00:00:01Z level=WARN msg="relay refused" err=backlog
time=2025-01-01T00:00:02Z level=WARN msg="relay refused" err=backlog
time=2025-01-01T00:00:03Z level=ERROR msg=store err=x
time=2025-01-01T00:00:04Z level=ERROR msg="creating room" room=general err="a \"quoted\" error"
not a log line
`
	got := logWarnings([]byte(log))
	want := map[string]int{"relay refused: backlog": 2, "store: x": 1, `creating room: a "quoted" error`: 1}
	if !maps.Equal(got, want) {
		t.Errorf("logWarnings = %v, want %v", got, want)
	}
}

// TestChildEnv checks that the nodes get no PARLEY_ variable, and the
// others.
func TestChildEnv(t *testing.T) {
	t.Setenv("PARLEY_REDIS", "redis://elsewhere")
	t.Setenv("CLUSTER_BENCH_TEST", "kept")
	var kept bool
	for _, kv := range childEnv() {
		if strings.HasPrefix(kv, "PARLEY_") {
			t.Errorf("%s passed on", kv)
		}
		kept = kept || kv == "CLUSTER_BENCH_TEST=kept"
	}
	if !kept {
		t.Error("CLUSTER_BENCH_TEST not passed on")
	}
}
