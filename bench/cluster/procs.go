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
	"syscall"
	"time"
)

// Bounds on a process's start and stop.
const (
	startTimeout = 20 * time.Second
	stopTimeout  = 10 * time.Second
)

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ, 100
// on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

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
	if _, err := os.Stat(filepath.Join(root, "bench", "cluster", "doc.go")); err != nil {
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

// freeAddr returns a 127.0.0.1 address that nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// process is a server that the benchmark started: a parley node or
// redis-server.
type process struct {
	name string
	addr string
	cmd  *exec.Cmd
	log  string // its output
	done chan struct{}
	err  error // its exit status, once done is closed
}

// startProcess starts bin with args, in a process group of its own that
// dies with the benchmark, its output in logPath, and waits until it
// listens on addr.
func startProcess(ctx context.Context, name, addr, logPath string, env []string, bin string, args ...string) (*process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = env
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, addr: addr, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	wctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(wctx, "tcp", addr)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before listening on %s (%v): %s", name, addr, p.err, p.tail())
		case <-wctx.Done():
			p.stop()
			return nil, fmt.Errorf("%s not listening on %s after %v: %s", name, addr, startTimeout, p.tail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pid is the process's id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process: SIGTERM to its group, then SIGKILL if it has not
// exited within stopTimeout. It may be called more than once.
func (p *process) stop() {
	if p.exited() {
		return
	}
	pgid := p.pid()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// tail returns the end of the process's output.
func (p *process) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4<<10 {
		b = b[len(b)-4<<10:]
	}
	return string(b)
}

// warnings counts the lines of a parley node's log at warning level or
// above, by message.
func (p *process) warnings() map[string]int {
	b, _ := os.ReadFile(p.log)
	return logWarnings(b)
}

// logWarnings counts the lines of a log at level WARN or ERROR, by
// message and error (slog's text format): "msg: err".
func logWarnings(b []byte) map[string]int {
	out := map[string]int{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if !bytes.Contains(line, []byte("level=WARN")) && !bytes.Contains(line, []byte("level=ERROR")) {
			continue
		}
		k := logField(line, "msg")
		if k == "" {
			k = "?"
		}
		if e := logField(line, "err"); e != "" {
			k += ": " + e
		}
		out[k]++
	}
	return out
}

// logField returns the value of key in a line of slog's text format, ""
// if it has none: quoted, up to the closing quote, or up to a space.
func logField(line []byte, key string) string {
	i := bytes.Index(line, []byte(" "+key+"="))
	if i < 0 {
		return ""
	}
	v := line[i+len(key)+2:]
	if len(v) > 0 && v[0] == '"' {
		if s, err := strconv.QuotedPrefix(string(v)); err == nil {
			u, _ := strconv.Unquote(s)
			return u
		}
		v = v[1:]
	}
	v, _, _ = bytes.Cut(v, []byte(" "))
	return string(v)
}

// cpuTime returns the CPU time, user and system, that process pid has
// used, from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime from the text of /proc/PID/stat.
func parseStatCPU(b []byte) (time.Duration, error) {
	// The command, in parentheses, may hold spaces: count the fields
	// after its closing parenthesis, where field 3 (state) begins.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("parsing /proc/PID/stat: no command")
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("parsing /proc/PID/stat: %d fields", len(f))
	}
	utime, err1 := strconv.ParseUint(string(f[11]), 10, 64) // field 14
	stime, err2 := strconv.ParseUint(string(f[12]), 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parsing /proc/PID/stat: %w", err)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// commandCPU returns the CPU time that the processes named comm (as
// /proc/PID/stat has it) have used, summed over those alive now; 0 if
// /proc cannot be read.
func commandCPU(comm string) time.Duration {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || !bytes.Contains(b, []byte("("+comm+")")) {
			continue
		}
		if d, err := parseStatCPU(b); err == nil {
			sum += d
		}
	}
	return sum
}

// childEnv is the environment of the processes the benchmark starts:
// its own, without the PARLEY_ variables, which would change how a node
// runs behind its flags' back.
func childEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			out = append(out, kv)
		}
	}
	return out
}

// hostTicks returns the machine's busy and total CPU time so far, in
// clock ticks summed over its CPUs, from the first line of /proc/stat.
func hostTicks() (busy, total uint64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseHostTicks(b)
}

// parseHostTicks reads the "cpu" line of /proc/stat: user nice system
// idle iowait irq softirq steal ...; idle and iowait are not busy.
func parseHostTicks(b []byte) (busy, total uint64, err error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, 0, fmt.Errorf("parsing /proc/stat: first line %q", line)
	}
	for i, s := range f[1:] {
		if i >= 8 { // guest times are already in user and nice
			break
		}
		n, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("parsing /proc/stat: %w", err)
		}
		total += n
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, total, nil
}

// quietSample is how long waitQuiet measures the machine at a time.
const quietSample = 500 * time.Millisecond

// waitQuiet waits, at most limit, until the machine's CPUs are less busy
// than share (0 to 1) over quietSample, and returns how busy they were
// last and whether they were quiet.
func waitQuiet(ctx context.Context, share float64, limit time.Duration) (float64, bool) {
	deadline := time.Now().Add(limit)
	var last float64
	for {
		b0, t0, err := hostTicks()
		if err != nil {
			return 0, true
		}
		select {
		case <-ctx.Done():
			return last, false
		case <-time.After(quietSample):
		}
		b1, t1, err := hostTicks()
		if err != nil || t1 == t0 {
			return 0, true
		}
		last = float64(b1-b0) / float64(t1-t0)
		if last < share {
			return last, true
		}
		if time.Now().After(deadline) {
			return last, false
		}
	}
}
