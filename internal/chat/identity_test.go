package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// This file tests identities in guest mode: reserved names, what a page
// that knows nothing of identities gets through its cookie, the limits
// per person and per address, and a restart that is no news.

// noExempt makes loopback clients, the tests', count per address.
func noExempt(netip.Addr) bool { return false }

// connectWith connects over tr with extra handshake headers.
func connectWith(t *testing.T, url string, tr sioclient.Transport, h http.Header) *person {
	t.Helper()
	p, err := dial(t, url, &sioclient.Options{Transport: tr, Header: h}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cookie is a Cookie header of one cookie.
func cookie(name, value string) http.Header {
	return http.Header{"Cookie": {(&http.Cookie{Name: name, Value: value}).String()}}
}

// mint returns a guest token of srv's chat, as cmd/parley's handshake
// handler makes them.
func mint(t *testing.T, srv *testServer) string {
	t.Helper()
	tokens, err := chat.GuestTokens(t.Context(), srv.store)
	if err != nil {
		t.Fatal(err)
	}
	token, err := tokens.Mint()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// errorEvents returns the codes of the error events p got.
func (p *person) errorEvents() []chat.Code {
	var out []chat.Code
	for _, e := range p.got(chat.EventError) {
		var r struct{ Code chat.Code }
		if err := json.Unmarshal(e.args[0], &r); err != nil {
			p.t.Fatal(err)
		}
		out = append(out, r.Code)
	}
	return out
}

func TestStrangerCannotTakeAReservedName(t *testing.T) {
	t.Parallel()
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		const reserve = 500 * time.Millisecond
		srv := startChat(t, chat.Config{NameReserve: reserve}, socketio.Config{})
		alice := join(t, srv.Server, tr, "Alice")
		alice.leave()
		gone(t, srv, alice)

		// Names that look like hers are hers.
		for _, name := range []string{"Alice", "alice", " ALICE ", "\u0410lice", "Ａｌｉｃｅ", "𝐀lice", "AIice"} {
			var r joinReply
			connect(t, srv.Server, tr).ack(&r, chat.EventNewUser, name)
			if r.OK || r.Code != chat.CodeNameTaken || r.Error != chat.ErrNameTaken.Error() {
				t.Errorf("a stranger joins as %q: %+v, want %q", name, r, chat.ErrNameTaken)
			}
		}
		// Her token takes it, the same identity.
		back, r := joinWithToken(t, srv.Server, tr, "alice", alice.token)
		if !r.OK || r.Name != "Alice" || r.ID != alice.id {
			t.Fatalf("alice back: %+v", r)
		}
		back.leave()
		gone(t, srv, back)

		// Unused for the reserve, the name is free.
		wait.For(t, "the name to be free after the reserve", 5*time.Second, func() error {
			var r joinReply
			p := connect(t, srv.Server, tr)
			p.ack(&r, chat.EventNewUser, "Alice")
			if !r.OK {
				_ = p.c.Close()
				return fmt.Errorf("new-user: %+v", r)
			}
			if r.ID == alice.id {
				t.Errorf("a stranger got alice's identity %q", r.ID)
			}
			return nil
		})
	})
}

func TestNamesAreNormalised(t *testing.T) {
	t.Parallel()
	srv := startChat(t, chat.Config{}, socketio.Config{})
	join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	cases := []struct {
		name, typed string
		code        chat.Code // "" for accepted
		shown       string
	}{
		{"trimmed and collapsed", "  Zoë \t Nguyễn ", "", "Zoë Nguyễn"},
		{"full-width is plain", "Ｂｏｂ", "", "Bob"},
		{"zero-width space", "Alice\u200b", chat.CodeNameInvalid, ""},
		{"zero-width inside", "A\u200blice", chat.CodeNameInvalid, ""},
		{"word joiner", "Alice\u2060", chat.CodeNameInvalid, ""},
		{"byte order mark", "Alice\ufeff", chat.CodeNameInvalid, ""},
		{"invisible alone", "\u200b", chat.CodeNameInvalid, ""},
		{"hangul filler", "\u3164", chat.CodeNameInvalid, ""},
		{"braille blank", "\u2800", chat.CodeNameInvalid, ""},
		{"bidi override", "Mallory\u202e", chat.CodeNameInvalid, ""},
		{"bell", "Mallory\a", chat.CodeNameInvalid, ""},
		{"escape", "\x1b[31mred", chat.CodeNameInvalid, ""},
		{"the page's label", "You", chat.CodeNameTaken, ""},
		{"the label in Cyrillic", "Y\u043eu", chat.CodeNameTaken, ""},
		{"Cyrillic look-alike", "\u0410lice", chat.CodeNameTaken, ""},
		{"mathematical bold", "𝐀lice", chat.CodeNameTaken, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r joinReply
			connect(t, srv.Server, sioclient.TransportWebSocket).ack(&r, chat.EventNewUser, tc.typed)
			switch {
			case tc.code == "" && (!r.OK || r.Name != tc.shown):
				t.Errorf("new-user %q: %+v, want joined as %q", tc.typed, r, tc.shown)
			case tc.code != "" && (r.OK || r.Code != tc.code || r.Error == ""):
				t.Errorf("new-user %q: %+v, want code %q", tc.typed, r, tc.code)
			}
		})
	}
}

// TestPageWithoutIdentities is the tutorial's page: new-user with a name,
// no ack, nothing kept by the page. Its identity is the cookie that
// cmd/parley sets on the handshake: offered on the first visit (the chat
// reads it as GuestOfferCookie), sent back on the next (GuestCookie).
func TestPageWithoutIdentities(t *testing.T) {
	t.Parallel()
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		srv := startChat(t, chat.Config{PresenceGrace: 300 * time.Millisecond}, socketio.Config{})
		bob := join(t, srv.Server, tr, "Bob")
		token := mint(t, srv)
		visit := func(h http.Header) *person {
			p := connectWith(t, srv.URL, tr, h)
			p.emit(chat.EventNewUser, "Tut")
			p.emit(chat.EventSendChatMessage, "hello")
			p.sync()
			if codes := p.errorEvents(); len(codes) > 0 {
				t.Fatalf("the page got errors %q", codes)
			}
			return p
		}
		lastID := func() string {
			msgs := bob.messages()
			return msgs[len(msgs)-1].UserID
		}

		// First visit: the cookie is only offered; the browser may not
		// keep it.
		first := visit(cookie(chat.GuestOfferCookie, token))
		bob.waitFor(chat.EventChatMessage, 1)
		id := lastID()
		// Reloaded: the page closes, and says it is back with its
		// cookie. It was not known to keep its token, so its leaving was
		// told.
		if err := first.c.Close(); err != nil {
			t.Fatal(err)
		}
		bob.waitFor(chat.EventUserDisconnected, 1)
		second := visit(cookie(chat.GuestCookie, token))
		bob.waitFor(chat.EventChatMessage, 2)
		if got := lastID(); got != id {
			t.Errorf("after a reload with its cookie, the page is %q, was %q", got, id)
		}
		// From now on its token is known to be kept: a reload is no news.
		if err := second.c.Close(); err != nil {
			t.Fatal(err)
		}
		gone(t, srv, second)
		third := visit(cookie(chat.GuestCookie, token))
		bob.waitFor(chat.EventChatMessage, 3)
		time.Sleep(400 * time.Millisecond) // past the grace: nothing more is told
		syncAll(bob, third)
		if got, want := bob.presence(), []string{"+Tut@general", "-Tut@general", "+Tut@general"}; !slices.Equal(got, want) {
			t.Errorf("bob heard %q, want %q", got, want)
		}
		// Another browser, without the cookie, is refused the name: the
		// tutorial's page gets an error event.
		stranger := connect(t, srv.Server, tr)
		stranger.emit(chat.EventNewUser, "Tut")
		stranger.sync()
		if got := stranger.errorEvents(); !slices.Equal(got, []chat.Code{chat.CodeNameTaken}) {
			t.Errorf("a stranger got %q, want name_taken", got)
		}
	})
}

// TestPageWithoutCookies is the tutorial's page served from another site,
// as the tutorial serves it: no cookie is kept, every visit is a new
// guest, and a reload must still get its name back.
func TestPageWithoutCookies(t *testing.T) {
	t.Parallel()
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		srv := startChat(t, chat.Config{}, socketio.Config{})
		bob := join(t, srv.Server, tr, "Bob")
		for visit := range 3 {
			p := connect(t, srv.Server, tr)
			p.emit(chat.EventNewUser, "Tut")
			p.sync()
			if codes := p.errorEvents(); len(codes) > 0 {
				t.Fatalf("visit %d: the page got errors %q", visit, codes)
			}
			if err := p.c.Close(); err != nil {
				t.Fatal(err)
			}
			bob.waitFor(chat.EventUserDisconnected, visit+1)
		}
	})
}

func TestNewUserIsLimitedPerAddress(t *testing.T) {
	t.Parallel()
	srv := startChat(t, chat.Config{ExemptAddress: noExempt, NewUserRate: 0.01, NewUserBurst: 3}, socketio.Config{})
	for i := range 3 {
		join(t, srv.Server, sioclient.TransportWebSocket, fmt.Sprint("P", i))
	}
	// A new connection gets no fresh allowance.
	var r joinReply
	connect(t, srv.Server, sioclient.TransportWebSocket).ack(&r, chat.EventNewUser, "P3")
	if r.OK || r.Code != chat.CodeRateLimited || r.Error != chat.ErrJoinsLimited.Error() {
		t.Errorf("fourth new-user from one address: %+v, want %q", r, chat.ErrJoinsLimited)
	}
}

// TestNewUserTellsLimits checks that new-user's answer gives the page the
// server's limits, the defaults or those configured.
func TestNewUserTellsLimits(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cfg  chat.Config
		want chat.Limits
	}{
		{chat.Config{}, chat.Limits{Name: chat.DefaultMaxNameLength, Message: chat.DefaultMaxMessageLength, Room: 32,
			Rate: chat.DefaultRate, Burst: chat.DefaultBurst}},
		{chat.Config{MaxNameLength: 12, MaxMessageLength: 300, Rate: 5, Burst: 7}, chat.Limits{Name: 12, Message: 300, Room: 32, Rate: 5, Burst: 7}},
		{unlimited, chat.Limits{Name: chat.DefaultMaxNameLength, Message: chat.DefaultMaxMessageLength, Room: 32}},
	} {
		srv := startChat(t, tt.cfg, socketio.Config{})
		var r joinReply
		connect(t, srv.Server, sioclient.TransportWebSocket).ack(&r, chat.EventNewUser, "Lim")
		if !r.OK || r.Limits != tt.want {
			t.Errorf("new-user with %+v: ok %v, limits %+v, want %+v", tt.cfg, r.OK, r.Limits, tt.want)
		}
	}
}

func TestFailedClaimsAreLimitedPerAddress(t *testing.T) {
	t.Parallel()
	srv := startChat(t, chat.Config{ExemptAddress: noExempt, FailedClaimRate: 0.01, FailedClaimBurst: 2}, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	var codes []string
	for range 4 {
		var r joinReply
		connect(t, srv.Server, sioclient.TransportWebSocket).ack(&r, chat.EventNewUser, "Alice", map[string]string{"token": "guess"})
		codes = append(codes, r.Error)
	}
	want := []string{chat.ErrNameTaken.Error(), chat.ErrNameTaken.Error(), chat.ErrClaimsLimited.Error(), chat.ErrClaimsLimited.Error()}
	if !slices.Equal(codes, want) {
		t.Errorf("claims of alice's name: %q, want %q", codes, want)
	}
	// Alice, online, is not harmed by the guesses.
	alice.say("still here", nil)
}

func TestMessagesAreLimitedPerPerson(t *testing.T) {
	t.Parallel()
	srv := startChat(t, chat.Config{Rate: rate.Limit(0.001), Burst: 4}, socketio.Config{})
	tab1 := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	for i := range 3 {
		tab1.say(fmt.Sprint("m", i), nil) // the connection's 4th event
	}
	// A second tab, and a third connection, share her allowance: one
	// message is left.
	tab2, r := joinWithToken(t, srv.Server, sioclient.TransportWebSocket, "Alice", tab1.token)
	if !r.OK {
		t.Fatalf("second tab: %+v", r)
	}
	tab2.say("m3", nil)
	for _, p := range []*person{tab2, tab1} {
		got, err := p.send("one too many", nil)
		if err != nil || got.OK || got.Error != chat.ErrRateLimited.Error() {
			t.Errorf("over her allowance: %+v %v, want %q", got, err, chat.ErrRateLimited)
		}
	}
	cycled, _ := joinWithToken(t, srv.Server, sioclient.TransportWebSocket, "Alice", tab1.token)
	if got, _ := cycled.send("from a new connection", nil); got.OK {
		t.Error("a new connection got a fresh allowance")
	}
	// Bob's is his own.
	join(t, srv.Server, sioclient.TransportWebSocket, "Bob").say("hi", nil)
}

// startOn serves a chat over st, for tests that restart the server; stop
// shuts it down as cmd/parley does: connections first, then the chat.
func startOn(t *testing.T, st store.Store, cfg chat.Config) (url string, stop func()) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Store, cfg.Logger = st, log
	sio := socketio.NewServer(socketio.Config{Logger: log})
	c, err := chat.New(cfg, sio.Of("/"))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sio)
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := sio.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		ts.Close()
	}
	t.Cleanup(stop)
	return ts.URL, stop
}

// joinAt joins the chat at url as name, with token when not empty.
func joinAt(t *testing.T, url, name, token string) *person {
	t.Helper()
	p, err := dial(t, url, &sioclient.Options{Transport: sioclient.TransportWebSocket}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var r joinReply
	if token == "" {
		p.ack(&r, chat.EventNewUser, name)
	} else {
		p.ack(&r, chat.EventNewUser, name, map[string]string{"token": token})
	}
	if !r.OK {
		t.Fatalf("join %q: %+v", name, r)
	}
	p.id, p.token = r.ID, r.Token
	return p
}

// TestRestartIsNoNews restarts the server under people who stay: when
// they come back, nobody is told they connected, in any room; someone new
// still is.
func TestRestartIsNoNews(t *testing.T) {
	t.Parallel()
	st := openStore(t, filepath.Join(t.TempDir(), "chat.db"))
	url, stop := startOn(t, st, chat.Config{})
	alice := joinAt(t, url, "Alice", "")
	alice.joinRoom("dev")
	bob := joinAt(t, url, "Bob", "")
	bob.joinRoom("dev")
	stop()

	url, _ = startOn(t, st, chat.Config{})
	bob2 := joinAt(t, url, "Bob", bob.token)
	bob2.joinRoom("dev")
	alice2 := joinAt(t, url, "Alice", alice.token)
	if alice2.id != alice.id {
		t.Errorf("alice is %q after the restart, was %q", alice2.id, alice.id)
	}
	alice2.joinRoom("dev")
	carol := joinAt(t, url, "Carol", "")
	bob2.waitFor(chat.EventUserConnected, 1)
	syncAll(bob2, alice2, carol)
	if got, want := bob2.presence(), []string{"+Carol@general"}; !slices.Equal(got, want) {
		t.Errorf("bob heard %q after the restart, want %q", got, want)
	}
}
