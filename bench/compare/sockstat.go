package main

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// tcpMemKiB returns the memory that the kernel's TCP sockets hold on the
// whole machine (the "mem" pages of /proc/net/sockstat), in KiB. What a
// server has written but a client has not read sits there, in the socket
// buffers, before it shows in the server's own memory.
func tcpMemKiB() (int64, bool) {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0, false
	}
	pages, ok := sockstatTCPMem(b)
	if !ok {
		return 0, false
	}
	return pages * int64(os.Getpagesize()) / 1024, true
}

// sockstatTCPMem reads the "mem" field of the "TCP:" line of
// /proc/net/sockstat's text, a count of pages:
//
//	sockets: used 33
//	TCP: inuse 14 orphan 0 tw 75 alloc 17 mem 3
//	UDP: inuse 0 mem 0
//
// It says false when there is no such line or field, or no count there.
func sockstatTCPMem(b []byte) (int64, bool) {
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("TCP:"))
		if !ok {
			continue
		}
		// Name-value pairs.
		f := bytes.Fields(rest)
		for i := 0; i+1 < len(f); i += 2 {
			if string(f[i]) == "mem" {
				pages, err := strconv.ParseInt(string(f[i+1]), 10, 64)
				if err != nil || pages < 0 {
					return 0, false
				}
				return pages, true
			}
		}
		return 0, false
	}
	return 0, false
}

// tcpMemSampler follows tcpMemKiB's peak over a run, above its value when
// the sampler started.
type tcpMemSampler struct {
	stop chan struct{}
	done chan struct{}
	peak int64 // KiB above the start; read after done is closed
	ok   bool
}

// sampleTCPMem starts sampling every 250 ms until end is called.
func sampleTCPMem() *tcpMemSampler {
	s := &tcpMemSampler{stop: make(chan struct{}), done: make(chan struct{})}
	base, ok := tcpMemKiB()
	s.ok = ok
	go func() {
		defer close(s.done)
		if !ok {
			return
		}
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			if v, ok := tcpMemKiB(); ok && v-base > s.peak {
				s.peak = v - base
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// end stops the sampler and returns the peak, if /proc/net/sockstat was
// readable.
func (s *tcpMemSampler) end() (int64, bool) {
	close(s.stop)
	<-s.done
	return s.peak, s.ok
}
