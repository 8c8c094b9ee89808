package bench

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
)

// smallHostile sizes the hostile client for a server whose send queue
// holds 64 KiB, whose bodies must arrive within a second and whose
// headers take at most 8 KiB: each item still goes past the bound it
// tests; the catch-up is twice the queue, and its history replies, an
// eighth of the queue each, come one message at a time.
var smallHostile = hostileParams{
	pollPings:     1000,
	wsPings:       100,
	pingFrames:    4000, // 0.5 MB of pongs
	anonCycles:    5,
	floodRooms:    80, // past the burst of 60
	headerConns:   2,
	headerBytes:   64 << 10,
	bigFrameConns: 2,
	bigFrame:      900_000,
	hold:          100 * time.Millisecond,
	slowPosts:     2,
	slowPostLimit: 5 * time.Second,
	catchUp:       20, // 120 KB: over the bound
	catchUpText:   2000,
}

// TestHostileItems runs each item of the hostile client once against
// parley, which must refuse or bound every one.
func TestHostileItems(t *testing.T) {
	url := newParleyServer(t, engineio.Config{MaxQueueBytes: 64 << 10, BodyTimeout: time.Second}, func(s *http.Server) {
		s.MaxHeaderBytes = 8 << 10
	})
	h, err := newHostile(url, DefaultPath, "test01", smallHostile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, it := range hostileItems {
		t.Run(it.name, func(t *testing.T) {
			note, err := it.run(h, ctx)
			if err != nil {
				t.Fatalf("%s: %v", it.name, err)
			}
			t.Log(note)
		})
	}
}
