package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bounds on the server's start and stop.
const (
	startTimeout = 20 * time.Second
	stopTimeout  = 10 * time.Second
)

// moduleRoot returns the directory of the parley module that the working
// directory is in.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not in a Go module: run from the parley repository")
	}
	root := filepath.Dir(gomod)
	if _, err := os.Stat(filepath.Join(root, "cmd", "parley", "bench.go")); err != nil {
		return "", fmt.Errorf("%s is not the parley module: run from the parley repository", root)
	}
	return root, nil
}

// build builds parley into dir and returns the binary's path.
func build(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "parley")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/parley")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/parley: %w\n%s", err, out)
	}
	return bin, nil
}

// freePort returns a port that nothing on 127.0.0.1 listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// server is the parley process under test.
type server struct {
	cmd  *exec.Cmd
	addr string
	log  string // its log file
	done chan struct{}
	err  error // its exit status, once done is closed
}

// startServer starts parley on addr, in a process group of its own that
// dies with the soak, with its store and log in dir, and waits until it
// listens.
func startServer(ctx context.Context, bin, addr, dir string) (*server, error) {
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--addr", addr, "--store", filepath.Join(dir, "parley.db"), "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting parley: %w", err)
	}
	s := &server{cmd: cmd, addr: addr, log: logPath, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	wctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(wctx, "tcp", addr)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("parley exited before listening on %s (%v): %s", addr, s.err, s.tail())
		case <-wctx.Done():
			s.stop()
			return nil, fmt.Errorf("parley not listening on %s after %v: %s", addr, startTimeout, s.tail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// exited reports whether the server has exited.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop ends the server: SIGTERM to its group, then SIGKILL if it has not
// exited within stopTimeout. It may be called more than once.
func (s *server) stop() {
	if s.exited() {
		return
	}
	pgid := s.pid()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
	}
}

// tail returns the end of the server's log.
func (s *server) tail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4<<10 {
		b = b[len(b)-4<<10:]
	}
	return string(b)
}

// warnings counts the lines of the server's log at warning level or
// above, by message.
func (s *server) warnings() map[string]int {
	b, _ := os.ReadFile(s.log)
	out := map[string]int{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if !bytes.Contains(line, []byte("level=WARN")) && !bytes.Contains(line, []byte("level=ERROR")) {
			continue
		}
		msg := "?"
		if _, after, ok := bytes.Cut(line, []byte(`msg="`)); ok {
			m, _, _ := bytes.Cut(after, []byte(`"`))
			msg = string(m)
		} else if _, after, ok := bytes.Cut(line, []byte("msg=")); ok {
			m, _, _ := bytes.Cut(after, []byte(" "))
			msg = string(m)
		}
		out[msg]++
	}
	return out
}

// readRSS returns the resident memory of process pid, in KiB (VmRSS).
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(b)
}

// parseVmRSS reads VmRSS from the text of /proc/PID/status.
func parseVmRSS(status []byte) (int64, error) {
	_, after, ok := bytes.Cut(status, []byte("\nVmRSS:"))
	if !ok {
		return 0, errors.New("no VmRSS in /proc/PID/status")
	}
	line, _, _ := bytes.Cut(after, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) != 2 || string(f[1]) != "kB" {
		return 0, fmt.Errorf("VmRSS %q", line)
	}
	return strconv.ParseInt(string(f[0]), 10, 64)
}

// sample is the server's resident memory at a time, in a phase.
type sample struct {
	at    time.Duration // since the soak began
	phase string
	kib   int64
}

// sampleEvery is how often the sampler reads the server's memory; it
// prints one sample in so many.
const sampleEvery = time.Second

// sampler reads the server's memory every sampleEvery and keeps it, and
// prints it every interval, until stop.
type sampler struct {
	mu      sync.Mutex
	phase   string
	samples []sample
	stopc   chan struct{}
	done    chan struct{}
}

func startSampler(pid int, every time.Duration, start time.Time, print func(string, ...any)) *sampler {
	s := &sampler{phase: "start", stopc: make(chan struct{}), done: make(chan struct{})}
	tick := min(every, sampleEvery)
	go func() {
		defer close(s.done)
		t := time.NewTicker(tick)
		defer t.Stop()
		var printed time.Time
		for {
			kib, err := readRSS(pid)
			now := time.Now()
			s.mu.Lock()
			phase := s.phase
			if err == nil {
				s.samples = append(s.samples, sample{now.Sub(start), phase, kib})
			}
			s.mu.Unlock()
			switch {
			case now.Sub(printed) < every-tick/2:
			case err == nil:
				print("rss %-9s %s", phase, mib(kib))
				printed = now
			default:
				print("rss %-9s unreadable: %v", phase, err)
				printed = now
			}
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// setPhase names the samples that follow.
func (s *sampler) setPhase(p string) {
	s.mu.Lock()
	s.phase = p
	s.mu.Unlock()
}

// stop ends the sampling and returns the samples.
func (s *sampler) stop() []sample {
	close(s.stopc)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// fmtElapsed prints a time since the start as m:ss.
func fmtElapsed(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%3d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// mib prints KiB as MiB.
func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }
