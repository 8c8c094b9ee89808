package redistest

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
)

// fatalTB records the first Fatalf of what it runs, and ends its
// goroutine there.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestStartTaken checks that a server whose port another server holds
// fails the test with what it wrote, rather than taking the other for
// itself.
func TestStartTaken(t *testing.T) {
	first := Server(t)
	ft := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := newLocalServer(ft, first.bin)
		_, port, _ := net.SplitHostPort(first.Addr)
		s.Addr, s.args[1] = first.Addr, port
		defer s.Stop()
		s.Start()
	}()
	<-done
	if !strings.Contains(ft.msg, "ended at once") || !strings.Contains(ft.msg, "in use") {
		t.Errorf("a second server on %s: %q", first.Addr, ft.msg)
	}
}
