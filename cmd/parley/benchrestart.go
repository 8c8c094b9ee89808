package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The restart of a restart storm (parley bench --restart-storm): either a
// command that restarts the server (--restart-cmd), or SIGTERM to --pid,
// after which something else (a supervisor, bench/compare) starts it
// again. Either way the new server's process id comes from --pid-file
// when given, or from the last line the command printed.
const (
	// restartCmdTimeout bounds --restart-cmd.
	restartCmdTimeout = time.Minute
	// exitTimeout bounds the wait for the old server to exit after
	// SIGTERM: a server that announces every departure as it closes may
	// take minutes.
	exitTimeout = 5 * time.Minute
	// pidFileTimeout bounds the wait for --pid-file to name the new
	// server.
	pidFileTimeout = time.Minute
	// restartPoll is how often the process table and the pid file are
	// read.
	restartPoll = 20 * time.Millisecond
)

// signalRestart returns the restart that sends SIGTERM to pid, waits for
// it to exit, then for pidFile (if not empty) to name another process.
func signalRestart(pid int, pidFile string) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			return 0, fmt.Errorf("SIGTERM to pid %d: %w", pid, err)
		}
		if err := waitExit(ctx, pid, exitTimeout); err != nil {
			return 0, err
		}
		if pidFile == "" {
			return 0, nil
		}
		return waitPIDFile(ctx, pidFile, pid, pidFileTimeout)
	}
}

// commandRestart returns the restart that runs command with sh -c (its
// standard error going to stderr), and takes the new server's pid from
// pidFile, if not empty, or else from the last line the command printed,
// if it is a number. old is the server's pid before, 0 if unknown.
func commandRestart(command, pidFile string, old int, stderr io.Writer) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		ctx, cancel := context.WithTimeout(ctx, restartCmdTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, stderr
		// A server the command starts in the background keeps the
		// output's pipe open: do not wait for it beyond the command.
		cmd.WaitDelay = time.Second
		if err := cmd.Run(); err != nil && !errors.Is(err, exec.ErrWaitDelay) {
			return 0, fmt.Errorf("--restart-cmd: %w", err)
		}
		if pidFile != "" {
			return waitPIDFile(ctx, pidFile, old, pidFileTimeout)
		}
		return lastPID(out.String()), nil
	}
}

// lastPID reads a process id from the last line of out, 0 if it holds
// none.
func lastPID(out string) int {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[len(lines)-1]))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc to tell a zombie by
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// waitExit waits until process pid has exited, at most d.
func waitExit(ctx context.Context, pid int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for alive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d still running %v after SIGTERM", pid, d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(restartPoll):
		}
	}
	return nil
}

// readPIDFile reads the process id that path holds.
func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: no process id in %.20q", path, b)
	}
	return pid, nil
}

// waitPIDFile waits, at most d, until path names a live process other
// than old, and returns it.
func waitPIDFile(ctx context.Context, path string, old int, d time.Duration) (int, error) {
	deadline := time.Now().Add(d)
	for {
		pid, err := readPIDFile(path)
		if err == nil && pid != old && alive(pid) {
			return pid, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("it names pid %d", pid)
			}
			return 0, fmt.Errorf("--pid-file names no new server after %v: %w", d, err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(restartPoll):
		}
	}
}
