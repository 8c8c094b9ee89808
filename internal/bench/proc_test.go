package bench

import (
	"testing"
	"time"
)

// TestProc reads this process's CPU time and memory, and samples them.
func TestProc(t *testing.T) {
	pid := selfPID()
	if pid == 0 {
		t.Skip("no /proc")
	}
	cpu, err := procCPU(pid)
	if err != nil || cpu < 0 {
		t.Errorf("procCPU = %v, %v", cpu, err)
	}
	rss, err := procRSS(pid)
	if err != nil || rss <= 0 {
		t.Errorf("procRSS = %v, %v", rss, err)
	}
	busy, total, err := hostCPU()
	if err != nil || busy == 0 || total < busy {
		t.Errorf("hostCPU = %d, %d, %v", busy, total, err)
	}
	if _, err := procRSS(1 << 30); err == nil {
		t.Error("procRSS of no process: no error")
	}
	from := time.Now()
	s := startSampler(pid, 10*time.Millisecond)
	s.stop() // after one sample at least
	if p := s.peak(from, time.Now()); p <= 0 {
		t.Errorf("peak %d", p)
	}
	if err := s.err(); err != nil {
		t.Error(err)
	}
	if n, err := raiseNoFile(); err != nil || n == 0 {
		t.Errorf("raiseNoFile = %d, %v", n, err)
	}
}
