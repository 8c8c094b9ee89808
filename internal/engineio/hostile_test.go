package engineio_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/test/wait"
)

// The hostile-client suite sends, over raw TCP, what a well-behaved client
// library never would, and checks what the server does with each input:
// the frames it answers with, the close code it fails the connection with,
// or that it drops the connection. The cases follow the categories of the
// Autobahn WebSocket test suite (1 framing, 2 pings and pongs, 3 reserved
// bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 closing, 9 limits), each
// named after its category, with Engine.IO's reading of the payloads: a
// text frame is one Engine.IO packet ("4..." a message, echoed by the test
// handler), a binary frame a binary message.

// WebSocket opcodes, as the client writes them.
const (
	wsCont   = 0x0
	wsText   = 0x1
	wsBinary = 0x2
	wsClose  = 0x8
	wsPing   = 0x9
	wsPong   = 0xA
)

// hostileMaxPayload is the MaxPayload of the server under test: the
// default, which a public parley runs with.
const hostileMaxPayload = engineio.DefaultMaxPayload

// perFrame, as a step's chop, writes each frame of the step on its own.
const perFrame = -1

// step is one write of a hostile case and what the server must answer.
type step struct {
	frames [][]byte
	// chop is how the frames are written: 0 all in one write, perFrame
	// one write per frame, n > 0 in writes of n bytes.
	chop int
	// want lists the frames the server must send next, in order, as
	// next formats them.
	want []string
}

// hostileCase is one input and the behaviour it must meet with. Unless
// reply or drop is set, the case ends with a close frame of the client's
// (1000), which the server must answer with 1000.
type hostileCase struct {
	name  string
	steps []step
	// reply is the close code the server must send, unprompted, after
	// the steps: its failure code (1002, 1007, 1009), or its reply to a
	// close frame the steps sent.
	reply uint16
	// drop: the server must close the connection without a close frame
	// (an Engine.IO error).
	drop bool
	// reason is the close reason the handler must see; by default
	// "transport close" after a close frame of the client's that is valid,
	// "transport error" after a failure.
	reason eioparser.CloseReason
}

// The frames a case sends.
func frame(fin bool, op byte, payload string) []byte {
	return maskedFrame(fin, op, []byte(payload))
}
func textFrame(s string) []byte { return frame(true, wsText, s) }
func message(s string) []byte   { return textFrame("4" + s) }
func binFrame(s string) []byte  { return frame(true, wsBinary, s) }
func pingFrame(s string) []byte { return frame(true, wsPing, s) }
func pongFrame(s string) []byte { return frame(true, wsPong, s) }

// closeFrame is a client close frame with code and reason.
func closeFrame(code uint16, reason string) []byte {
	return frame(true, wsClose, string(binary.BigEndian.AppendUint16(nil, code))+reason)
}

// reserved is a final frame with the reserved bits rsv (1 to 7) set.
func reserved(rsv, op byte, payload string) []byte {
	return maskedFrame(true, rsv<<4|op, []byte(payload))
}

// frames gathers frames for a step.
func frames(f ...[]byte) [][]byte { return f }

// split cuts one frame into pieces at the given offsets, for a step each.
func split(f []byte, at ...int) [][]byte {
	var out [][]byte
	prev := 0
	for _, a := range at {
		out = append(out, f[prev:a])
		prev = a
	}
	return append(out, f[prev:])
}

// The frames the server sends, as next formats them.
func echoed(s string) string  { return "text:4" + s }
func binEcho(s string) string { return "binary:" + s }
func pong(s string) string    { return "pong:" + s }

// padded is a message whose text frame payload is n bytes long, "4" and
// n-1 stars.
func padded(n int) string { return strings.Repeat("*", n-1) }

// fragmented is text (with its "4") or binary data cut into frames of
// size bytes.
func fragmented(op byte, data string, size int) [][]byte {
	var out [][]byte
	for first := true; first || len(data) > 0; first = false {
		n := min(size, len(data))
		o := byte(wsCont)
		if first {
			o = op
		}
		out = append(out, frame(n == len(data), o, data[:n]))
		data = data[n:]
	}
	return out
}

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

// write sends a step's frames as its chop says. Write errors are left to
// the reads that follow: a server that failed the connection may have
// stopped reading.
func (w *rawWS) write(st step) {
	var writes [][]byte
	switch all := bytes.Join(st.frames, nil); {
	case st.chop == perFrame:
		writes = st.frames
	case st.chop > 0:
		for len(all) > 0 {
			n := min(st.chop, len(all))
			writes = append(writes, all[:n])
			all = all[n:]
		}
	default:
		writes = [][]byte{all}
	}
	for _, b := range writes {
		if _, err := w.c.Write(b); err != nil {
			return
		}
	}
}

// short abbreviates a formatted frame for messages.
func short(s string) string {
	if len(s) <= 60 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:60], len(s))
}

// runHostile plays c against ts on a connection of its own.
func runHostile(t *testing.T, ts *testServer, c hostileCase) {
	t.Helper()
	ws, h := openRaw(t, ts, nil)
	expect := func(what, want string) {
		t.Helper()
		got, err := ws.next()
		if err != nil {
			t.Fatalf("%s: %v, want %s", what, err, short(want))
		}
		if got != want {
			t.Fatalf("%s: got %s, want %s", what, short(got), short(want))
		}
	}
	for i, st := range c.steps {
		ws.write(st)
		for j, want := range st.want {
			expect(fmt.Sprintf("step %d, frame %d", i+1, j+1), want)
		}
	}
	reason := c.reason
	switch {
	case c.drop:
		if got, err := ws.next(); err == nil {
			t.Fatalf("got %s, want the connection closed", short(got))
		}
	default:
		code := c.reply
		if code == 0 {
			ws.send(closeFrame(1000, ""))
			code = 1000
		}
		expect("the end", fmt.Sprintf("close:%d", code))
		if got, err := ws.next(); err == nil {
			t.Fatalf("after the close frame: %s, want the end of the stream", short(got))
		} else if !errors.Is(err, io.EOF) {
			t.Errorf("after the close frame: %v, want the end of the stream", err)
		}
		if reason == "" {
			reason = eioparser.ReasonTransportError
			if code == 1000 {
				reason = eioparser.ReasonTransportClose
			}
		}
	}
	wait.For(t, "HandleClose", 5*time.Second, func() bool { return len(h.closes()) > 0 })
	if cl := h.closes(); cl[0].reason != reason {
		t.Errorf("close reason %q, want %q", cl[0].reason, reason)
	}
}

// TestHostileFrames plays every case over a server reading with the poller
// and one reading with a goroutine per connection.
func TestHostileFrames(t *testing.T) {
	var cases []hostileCase
	for _, group := range [][]hostileCase{
		framingCases(), pingCases(), reservedBitCases(), opcodeCases(),
		fragmentationCases(), utf8Cases(), closeCases(), limitCases(), engineIOCases(),
	} {
		cases = append(cases, group...)
	}
	bothReaders(t, engineio.Config{MaxPayload: hostileMaxPayload}, true, func(t *testing.T, ts *testServer) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				runHostile(t, ts, c)
			})
		}
	})
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
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		code, _, _ := httpDo(t, http.MethodPost, pollURL(ts.URL, sid), body, nil)
		runtime.ReadMemStats(&after)
		if code != http.StatusOK {
			t.Errorf("POST: %d", code)
		}
		// The body itself is 1 MB, read by the server and written by the
		// client; decoding it into a Packet each was 20 MB more.
		if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
			t.Errorf("the POST of %d pings allocated %d MiB", len(body)/2, got>>20)
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

// TestPingFrameFlood has a client send 40 MB of WebSocket pings and read
// nothing: the pongs queued for it count against MaxQueueBytes, and it is
// closed as a slow consumer once they fill it, long before the write
// timeout, with the server's heap grown by some times the bound at most.
func TestPingFrameFlood(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("relies on Linux socket buffer sizing")
	}
	small := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	cfg := engineio.Config{SendBuffer: 16 << 10, WriteTimeout: time.Minute}
	bothReaders(t, cfg, false, func(t *testing.T, ts *testServer) {
		ws, h := openRawWith(t, small, ts, nil)
		_ = ws.c.SetDeadline(time.Time{})
		base := heapAfterGC()
		stop := make(chan struct{})
		peak := watchHeap(stop)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			burst := bytes.Repeat(maskedFrame(true, wsPing, nil), 1000) // 6 KB
			for range 40_000_000 / len(burst) {
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
		grown := int64(<-peak) - int64(base)
		ws.c.Close()
		wg.Wait()
		if len(h.closes()) == 0 {
			t.Fatalf("session still open after 10 s of pings from a client that reads nothing; the heap grew by up to %d MiB", grown>>20)
		}
		h.waitClosed(t, eioparser.ReasonSlowConsumer)
		t.Logf("heap grew by up to %d KiB (MaxQueueBytes %d KiB)", grown>>10, engineio.DefaultMaxQueueBytes>>10)
		// The queue with room to grow, the batch being written (as
		// large), the arrays both left behind as they grew, garbage not
		// yet collected: some times the bound, against hundreds of
		// megabytes when pongs were queued past it.
		if limit := int64(16 * engineio.DefaultMaxQueueBytes); grown > limit {
			t.Errorf("heap grew by up to %d KiB, want at most %d KiB (16 times MaxQueueBytes)", grown>>10, limit>>10)
		}
	})
}

// watchHeap samples the heap, garbage not yet swept included, until stop
// is closed, and returns the most it saw.
func watchHeap(stop <-chan struct{}) <-chan uint64 {
	peak := make(chan uint64, 1)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var most uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			most = max(most, sample[0].Value.Uint64())
			select {
			case <-stop:
				peak <- most
				return
			case <-tick.C:
			}
		}
	}()
	return peak
}

// TestFramesCrossingTheCloseFrame has a client send frames while the
// server's close frame waits in the queue (held back by WriteCoalesce):
// what it sends, its own close frame included, must not cut the
// connection before the server's close frame reaches it, nor reach the
// handler of the closed session.
func TestFramesCrossingTheCloseFrame(t *testing.T) {
	tests := []struct {
		name   string
		frames [][]byte
	}{
		{"message", frames(message("late"))},
		{"ping", frames(pingFrame("late"))},
		{"Engine.IO ping", frames(textFrame("2"))},
		{"close frame", frames(closeFrame(1000, ""))},
		{"message and close frame", frames(message("late"), closeFrame(1001, "going"))},
		{"protocol error", frames(reserved(1, wsText, "4late"))},
	}
	// The open packet was written as the connection opened: the close
	// frame waits out the rest of WriteCoalesce, long enough for the
	// server to read what the client sends at once.
	cfg := engineio.Config{WriteCoalesce: 300 * time.Millisecond}
	bothReaders(t, cfg, true, func(t *testing.T, ts *testServer) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ws, h := openRaw(t, ts, nil)
				h.s.Close()
				ws.write(step{frames: tt.frames})
				got, err := ws.next()
				if err != nil || got != "close:1000" {
					t.Fatalf("got %s %v, want the server's close frame", short(got), err)
				}
				if got, err := ws.next(); !errors.Is(err, io.EOF) {
					t.Fatalf("after the close frame: %s %v, want the end of the stream", short(got), err)
				}
				h.waitClosed(t, eioparser.ReasonForcedClose)
				if msgs := h.messages(); len(msgs) != 0 {
					t.Errorf("handler got %d messages after the close", len(msgs))
				}
			})
		}
	})
}
