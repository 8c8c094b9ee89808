package chat_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store/memory"
	"github.com/parley-chat/parley/internal/test/wait"
)

// These tests replay the probe of issue 10, item 3: 40 connections made
// 18,000 rooms in 20 s, and the list-rooms answer (3.2 MB) then cut off
// whoever asked for it, on every page, also after a restart.

// TestProbeManyCreators has 40 connections from 4 client addresses
// create rooms as fast as they are answered: past the caps, each creation
// is refused with room_limit, and the list stays what the caps allow.
func TestProbeManyCreators(t *testing.T) {
	t.Parallel()
	const (
		addresses = 4
		perAddr   = 10 // connections
		tries     = 50 // rooms each tries to create
	)
	srv := startChat(t, chat.Config{ClientAddress: fromHeader}, socketio.Config{})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created = map[string]int{} // by address
		byWhom  = map[string]int{}
		others  []string
	)
	for a := range addresses {
		for c := range perAddr {
			addr, name := fmt.Sprintf("192.0.2.%d", a+1), fmt.Sprintf("creator-%d-%d", a, c)
			p := joinFrom(t, srv, addr, name)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				for i := range tries {
					m, err := p.so.EmitWithAck(ctx, chat.EventJoinRoom, fmt.Sprintf("%s-%d", name, i))
					var r refused
					if err == nil {
						err = m.Bind(0, &r)
					}
					mu.Lock()
					switch {
					case err != nil:
						others = append(others, err.Error())
					case r.OK:
						created[addr]++
						byWhom[name]++
					case r.Code != string(chat.CodeRoomLimit):
						others = append(others, r.Code+": "+r.Error)
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(others) > 0 {
		t.Errorf("%d answers other than ok and room_limit, such as %q", len(others), others[0])
	}
	for a := range addresses {
		addr := fmt.Sprintf("192.0.2.%d", a+1)
		if n := created[addr]; n != chat.DefaultRoomsPerAddress {
			t.Errorf("%d rooms created from %s, want %d", n, addr, chat.DefaultRoomsPerAddress)
		}
	}
	for name, n := range byWhom {
		if n > chat.DefaultRoomsPerPerson {
			t.Errorf("%s created %d rooms, more than %d", name, n, chat.DefaultRoomsPerPerson)
		}
	}
	asker := join(t, srv.Server, sioclient.TransportWebSocket, "Asker")
	if got, want := len(asker.allRooms(0)), 1+addresses*chat.DefaultRoomsPerAddress; got != want {
		t.Errorf("%d rooms listed, want %d", got, want)
	}
}

// probeRoomName is a room name of 32 characters, most of 4 bytes in
// UTF-8, as long as a room name can be: 18,000 of them in one answer
// made 2.7 MB.
func probeRoomName(i int) string {
	return fmt.Sprintf("%05d", i) + strings.Repeat("𝒜", 27)
}

// TestProbeListingWhatPersists starts a chat on a store that already holds
// the probe's 18,000 rooms, as after a restart: each list-rooms answer
// stays under the bound, whoever asks is never cut off and can page
// through every room, and no room is created past the cap on rooms
// listed, while joining the existing ones works.
func TestProbeListingWhatPersists(t *testing.T) {
	t.Parallel()
	const rooms = 18_000
	st := memory.New(memory.Config{})
	t.Cleanup(func() { _ = st.Close() })
	want := []string{chat.DefaultRoom}
	for i := range rooms {
		name := probeRoomName(i)
		if _, err := st.CreateRoom(t.Context(), name); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	slices.Sort(want)
	cfg := unlimited // paging through 18,000 rooms takes 91 pages at once
	cfg.Store = st
	srv := startChat(t, cfg, socketio.Config{})
	for _, tr := range []sioclient.Transport{sioclient.TransportWebSocket, sioclient.TransportPolling} {
		t.Run(string(tr), func(t *testing.T) {
			p := join(t, srv.Server, tr, "Asker-"+string(tr))
			// As the page asks: without an argument.
			r, size := p.listRooms()
			if !r.OK || len(r.Rooms) != chat.DefaultRoomsPage || r.Next == nil {
				t.Fatalf("list-rooms: ok %t, %d rooms, next %v", r.OK, len(r.Rooms), r.Next)
			}
			if size > chat.MaxListBytes {
				t.Errorf("list-rooms answered %d bytes, more than %d", size, chat.MaxListBytes)
			}
			if got := p.allRooms(chat.MaxRoomsPage); !slices.Equal(got, want) {
				t.Errorf("paged through %d rooms, want %d", len(got), len(want))
			}
			// Still connected, and answered.
			p.sync()
			if r := p.tryJoin("one more"); r.OK || r.Error != chat.ErrRoomsFull.Text {
				t.Errorf("creating a room past the cap: %+v, want %q", r, chat.ErrRoomsFull.Text)
			}
			if r := p.tryJoin(probeRoomName(7)); !r.OK {
				t.Errorf("joining an existing room: %+v", r)
			}
		})
	}
}

// TestProbeRoomsDoNotStayLoaded has a client go through many existing
// rooms: once they are empty and idle, their memory is let go.
func TestProbeRoomsDoNotStayLoaded(t *testing.T) {
	t.Parallel()
	const rooms = 500
	st := memory.New(memory.Config{})
	t.Cleanup(func() { _ = st.Close() })
	for i := range rooms {
		if _, err := st.CreateRoom(t.Context(), probeRoomName(i)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := unlimited
	cfg.Store, cfg.RoomIdle = st, idle
	// Answers go out at once, rather than 5 ms after the one before.
	srv := startChat(t, cfg, socketio.Config{Engine: engineio.Config{WriteCoalesce: -1}})
	p := join(t, srv.Server, sioclient.TransportWebSocket, "Wanderer")
	start := time.Now()
	for i := range rooms {
		p.joinRoom(probeRoomName(i))
		var lr roomReply
		p.ack(&lr, chat.EventLeaveRoom, probeRoomName(i))
	}
	t.Logf("joined and left %d rooms in %v", rooms, time.Since(start))
	wait.For(t, "the rooms to be unloaded", 10*time.Second, func() error {
		if got := srv.chat.LoadedRooms(); len(got) > 1 {
			return fmt.Errorf("%d rooms loaded", len(got))
		}
		return nil
	})
}
