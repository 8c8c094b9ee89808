package engineio_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// rawWS is a WebSocket client written byte by byte, to send what a
// well-behaved client library would not.
type rawWS struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// maskedFrame returns one client frame, masked.
var maskedFrame = engineio.ClientFrame

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// upgradeRequest is an opening handshake for ts, with extra header lines.
func upgradeRequest(ts *testServer, extra string) string {
	u := strings.TrimPrefix(ts.URL, "http://")
	host, path, _ := strings.Cut(u, "/")
	return "GET /" + path + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + extra + "\r\n"
}

// dialRaw sends request, followed by early (frames in the same write), and
// returns the connection and the response's status line and headers.
func dialRaw(t *testing.T, ts *testServer, request string, early []byte) (*rawWS, *http.Response) {
	t.Helper()
	return dialRawWith(t, &net.Dialer{}, ts, request, early)
}

// dialRawWith is dialRaw with a dialer of the caller's.
func dialRawWith(t *testing.T, d *net.Dialer, ts *testServer, request string, early []byte) (*rawWS, *http.Response) {
	t.Helper()
	c, err := d.Dial("tcp", strings.TrimPrefix(ts.ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(append([]byte(request), early...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("handshake response: %v", err)
	}
	return &rawWS{t: t, c: c, br: br}, resp
}

// open completes a valid handshake and reads the open packet: it returns the
// session's recorder.
func openRaw(t *testing.T, ts *testServer, early []byte) (*rawWS, *testSession) {
	t.Helper()
	return openRawWith(t, &net.Dialer{}, ts, early)
}

// openRawWith is openRaw with a dialer of the caller's.
func openRawWith(t *testing.T, d *net.Dialer, ts *testServer, early []byte) (*rawWS, *testSession) {
	t.Helper()
	ws, resp := dialRawWith(t, d, ts, upgradeRequest(ts, "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "+testKey+"\r\n"), early)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d", resp.StatusCode)
	}
	op, data := ws.read()
	if op != 1 || !strings.HasPrefix(data, "0{") {
		t.Fatalf("first frame %d %q, want the open packet", op, data)
	}
	var open struct{ SID string }
	if err := json.Unmarshal([]byte(data[1:]), &open); err != nil {
		t.Fatal(err)
	}
	return ws, ts.session(t, open.SID)
}

func (w *rawWS) send(b []byte) {
	w.t.Helper()
	if _, err := w.c.Write(b); err != nil {
		w.t.Fatal(err)
	}
}

// read returns the next server frame, which must be unmasked and final.
func (w *rawWS) read() (op byte, data string) {
	w.t.Helper()
	var hdr [2]byte
	if _, err := io.ReadFull(w.br, hdr[:]); err != nil {
		w.t.Fatalf("read frame: %v", err)
	}
	if hdr[0]&0x80 == 0 || hdr[1]&0x80 != 0 {
		w.t.Fatalf("frame header %x: want final and unmasked", hdr)
	}
	n := int(hdr[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		io.ReadFull(w.br, ext[:])
		n = int(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		io.ReadFull(w.br, ext[:])
		n = int(binary.BigEndian.Uint64(ext[:]))
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(w.br, buf); err != nil {
		w.t.Fatalf("read payload: %v", err)
	}
	return hdr[0] & 0x0F, string(buf)
}

// readClose reads frames up to a close frame and returns its code.
func (w *rawWS) readClose() uint16 {
	w.t.Helper()
	for {
		op, data := w.read()
		if op == 8 {
			if len(data) < 2 {
				return 0
			}
			return binary.BigEndian.Uint16([]byte(data))
		}
	}
}

// bothReaders runs f with a server reading by poller (where there is one)
// and with one reading by goroutine.
func bothReaders(t *testing.T, cfg engineio.Config, echo bool, f func(t *testing.T, ts *testServer)) {
	t.Run("poller", func(t *testing.T) {
		ts := newTestServer(t, cfg, echo)
		if !ts.UsesPoller() {
			t.Skip("no poller on this system")
		}
		f(t, ts)
	})
	t.Run("goroutine", func(t *testing.T) {
		ts := newTestServer(t, engineio.WithoutPoller(cfg), echo)
		if ts.UsesPoller() {
			t.Fatal("WithoutPoller server uses the poller")
		}
		f(t, ts)
	})
}

func TestHandshakeRefused(t *testing.T) {
	const version = "Sec-WebSocket-Version: 13\r\n"
	tests := []struct {
		name   string
		proto  string // of the request line; HTTP/1.1 when empty
		extra  string
		status int
	}{
		{"no key", "", version, http.StatusBadRequest},
		{"short key", "", version + "Sec-WebSocket-Key: c2hvcnQ=\r\n", http.StatusBadRequest},
		{"key of 17 bytes", "", version + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSE=\r\n", http.StatusBadRequest},
		{"key not in base64", "", version + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!!\r\n", http.StatusBadRequest},
		{"two keys", "", version + "Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Key: " + testKey + "\r\n", http.StatusBadRequest},
		{"two keys in one header", "", version + "Sec-WebSocket-Key: " + testKey + ", " + testKey + "\r\n", http.StatusBadRequest},
		{"HTTP/1.0", "HTTP/1.0", version + "Sec-WebSocket-Key: " + testKey + "\r\n", http.StatusBadRequest},
		{"old version", "", "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: " + testKey + "\r\n", http.StatusUpgradeRequired},
	}
	ts := newTestServer(t, engineio.Config{}, false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := upgradeRequest(ts, tt.extra)
			if tt.proto != "" {
				req = strings.Replace(req, " HTTP/1.1\r\n", " "+tt.proto+"\r\n", 1)
			}
			_, resp := dialRaw(t, ts, req, nil)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := ts.SessionCount(); got != 0 {
				t.Errorf("%d sessions opened", got)
			}
		})
	}
}

func TestHandshakeAccept(t *testing.T) {
	ts := newTestServer(t, engineio.Config{}, false)
	ws, resp := dialRaw(t, ts, upgradeRequest(ts, "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "+testKey+"\r\n"), nil)
	// The example of RFC 6455, section 1.3.
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("status %d, accept %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	if resp.Header.Get("Sec-WebSocket-Extensions") != "" {
		t.Errorf("extension negotiated: %q", resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	ws.read()
}

// TestEarlyFrames sends messages in the same write as the handshake: they
// must not be lost with net/http's buffer.
func TestEarlyFrames(t *testing.T) {
	bothReaders(t, engineio.Config{}, true, func(t *testing.T, ts *testServer) {
		early := append(maskedFrame(true, 1, []byte("4early")), maskedFrame(true, 2, []byte{7})...)
		ws, h := openRaw(t, ts, early)
		if op, data := ws.read(); op != 1 || data != "4early" {
			t.Errorf("echo %d %q, want 4early", op, data)
		}
		if op, data := ws.read(); op != 2 || data != "\x07" {
			t.Errorf("echo %d %q, want binary 07", op, data)
		}
		if m := h.messages(); len(m) != 2 {
			t.Errorf("%d messages, want 2", len(m))
		}
	})
}

func TestWebSocketFrames(t *testing.T) {
	bothReaders(t, engineio.Config{}, true, func(t *testing.T, ts *testServer) {
		ws, h := openRaw(t, ts, nil)
		// A fragmented message with a ping between its fragments, sent
		// one byte per write.
		stream := bytes.Join([][]byte{
			maskedFrame(false, 1, []byte("4frag")),
			maskedFrame(true, 9, []byte("hi")),
			maskedFrame(true, 0, []byte("mented")),
		}, nil)
		for _, b := range stream {
			ws.send([]byte{b})
		}
		if op, data := ws.read(); op != 10 || data != "hi" {
			t.Errorf("got %d %q, want pong hi", op, data)
		}
		if op, data := ws.read(); op != 1 || data != "4fragmented" {
			t.Errorf("got %d %q, want the message whole", op, data)
		}
		ws.send(maskedFrame(true, 8, []byte{0x03, 0xE8}))
		if code := ws.readClose(); code != 1000 {
			t.Errorf("close reply code %d, want 1000", code)
		}
		h.waitClosed(t, eioparser.ReasonTransportClose)
	})
}

func TestWebSocketProtocolErrors(t *testing.T) {
	tests := []struct {
		name   string
		frames []byte
		code   uint16
		reason eioparser.CloseReason
	}{
		{"unmasked", []byte{0x81, 0x02, '4', 'x'}, 1002, eioparser.ReasonTransportError},
		{"too big", maskedFrame(true, 2, make([]byte, 101)), 1009, eioparser.ReasonTransportError},
		{"invalid UTF-8", maskedFrame(true, 1, []byte{'4', 0xC0}), 1007, eioparser.ReasonTransportError},
		{"continuation first", maskedFrame(true, 0, []byte("4x")), 1002, eioparser.ReasonTransportError},
		{"close with a 1-byte payload", maskedFrame(true, 8, []byte{3}), 1002, eioparser.ReasonTransportError},
		{"close code 1006", maskedFrame(true, 8, []byte{0x03, 0xee}), 1002, eioparser.ReasonTransportError},
		{"close code 2000", maskedFrame(true, 8, []byte{0x07, 0xd0}), 1002, eioparser.ReasonTransportError},
		{"close reason not UTF-8", maskedFrame(true, 8, []byte{0x03, 0xe8, 0xc0, 0xaf}), 1007, eioparser.ReasonTransportError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bothReaders(t, engineio.Config{MaxPayload: 100}, false, func(t *testing.T, ts *testServer) {
				ws, h := openRaw(t, ts, nil)
				ws.send(tt.frames)
				if code := ws.readClose(); code != tt.code {
					t.Errorf("close code %d, want %d", code, tt.code)
				}
				h.waitClosed(t, tt.reason)
			})
		})
	}
}

// TestWebSocketVanish cuts the connection without a close frame: a
// transport error.
func TestWebSocketVanish(t *testing.T) {
	bothReaders(t, engineio.Config{}, false, func(t *testing.T, ts *testServer) {
		ws, h := openRaw(t, ts, nil)
		ws.send(maskedFrame(true, 1, []byte("4bye")))
		ws.c.Close()
		h.waitClosed(t, eioparser.ReasonTransportError)
		if m := h.messages(); len(m) != 1 || m[0].data != "bye" {
			t.Errorf("messages %v, want the one sent before the cut", m)
		}
	})
}

// TestManyIdleWebSockets opens connections that each send one message late,
// after all are open: every message arrives once.
func TestManyIdleWebSockets(t *testing.T) {
	bothReaders(t, engineio.Config{}, false, func(t *testing.T, ts *testServer) {
		const n = 50
		var conns []*rawWS
		var sessions []*testSession
		for range n {
			ws, h := openRaw(t, ts, nil)
			conns = append(conns, ws)
			sessions = append(sessions, h)
		}
		for i, ws := range conns {
			ws.send(maskedFrame(true, 1, fmt.Appendf(nil, "4m%d", i)))
		}
		for i, h := range sessions {
			wait.For(t, fmt.Sprintf("connection %d's message", i), 5*time.Second, func() bool { return len(h.messages()) > 0 })
			if m := h.messages(); len(m) != 1 || m[0].data != fmt.Sprintf("m%d", i) {
				t.Fatalf("connection %d: messages %v", i, m)
			}
		}
	})
}

// TestStuckReaderCutOff has a client that never reads, with a small receive
// buffer: with the server's send buffer bounded, its writes stall after a
// little and the write timeout closes the session; left to the kernel's
// automatic sizing, megabytes would be buffered for the client first.
func TestStuckReaderCutOff(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("relies on Linux socket buffer sizing")
	}
	small := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	cfg := engineio.Config{SendBuffer: 16 << 10, WriteTimeout: 300 * time.Millisecond, MaxQueueBytes: 64 << 20, WriteCoalesce: -1}
	ts := newTestServer(t, cfg, false)
	_, h := openRawWith(t, small, ts, nil)
	chunk := eioparser.Packet{Type: eioparser.PacketMessage, Data: bytes.Repeat([]byte("x"), 10<<10)}
	const n = 50 // 500 KiB: less than an unbounded loopback buffer takes in
	for range n {
		if h.s.Send(chunk) != nil {
			break
		}
	}
	wait.For(t, fmt.Sprintf("the close of a client that read none of %d KiB", n*10), 2*time.Second, func() bool { return len(h.closes()) > 0 })
	h.waitClosed(t, eioparser.ReasonTransportError)
}

// TestServerCloseIsClean closes a session from the server while the client
// still sends: the client gets the close frame and then the end of the
// stream, not a reset, which a browser would report as an abnormal closure.
func TestServerCloseIsClean(t *testing.T) {
	bothReaders(t, engineio.Config{}, false, func(t *testing.T, ts *testServer) {
		ws, h := openRaw(t, ts, nil)
		h.s.Close()
		if code := ws.readClose(); code != 1000 {
			t.Fatalf("close code %d, want 1000", code)
		}
		// Sent after the server's close frame, as a client may.
		ws.send(maskedFrame(true, 1, []byte("4late")))
		time.Sleep(50 * time.Millisecond)
		ws.send(maskedFrame(true, 8, []byte{0x03, 0xE8}))
		buf := make([]byte, 64)
		for {
			_, err := ws.br.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("after the close frame: %v, want the end of the stream", err)
			}
		}
		h.waitClosed(t, eioparser.ReasonForcedClose)
	})
}

// countHandler counts the messages of every session it serves.
type countHandler struct{ n *atomic.Int64 }

func (h countHandler) HandleMessage([]byte, bool)        { h.n.Add(1) }
func (h countHandler) HandleClose(eioparser.CloseReason) {}

// TestPartialFrameMemory has many clients each send a large message and
// one byte of the next frame, and keep the connection open: the server must
// not keep, for that byte, the buffer the large message grew.
func TestPartialFrameMemory(t *testing.T) {
	for _, cfg := range []engineio.Config{{}, engineio.WithoutPoller(engineio.Config{})} {
		const conns, size = 64, 900_000
		var n atomic.Int64
		cfg.Logger = siotest.DiscardLogger()
		cfg.NewSession = func(*engineio.Session) engineio.Handler { return countHandler{&n} }
		srv := engineio.NewServer(cfg)
		t.Run(fmt.Sprintf("poller=%v", srv.UsesPoller()), func(t *testing.T) {
			hs := httptest.NewServer(srv)
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := srv.Shutdown(ctx); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
				hs.Close()
			}()
			before := int64(heapAfterGC())
			stream := append(maskedFrame(true, 2, bytes.Repeat([]byte{7}, size)), 0x82)
			req := "GET /?EIO=4&transport=websocket HTTP/1.1\r\nHost: parley\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + testKey + "\r\n\r\n"
			for range conns {
				c, err := net.Dial("tcp", strings.TrimPrefix(hs.URL, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if _, err := c.Write(append([]byte(req), stream...)); err != nil {
					t.Fatal(err)
				}
			}
			wait.For(t, "the large messages", 10*time.Second, func() bool { return n.Load() == conns })
			// Each connection may keep a little; the buffers the large
			// messages grew (64 MB and more) must be gone.
			const limit = conns * 64 << 10
			grown := int64(heapAfterGC()) - before
			for deadline := time.Now().Add(5 * time.Second); grown >= limit && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
				grown = int64(heapAfterGC()) - before
			}
			if grown >= limit {
				t.Errorf("heap grew by %d KiB for %d connections that each left one byte of a frame, want less than %d KiB", grown>>10, conns, limit>>10)
			}
		})
	}
}

// heapAfterGC returns the bytes of live heap objects after a collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestReadableBeforeRegistered sends a message that the poller reports,
// and that is read, before the server has kept the connection's
// registration: the messages after it must be read too.
func TestReadableBeforeRegistered(t *testing.T) {
	var ts *testServer
	cfg := engineio.WithAfterRegister(engineio.Config{}, func(s *engineio.Session) {
		// Hold the registration back until the first message is read.
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			ts.mu.Lock()
			h := ts.sessions[s.ID()]
			ts.mu.Unlock()
			if h != nil && len(h.messages()) > 0 {
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	ts = newTestServer(t, cfg, true)
	if !ts.UsesPoller() {
		t.Skip("no poller on this system")
	}
	ws, h := openRaw(t, ts, nil)
	ws.send(maskedFrame(true, 1, []byte("4first")))
	if op, data := ws.read(); op != 1 || data != "4first" {
		t.Fatalf("echo %d %q, want 4first", op, data)
	}
	ws.send(maskedFrame(true, 1, []byte("4second")))
	if op, data := ws.read(); op != 1 || data != "4second" {
		t.Fatalf("echo %d %q, want 4second", op, data)
	}
	if m := h.messages(); len(m) != 2 {
		t.Errorf("%d messages, want 2", len(m))
	}
}
