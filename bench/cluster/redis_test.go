package main

import (
	"math"
	"strings"
	"testing"
)

const sampleStats = "# Commandstats\r\n" +
	"cmdstat_publish:calls=1520,usec=14432,usec_per_call=9.49,rejected_calls=0,failed_calls=0\r\n" +
	"cmdstat_xread:calls=40,usec=700,usec_per_call=17.50,rejected_calls=0,failed_calls=0\r\n" +
	"cmdstat_client|setinfo:calls=4,usec=3,usec_per_call=0.75,rejected_calls=0,failed_calls=0\r\n" +
	"cmdstat_info:calls=2,usec=90,usec_per_call=45.00,rejected_calls=0,failed_calls=0\r\n"

// TestParseCommandStats checks the reading of INFO commandstats.
func TestParseCommandStats(t *testing.T) {
	tests := []struct {
		name    string
		info    string
		want    cmdStats
		wantErr string
	}{
		{"sample", sampleStats, cmdStats{
			"publish": {1520, 14432}, "xread": {40, 700}, "client|setinfo": {4, 3}, "info": {2, 90},
		}, ""},
		{"empty", "# Commandstats\r\n", cmdStats{}, ""},
		{"upper case", "cmdstat_XADD:calls=3,usec=9\n", cmdStats{"xadd": {3, 9}}, ""},
		{"not a command", "used_memory:123\n", nil, `line "used_memory:123"`},
		{"no name", "cmdstat_:calls=1\n", nil, "line"},
		{"no calls", "cmdstat_get:usec=1\n", nil, "no calls"},
		{"bad calls", "cmdstat_get:calls=x,usec=1\n", nil, "calls of get"},
		{"bad usec", "cmdstat_get:calls=1,usec=-1\n", nil, "usec of get"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCommandStats(tt.info)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseCommandStats = %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s: got %+v, want %+v", k, got[k], v)
				}
			}
		})
	}
}

// FuzzParseCommandStats checks that any text is read or refused without
// a panic.
func FuzzParseCommandStats(f *testing.F) {
	f.Add(sampleStats)
	f.Add("cmdstat_a:calls=1\ncmdstat_b:calls=2,usec=3")
	f.Add("cmdstat_:")
	f.Fuzz(func(t *testing.T, info string) {
		s, err := parseCommandStats(info)
		if err == nil && s == nil {
			t.Fatal("no error and no stats")
		}
	})
}

// TestSince checks the deltas between two readings.
func TestSince(t *testing.T) {
	before := cmdStats{"publish": {100, 1000}, "xread": {10, 50}, "gone": {5, 5}}
	after := cmdStats{"publish": {160, 1600}, "xread": {10, 50}, "xadd": {7, 70}}
	got := after.since(before)
	want := cmdStats{"publish": {60, 600}, "xadd": {7, 70}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %+v, want %+v", k, got[k], v)
		}
	}
}

// TestPerMessage checks the commands per message, the idle rate taken
// out.
func TestPerMessage(t *testing.T) {
	load := cmdStats{"publish": {1010, 10100}, "xread": {300, 600}, "info": {2, 10}, "evalsha": {4, 40}}
	idle := cmdStats{"publish": {5, 50}, "xread": {100, 200}, "evalsha": {4, 40}, "ping": {2, 2}}
	rows := perMessage(load, 10, idle, 5, 1000)
	type want struct {
		name       string
		calls      uint64
		idlePerSec float64
		perMessage float64
	}
	wants := []want{
		{"publish", 1010, 1, 1.0}, // (1010 − 1 × 10) / 1000
		{"xread", 300, 20, 0.1},   // (300 − 20 × 10) / 1000
		{"evalsha", 4, 0.8, 0},    // 4 − 8 < 0: none per message
		{"ping", 0, 0.4, 0},       // idle only
		{"all", 1314, 22.2, 1.1},  // info left out
	}
	if len(rows) != len(wants) {
		t.Fatalf("rows %+v", rows)
	}
	for i, w := range wants {
		r := rows[i]
		if r.name != w.name || r.calls != w.calls || math.Abs(r.idlePerSec-w.idlePerSec) > 1e-9 || math.Abs(r.perMessage-w.perMessage) > 1e-9 {
			t.Errorf("row %d: %+v, want %+v", i, r, w)
		}
	}
	if rows := perMessage(load, 10, nil, 0, 1000); rows[0].name != "publish" || rows[0].perMessage != 1.01 {
		t.Errorf("without an idle run: %+v, want publish at 1.01", rows[0])
	}
	if rows := perMessage(load, 10, idle, 5, 0); rows[len(rows)-1].perMessage != 0 {
		t.Errorf("no messages: %+v", rows)
	}
}
