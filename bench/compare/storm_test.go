package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStormTimeout(t *testing.T) {
	args := []string{"--clients", "1000", "--connect-rate", "100", "--settle", "1m", "--duration", "50s", "--storm-limit", "2m"}
	// 10 s to connect, 20 s of connect timeout, the settle twice, the
	// hold, the limit, and the margins (5 s of drain, 1 minute).
	want := 10*time.Second + 20*time.Second + 2*time.Minute + 2*time.Second + 50*time.Second + 5*time.Second + time.Minute + 2*time.Minute
	args = append(args, "--connect-timeout", "20s")
	if got := stormTimeout(args); got != want {
		t.Errorf("stormTimeout = %v, want %v", got, want)
	}
}

// TestSupervisor starts a process, kills it as a restart would, and checks
// that the supervisor starts the next once, names it in the pid file, and
// stops it.
func TestSupervisor(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep command")
	}
	pidFile := filepath.Join(t.TempDir(), "server.pid")
	start := func() (*process, error) { return startProcess("sleeper", exec.Command("sleep", "30")) }
	first, err := start()
	if err != nil {
		t.Fatal(err)
	}
	if err := writePIDFile(pidFile, first.pid()); err != nil {
		t.Fatal(err)
	}
	sv := &supervisor{start: start, pidFile: pidFile, cur: first, done: make(chan struct{})}
	go sv.watch()
	_ = syscall.Kill(first.pid(), syscall.SIGTERM)
	var pid int
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		if pid != first.pid() || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid == first.pid() || pid <= 0 {
		t.Fatalf("pid file names %d after the first (%d) exited", pid, first.pid())
	}
	restarts, err := sv.stop()
	if restarts != 1 || err != nil {
		t.Errorf("stop: %d restarts, %v; want 1, nil", restarts, err)
	}
	if syscall.Kill(pid, 0) == nil {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && !strings.Contains(string(b), ") Z") {
			t.Errorf("the second process (%d) still runs", pid)
		}
	}
}
