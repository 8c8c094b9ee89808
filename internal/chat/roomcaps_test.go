package chat_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
)

// refused is a refusal as a client reads it, or an acceptance.
type refused struct {
	OK    bool   `json:"ok"`
	Code  string `json:"code"`
	Error string `json:"error"`
}

// fromHeader is a Config.ClientAddress for tests: the client address is
// what the client's X-Forwarded-For says.
func fromHeader(h *socketio.Handshake) string { return h.Headers.Get("X-Forwarded-For") }

// joinFrom connects as name from the client address addr (see
// fromHeader).
func joinFrom(t *testing.T, srv *testServer, addr, name string) *person {
	t.Helper()
	p, err := dial(t, srv.URL, &sioclient.Options{Header: http.Header{"X-Forwarded-For": {addr}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var r joinReply
	p.ack(&r, chat.EventNewUser, name)
	if !r.OK {
		t.Fatalf("new-user %q: %+v", name, r)
	}
	return p
}

// tryJoin has p ask to join room and returns the answer.
func (p *person) tryJoin(room string) refused {
	p.t.Helper()
	var r refused
	p.ack(&r, chat.EventJoinRoom, room)
	return r
}

func TestRoomCreationIsCapped(t *testing.T) {
	t.Parallel()
	type step struct {
		who  string // "ann@a": ann, from address a
		room string
		err  *chat.Refusal // nil: joined
	}
	cases := []struct {
		name  string
		cfg   chat.Config
		steps []step
	}{
		{"per person", chat.Config{RoomsPerPerson: 2, RoomsPerAddress: -1, MaxRooms: -1}, []step{
			{"ann@a", "one", nil},
			{"ann@a", "two", nil},
			{"ann@a", "three", chat.ErrRoomLimitPerson},
			{"ann@a", "general", nil}, // exists
			{"bob@a", "three", nil},   // bob has his own count
			{"ann@a", "three", nil},   // exists now: joining is not capped
			{"ann@a", "four", chat.ErrRoomLimitPerson},
			{"bob@a", "one", nil},  // joining counts for nothing
			{"bob@a", "four", nil}, // his second
			{"bob@a", "five", chat.ErrRoomLimitPerson},
		}},
		{"per address", chat.Config{RoomsPerPerson: -1, RoomsPerAddress: 3, MaxRooms: -1}, []step{
			{"ann@a", "one", nil},
			{"bob@a", "two", nil},
			{"ann@a", "three", nil},
			{"bob@a", "four", chat.ErrRoomLimitAddress},
			{"cat@b", "four", nil}, // another address
			{"bob@a", "four", nil}, // exists now
			{"ann@a", "five", chat.ErrRoomLimitAddress},
			{"dan@", "five", nil}, // no address: not capped per address
			{"dan@", "six", nil},
			{"dan@", "seven", nil},
			{"dan@", "eight", nil},
		}},
		{"in all", chat.Config{RoomsPerPerson: -1, RoomsPerAddress: -1, MaxRooms: 3}, []step{
			{"ann@a", "one", nil}, // general is the first
			{"bob@b", "two", nil},
			{"cat@c", "three", chat.ErrRoomsFull},
			{"cat@c", "one", nil},
			{"ann@a", "three", chat.ErrRoomsFull},
		}},
		{"person before address", chat.Config{RoomsPerPerson: 1, RoomsPerAddress: 1, MaxRooms: -1}, []step{
			{"ann@a", "one", nil},
			{"ann@a", "two", chat.ErrRoomLimitPerson},
			{"bob@a", "two", chat.ErrRoomLimitAddress},
		}},
		{"a refusal counts for nothing", chat.Config{RoomsPerPerson: 2, RoomsPerAddress: -1, MaxRooms: 2}, []step{
			{"ann@a", "one", nil},
			{"ann@a", "two", chat.ErrRoomsFull},
			{"ann@a", "three", chat.ErrRoomsFull},
			{"ann@a", "four", chat.ErrRoomsFull}, // still the total, not ann's count
		}},
		{"defaults", chat.Config{}, []step{
			{"ann@a", "1", nil}, {"ann@a", "2", nil}, {"ann@a", "3", nil}, {"ann@a", "4", nil}, {"ann@a", "5", nil},
			{"ann@a", "6", nil}, {"ann@a", "7", nil}, {"ann@a", "8", nil}, {"ann@a", "9", nil}, {"ann@a", "10", nil},
			{"ann@a", "11", chat.ErrRoomLimitPerson},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.Rate = unlimited.Rate
			cfg.ClientAddress = fromHeader
			srv := startChat(t, cfg, socketio.Config{})
			people := map[string]*person{}
			for i, s := range tc.steps {
				p := people[s.who]
				if p == nil {
					var name, addr string
					fmt.Sscanf(s.who, "%3s@%s", &name, &addr)
					p = joinFrom(t, srv, addr, name)
					people[s.who] = p
				}
				p.t = t
				r := p.tryJoin(s.room)
				switch {
				case s.err == nil && !r.OK:
					t.Errorf("step %d: %s joins %q: %+v, want ok", i, s.who, s.room, r)
				case s.err != nil && (r.OK || r.Code != "room_limit" || r.Error != s.err.Text):
					t.Errorf("step %d: %s joins %q: %+v, want room_limit %q", i, s.who, s.room, r, s.err.Text)
				}
			}
		})
	}
}
