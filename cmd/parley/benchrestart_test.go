package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBenchRestartStormFlags checks that --restart-storm's flags are
// validated before anything is dialed.
func TestBenchRestartStormFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.pid")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no restart", []string{"--restart-storm"}, "--restart-storm needs --restart-cmd, or --pid"},
		{"cmd alone", []string{"--restart-cmd", "true"}, "--restart-cmd is for --restart-storm"},
		{"idle", []string{"--restart-storm", "--restart-cmd", "true", "--idle"}, "--restart-storm is a run of its own"},
		{"churn", []string{"--restart-storm", "--restart-cmd", "true", "--churn", "2"}, "--restart-storm is a run of its own"},
		{"rejoin", []string{"--restart-storm", "--restart-cmd", "true", "--rejoin", "twice"}, `rejoin "twice", want page or tutorial`},
		{"limit", []string{"--restart-storm", "--restart-cmd", "true", "--storm-limit", "1h"}, "storm limit 1h0m0s"},
		{"pid file", []string{"--restart-storm", "--pid-file", missing}, "--pid-file:"},
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
}

func TestLastPID(t *testing.T) {
	for _, tt := range []struct {
		out  string
		want int
	}{
		{"4242\n", 4242},
		{"starting\n  77 \n\n", 77},
		{"", 0},
		{"started\n", 0},
		{"-3\n", 0},
	} {
		if got := lastPID(tt.out); got != tt.want {
			t.Errorf("lastPID(%q) = %d, want %d", tt.out, got, tt.want)
		}
	}
}

// TestCommandRestart runs restart commands: the new pid comes from the
// pid file, or from the last line printed; a failing command fails.
func TestCommandRestart(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "server.pid")
	tests := []struct {
		name, cmd, pidFile string
		want               int
		wantErr            string
	}{
		{"printed", "echo restarting; echo " + self, "", os.Getpid(), ""},
		{"none printed", "true", "", 0, ""},
		{"pid file", "echo " + self + " > " + pidFile, pidFile, os.Getpid(), ""},
		{"fails", "exit 3", "", 0, "exit status 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			got, err := commandRestart(tt.cmd, tt.pidFile, 1, &stderr)(context.Background())
			if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: pid %d, %v; want %d, %q", tt.cmd, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestSignalRestart stops a process with SIGTERM, and takes the new pid
// from the pid file once it names another live process; a process that
// has exited but is not reaped yet (a zombie) counts as exited.
func TestSignalRestart(t *testing.T) {
	old := exec.Command("sleep", "30")
	if err := old.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	t.Cleanup(func() { _ = old.Process.Kill(); _ = old.Wait() })
	pidFile := filepath.Join(t.TempDir(), "server.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(old.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	go func() {
		// A supervisor: once the old one has exited (still unreaped), the
		// new one is this process.
		for alive(old.Process.Pid) {
			time.Sleep(10 * time.Millisecond)
		}
		_ = os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := signalRestart(old.Process.Pid, pidFile)(ctx)
	if err != nil || got != os.Getpid() {
		t.Fatalf("signalRestart = %d, %v; want %d", got, err, os.Getpid())
	}
	if alive(old.Process.Pid) {
		t.Errorf("pid %d still alive", old.Process.Pid)
	}
}

// TestBenchRestartStorm runs parley bench --restart-storm against the
// parley binary, restarted on the same address and store by a
// supervisor that starts it again once SIGTERM has stopped it: every
// client comes back, under its name, and nobody is announced again.
func TestBenchRestartStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the parley binary")
	}
	bin := buildParley(t)
	dir := t.TempDir()
	db, pidFile := filepath.Join(dir, "parley.db"), filepath.Join(dir, "parley.pid")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	first := startParleyAt(t, bin, db, addr)
	writePID := func(p *process) {
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(p.cmd.Process.Pid)), 0o644); err != nil {
			t.Error(err)
		}
	}
	writePID(first)

	type outcome struct {
		stdout, stderr bytes.Buffer
		err            error
	}
	done := make(chan *outcome, 1)
	go func() {
		o := &outcome{}
		o.err = runBench(context.Background(), []string{
			"--url", "http://" + addr, "--clients", "30", "--connect-rate", "300",
			"--restart-storm", "--pid-file", pidFile, "--duration", "500ms", "--storm-limit", "40s", "--json", "--quiet",
		}, &o.stdout, &o.stderr)
		done <- o
	}()
	// The supervisor: once SIGTERM has stopped parley, start it again.
	var o *outcome
	select {
	case <-first.done:
	case o = <-done:
		t.Fatalf("runBench returned before the restart: %v\n%s", o.err, o.stderr.String())
	case <-time.After(time.Minute):
		t.Fatal("parley was not stopped within a minute")
	}
	second := startParleyAt(t, bin, db, addr)
	writePID(second)
	o = <-done
	if o.err != nil {
		t.Fatalf("runBench: %v\n%s", o.err, o.stderr.String())
	}
	stdout := o.stdout
	var res struct {
		Connected int `json:"connected"`
		Storm     *struct {
			Joined        int `json:"joined"`
			Closed        int `json:"closed"`
			Back          int `json:"back"`
			PID           int `json:"pid"`
			CutOff        int `json:"cut_off"`
			Renamed       int `json:"renamed"`
			UserConnected struct {
				Total int `json:"total"`
			} `json:"user_connected"`
			AllBackMS float64 `json:"all_back_ms"`
			CPU       float64 `json:"cpu_s"`
		} `json:"storm"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Storm == nil {
		t.Fatalf("JSON: %v\n%s", err, stdout.String())
	}
	s := res.Storm
	if res.Connected != 30 || s.Joined != 30 || s.Closed != 30 || s.Back != 30 || s.AllBackMS <= 0 {
		t.Errorf("JSON %s: want 30 connected, closed by the restart and back", stdout.String())
	}
	if s.PID != second.cmd.Process.Pid || s.CPU <= 0 {
		t.Errorf("storm pid %d (cpu %g s), want the new server's, %d", s.PID, s.CPU, second.cmd.Process.Pid)
	}
	if s.CutOff != 0 || s.Renamed != 0 || s.UserConnected.Total != 0 {
		t.Errorf("JSON %s: want none cut off, renamed or announced", stdout.String())
	}
}
