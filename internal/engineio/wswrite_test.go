package engineio_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// TestWebSocketWriteAfterDeadline sends a client more than the kernel's
// send buffer takes at once, so that the write waits, with the write
// timeout as its deadline; then, once that deadline is past, a small
// message: it must go out. (The deadline stayed on the connection, and
// every write after it failed at once: a client that had been sent a
// large history was cut off, as for a transport error, by the next
// message sent to it more than WriteTimeout later.)
func TestWebSocketWriteAfterDeadline(t *testing.T) {
	// Long enough for the first write on a loaded machine: over loopback,
	// into the 32 KiB send buffer, a quarter of a megabyte can take a
	// tenth of a second.
	const writeTimeout = time.Second
	srv := newTestServer(t, engineio.Config{WriteTimeout: writeTimeout}, false)
	ctx := siotest.Context(t)
	ec := dial(t, ctx, srv, sioclient.TransportWebSocket, nil)
	h := srv.session(t, ec.SID())
	big := bytes.Repeat([]byte("z"), 256<<10) // several times the send buffer
	if err := h.s.Send(eioparser.Packet{Data: big}); err != nil {
		t.Fatal(err)
	}
	if p := read(t, ctx, ec); len(p.Data) != len(big) {
		t.Fatalf("got %d bytes, want %d", len(p.Data), len(big))
	}
	// What is tested is a deadline passing: nothing to poll for.
	<-time.After(writeTimeout + writeTimeout/2)
	if err := h.s.Send(eioparser.Packet{Data: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	if p := read(t, ctx, ec); string(p.Data) != "after" {
		t.Fatalf("got %q, want %q", p.Data, "after")
	}
	if cl := h.closes(); len(cl) != 0 {
		t.Errorf("session closed: %+v", cl)
	}
}
