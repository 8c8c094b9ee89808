package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestParseOptions checks the flags and their checks.
func TestParseOptions(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(options) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(o options) bool {
			return o.clients == 401 && o.senders == 10 && o.rate == 10 && o.window == 15*time.Second &&
				o.postgres == DefaultPostgres && o.budget == 5*time.Minute && slices.Equal(o.steps, []int{10, 20, 40, 60, 80, 120, 160, 240, 320})
		}, ""},
		{"postgres from the environment", nil, map[string]string{"PARLEY_TEST_POSTGRES": "postgres://x/y"}, func(o options) bool { return o.postgres == "postgres://x/y" }, ""},
		{"postgres flag first", []string{"--postgres", "postgres://a/b"}, map[string]string{"PARLEY_TEST_POSTGRES": "postgres://x/y"}, func(o options) bool { return o.postgres == "postgres://a/b" }, ""},
		{"quick", []string{"--quick"}, nil, func(o options) bool {
			return o.window == 3*time.Second && o.stepWindow == 2*time.Second && len(o.steps) == 4 && !o.refine
		}, ""},
		{"steps", []string{"--steps", "5, 7,9"}, nil, func(o options) bool { return slices.Equal(o.steps, []int{5, 7, 9}) }, ""},
		{"steps not rising", []string{"--steps", "5,5"}, nil, nil, "--steps: 5 after 5: want rising counts"},
		{"steps not numbers", []string{"--steps", "5,x"}, nil, nil, `--steps: "x"`},
		{"steps zero", []string{"--steps", "0"}, nil, nil, "--steps: 0 senders"},
		{"senders all", []string{"--senders", "401"}, nil, nil, "--senders 401"},
		{"too few clients", []string{"--clients", "2"}, nil, nil, "--clients 2"},
		{"rate", []string{"--rate", "0"}, nil, nil, "--rate 0"},
		{"window", []string{"--window", "0s"}, nil, nil, "must be positive"},
		{"noisy", []string{"--noisy", "2"}, nil, nil, "--noisy 2"},
		{"negative wait", []string{"--quiet-wait", "-1s"}, nil, nil, "must not be negative"},
		{"argument", []string{"extra"}, nil, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, env(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseOptions(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(o) {
				t.Errorf("parseOptions(%q) = %+v", tt.args, o)
			}
		})
	}
}

// TestCommandLine checks how the benchmark's command is shown.
func TestCommandLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "go run ./bench/cluster"},
		{[]string{"--quick", "--out", "r.md"}, "go run ./bench/cluster --quick --out r.md"},
		{[]string{"--postgres", "postgres://u@h/db?sslmode=disable&x=1"}, "go run ./bench/cluster --postgres 'postgres://u@h/db?sslmode=disable&x=1'"},
		{[]string{"--out", "it's"}, `go run ./bench/cluster --out 'it'\''s'`},
		{[]string{""}, "go run ./bench/cluster ''"},
	}
	for _, tt := range tests {
		if got := commandLine(tt.args); got != tt.want {
			t.Errorf("commandLine(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}
