package engineio_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
)

// The WebSocket opcodes next formats.
const (
	wsText   = 0x1
	wsBinary = 0x2
	wsClose  = 0x8
	wsPing   = 0x9
	wsPong   = 0xA
)

// hostileMaxPayload bounds the frames next reads.
const hostileMaxPayload = engineio.DefaultMaxPayload

// next reads the server's next frame and formats it: "text:...",
// "binary:...", "ping:...", "pong:...", "close:CODE" ("close:" without a
// code). It returns the read error when the connection ended.
func (w *rawWS) next() (string, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(w.br, hdr[:]); err != nil {
		return "", err
	}
	if hdr[0]&0x80 == 0 || hdr[0]&0x70 != 0 || hdr[1]&0x80 != 0 {
		return "", fmt.Errorf("frame header %x: want final, unmasked, no reserved bits", hdr)
	}
	n := uint64(hdr[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(w.br, ext[:]); err != nil {
			return "", err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(w.br, ext[:]); err != nil {
			return "", err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 2*hostileMaxPayload {
		return "", fmt.Errorf("frame of %d bytes", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(w.br, payload); err != nil {
		return "", err
	}
	switch op := hdr[0] & 0x0F; op {
	case wsText:
		return "text:" + string(payload), nil
	case wsBinary:
		return "binary:" + string(payload), nil
	case wsPing:
		return "ping:" + string(payload), nil
	case wsPong:
		return "pong:" + string(payload), nil
	case wsClose:
		if len(payload) < 2 {
			return "close:", nil
		}
		return fmt.Sprintf("close:%d", binary.BigEndian.Uint16(payload)), nil
	default:
		return fmt.Sprintf("opcode %d:%s", op, payload), nil
	}
}

// short abbreviates a formatted frame for messages.
func short(s string) string {
	if len(s) <= 60 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:60], len(s))
}

// watchQueue samples the memory of h's send queue until the session
// closes or stop is closed, and returns the largest it saw.
func watchQueue(h *testSession, stop <-chan struct{}) <-chan int {
	peak := make(chan int, 1)
	go func() {
		most := 0
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for len(h.closes()) == 0 {
			most = max(most, h.s.QueueMemory())
			select {
			case <-stop:
				peak <- most
				return
			case <-tick.C:
			}
		}
		peak <- most
	}()
	return peak
}

// TestPingPacketFlood has clients send Engine.IO pings and read nothing: a
// polling one posts half a million to a body of 1 MB and never polls, a
// WebSocket one sends a frame for each. The first ping closes the
// session, which queues nothing for them.
func TestPingPacketFlood(t *testing.T) {
	ts := newTestServer(t, engineio.Config{}, false)
	t.Run("polling", func(t *testing.T) {
		sid := pollHandshake(t, ts)
		h := ts.session(t, sid)
		body := strings.Repeat("2\x1e", engineio.DefaultMaxPayload/2-1) + "2"
		code, _, _ := httpDo(t, http.MethodPost, pollURL(ts.URL, sid), body, nil)
		if code != http.StatusOK {
			t.Errorf("POST: %d", code)
		}
		if got := h.s.QueueMemory(); got > engineio.DefaultMaxQueueBytes {
			t.Errorf("send queue holds %d KiB after the pings, more than MaxQueueBytes", got>>10)
		}
		h.waitClosed(t, eioparser.ReasonTransportError)
		if code, _, _ := httpDo(t, http.MethodPost, pollURL(ts.URL, sid), body, nil); code != http.StatusBadRequest {
			t.Errorf("POST after the close: %d, want 400", code)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		ws, h := openRaw(t, ts, nil)
		stop := make(chan struct{})
		peak := watchQueue(h, stop)
		// 1 MB of pings, in writes of 7 KB; the server may close before
		// it has read them all.
		burst := bytes.Repeat(maskedFrame(true, 1, []byte("2")), 1000)
		for range 150 {
			if _, err := ws.c.Write(burst); err != nil {
				break
			}
		}
		h.waitClosed(t, eioparser.ReasonTransportError)
		close(stop)
		if most := <-peak; most > engineio.DefaultMaxQueueBytes {
			t.Errorf("send queue held up to %d KiB, more than MaxQueueBytes", most>>10)
		}
		if got, err := ws.next(); err == nil {
			t.Errorf("got %s after the pings, want the connection closed", short(got))
		}
	})
}

// TestPingFrameFlood has a client send WebSocket pings without end and
// read nothing: the pongs queued for it count against MaxQueueBytes, and
// it is closed as a slow consumer once they fill it, long before the write
// timeout.
func TestPingFrameFlood(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("relies on Linux socket buffer sizing")
	}
	const maxQueue = 256 << 10
	small := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	cfg := engineio.Config{SendBuffer: 16 << 10, WriteTimeout: time.Minute, MaxQueueBytes: maxQueue}
	bothReaders(t, cfg, false, func(t *testing.T, ts *testServer) {
		ws, h := openRawWith(t, small, ts, nil)
		_ = ws.c.SetDeadline(time.Time{})
		stop := make(chan struct{})
		peak := watchQueue(h, stop)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			burst := bytes.Repeat(maskedFrame(true, 9, nil), 1000) // 6 KB
			for range 4000 {                                       // 24 MB
				if _, err := ws.c.Write(burst); err != nil {
					return
				}
			}
		}()
		deadline := time.Now().Add(10 * time.Second)
		for len(h.closes()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		close(stop)
		most := <-peak
		ws.c.Close()
		wg.Wait()
		if len(h.closes()) == 0 {
			t.Fatalf("session still open after 10 s of pings from a client that reads nothing; its queue held up to %d KiB", most>>10)
		}
		h.waitClosed(t, eioparser.ReasonSlowConsumer)
		t.Logf("send queue held up to %d KiB (MaxQueueBytes %d KiB)", most>>10, maxQueue>>10)
		// The queue's bound counts its entries too: with room to grow,
		// the array may take twice that.
		if most > 2*maxQueue+64<<10 {
			t.Errorf("send queue held up to %d KiB, MaxQueueBytes is %d KiB", most>>10, maxQueue>>10)
		}
	})
}
