package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ, 100
// on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// raiseNoFile raises the soft limit on open files to the hard limit, and
// returns the limit now in force.
func raiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("reading RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("raising RLIMIT_NOFILE to %d: %w", lim.Max, err)
		}
	}
	return lim.Cur, nil
}

// procCPU returns the CPU time process pid has used, user and system.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis, where field 3 (state) begins.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("parsing /proc/%d/stat: no command", pid)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("parsing /proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseUint(string(f[11]), 10, 64) // field 14
	stime, err2 := strconv.ParseUint(string(f[12]), 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// procRSS returns the resident memory of process pid, in KiB (VmRSS).
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	_, after, ok := bytes.Cut(b, []byte("\nVmRSS:"))
	if !ok {
		return 0, fmt.Errorf("parsing /proc/%d/status: no VmRSS", pid)
	}
	line, _, _ := bytes.Cut(after, []byte("\n"))
	f := bytes.Fields(line) // "12345", "kB"
	if len(f) != 2 || string(f[1]) != "kB" {
		return 0, fmt.Errorf("parsing /proc/%d/status: VmRSS %q", pid, line)
	}
	return strconv.ParseInt(string(f[0]), 10, 64)
}

// hostCPU returns the machine's busy and total CPU time so far, in clock
// ticks summed over its CPUs, from /proc/stat.
func hostCPU() (busy, total uint64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, 0, fmt.Errorf("parsing /proc/stat: %q", line)
	}
	// user nice system idle iowait irq softirq steal (guest time is
	// already in user).
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("parsing /proc/stat: %w", err)
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, nil
}

// selfCPU returns the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssSample is the server's resident memory at a time.
type rssSample struct {
	at  time.Time
	kib int64
}

// sampler reads a process's resident memory periodically, from its own
// goroutine, until stop.
type sampler struct {
	pid      int
	stopc    chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	samples  []rssSample
	firstErr error
}

func startSampler(pid int, every time.Duration) *sampler {
	s := &sampler{pid: pid, stopc: make(chan struct{}), done: make(chan struct{})}
	go s.loop(every)
	return s
}

func (s *sampler) loop(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.sample()
		select {
		case <-s.stopc:
			return
		case <-t.C:
		}
	}
}

// sample reads the memory now, records and returns it.
func (s *sampler) sample() (int64, error) {
	kib, err := procRSS(s.pid)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.firstErr == nil {
			s.firstErr = err
		}
		return 0, err
	}
	s.samples = append(s.samples, rssSample{now, kib})
	return kib, nil
}

// stop ends the sampling and waits for the goroutine.
func (s *sampler) stop() {
	close(s.stopc)
	<-s.done
}

// peak returns the largest sample taken between from and to.
func (s *sampler) peak(from, to time.Time) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p int64
	for _, x := range s.samples {
		if !x.at.Before(from) && !x.at.After(to) {
			p = max(p, x.kib)
		}
	}
	return p
}

// err returns the first error sampling met.
func (s *sampler) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstErr
}
