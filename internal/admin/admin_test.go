package admin_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parley-chat/parley/internal/admin"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/leaktest"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

const password = "hunter2 hunter2"

var hash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

// server serves a socketio.Server with an Admin of cfg (Username "root"
// and the hash above unless set) and returns its URL and the Admin.
func server(t *testing.T, cfg admin.Config) (string, *admin.Admin, *socketio.Server) {
	t.Helper()
	if cfg.Username == "" {
		cfg.Username = "root"
	}
	if cfg.PasswordHash == "" {
		cfg.PasswordHash = hash
	}
	if cfg.StatsInterval == 0 {
		cfg.StatsInterval = 100 * time.Millisecond
	}
	cfg.Logger = siotest.DiscardLogger()
	a, err := admin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := socketio.NewServer(socketio.Config{Observer: a, Recovery: &socketio.RecoveryConfig{}, Logger: siotest.DiscardLogger()})
	if err := a.Start(srv); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		a.Close()
		_ = srv.Shutdown(siotest.Context(t))
		ts.Close()
	})
	return ts.URL, a, srv
}

// recorder keeps the events a socket got.
type recorder struct {
	mu     sync.Mutex
	events []*sioclient.Event
}

func (r *recorder) add(e *sioclient.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// named returns the events called name.
func (r *recorder) named(name string) []*sioclient.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var list []*sioclient.Event
	for _, e := range r.events {
		if e.Name == name {
			list = append(list, e)
		}
	}
	return list
}

// login connects a client to /admin with auth, recording its events.
func login(t *testing.T, url string, auth any) (*sioclient.Socket, *recorder, error) {
	t.Helper()
	c, err := sioclient.Dial(siotest.Context(t), url+"/socket.io/", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	r := &recorder{}
	so := c.Socket("/admin")
	so.OnAny(r.add)
	err = so.Connect(siotest.Context(t), auth)
	return so, r, err
}

// client connects a socket to the main namespace.
func client(t *testing.T, url string) (*sioclient.Client, *sioclient.Socket) {
	t.Helper()
	c, err := sioclient.Dial(siotest.Context(t), url+"/socket.io/", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	so, err := c.Connect(siotest.Context(t), "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, so
}

var right = map[string]string{"username": "root", "password": password}

func TestNewRefuses(t *testing.T) {
	cases := []struct {
		name string
		cfg  admin.Config
		want string
	}{
		{"no user", admin.Config{PasswordHash: hash}, "no username"},
		{"no hash", admin.Config{Username: "root"}, "bcrypt"},
		{"plain password", admin.Config{Username: "root", PasswordHash: password}, "bcrypt"},
		{"bad mode", admin.Config{Username: "root", PasswordHash: hash, Mode: "staging"}, "mode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := admin.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestLogin(t *testing.T) {
	url, _, _ := server(t, admin.Config{})
	cases := []struct {
		name string
		auth any
		ok   bool
	}{
		{"right", right, true},
		{"wrong password", map[string]string{"username": "root", "password": "hunter3"}, false},
		{"wrong user", map[string]string{"username": "rooT", "password": password}, false},
		{"nothing", nil, false},
		{"fields of other types", map[string]any{"username": 1, "password": true}, false},
		{"unknown session", map[string]string{"sessionId": "0123"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, r, err := login(t, url, tc.auth)
			if !tc.ok {
				var ce *sioclient.ConnectError
				if !errors.As(err, &ce) || ce.Message != "invalid credentials" {
					t.Fatalf("login: %v, want invalid credentials", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wait.For(t, "session and config", 5*time.Second, func() bool {
				return len(r.named("session")) == 1 && len(r.named("config")) == 1
			})
			id, _ := r.named("session")[0].String(0)
			if len(id) != 32 {
				t.Fatalf("session id %q", id)
			}
			// The session logs in again, and gets no new id.
			_, again, err := login(t, url, map[string]string{"sessionId": id})
			if err != nil {
				t.Fatalf("session login: %v", err)
			}
			wait.For(t, "config", 5*time.Second, func() bool { return len(again.named("config")) == 1 })
			if n := len(again.named("session")); n != 0 {
				t.Fatalf("a session login got %d new ids", n)
			}
		})
	}
}

// TestLoginLimited: past five failures from one address, even the right
// credentials are refused, before any comparison.
func TestLoginLimited(t *testing.T) {
	url, _, _ := server(t, admin.Config{})
	wrong := map[string]string{"username": "root", "password": "nope"}
	for i := range 5 {
		if _, _, err := login(t, url, wrong); err == nil || !strings.Contains(err.Error(), "invalid credentials") {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	for _, auth := range []any{wrong, right} {
		_, _, err := login(t, url, auth)
		var ce *sioclient.ConnectError
		if !errors.As(err, &ce) || ce.Message != "too many attempts" {
			t.Fatalf("login past the limit: %v, want too many attempts", err)
		}
	}
}

func TestEvents(t *testing.T) {
	url, _, srv := server(t, admin.Config{})
	const n = 4
	ids := map[string]bool{}
	for range n {
		_, so := client(t, url)
		ids[so.ID()] = true
	}
	a, r, err := login(t, url, right)
	if err != nil {
		t.Fatal(err)
	}
	wait.For(t, "all_sockets", 5*time.Second, func() bool { return len(r.named("all_sockets")) == 1 })
	var all []struct {
		ID, Nsp, ClientID, Transport string
		Rooms                        []string
	}
	if err := r.named("all_sockets")[0].Bind(0, &all); err != nil {
		t.Fatal(err)
	}
	main := 0
	for _, s := range all {
		if s.Nsp == "/" {
			main++
			if !ids[s.ID] || len(s.ClientID) != 12 || s.Transport != "websocket" || len(s.Rooms) != 1 || s.Rooms[0] != s.ID {
				t.Errorf("socket %+v", s)
			}
		}
	}
	if main != n || len(all) != n+1 {
		t.Fatalf("all_sockets lists %d sockets of / and %d in all, want %d and %d", main, len(all), n, n+1)
	}

	// A socket that connects, is made to join a room and is disconnected
	// is told of once each.
	_, so := client(t, url)
	id := so.ID()
	if err := a.Emit("join", "/", "r1", id); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "room_joined r1", 5*time.Second, func() bool { return count(t, r, "room_joined", 1, "r1") == 1 })
	reply, err := a.EmitWithAck(siotest.Context(t), "_disconnect", "/", false, id)
	if err != nil {
		t.Fatal(err)
	}
	var ack struct{ OK bool }
	if err := reply.Bind(0, &ack); err != nil || !ack.OK {
		t.Fatalf("_disconnect ack %s: %v", reply.Args, err)
	}
	wait.For(t, "room_left", 5*time.Second, func() bool { return count(t, r, "room_left", 2, id) == 2 })
	for _, c := range []struct {
		event string
		arg   int
		want  int
	}{
		{"socket_connected", -1, 1},
		{"socket_disconnected", 1, 1},
		{"room_joined", 2, 2}, // its own room, then r1
		{"room_left", 2, 2},
	} {
		if got := count(t, r, c.event, c.arg, id); got != c.want {
			t.Errorf("%s for the socket: %d, want %d", c.event, got, c.want)
		}
	}
	if got := srv.Of("/").SocketCount(); got != n {
		t.Errorf("%d sockets left, want %d", got, n)
	}
}

// count returns how many events called name have, as argument i, value
// (for i -1, a socket whose id is value as first argument).
func count(t *testing.T, r *recorder, name string, i int, value string) int {
	n := 0
	for _, e := range r.named(name) {
		if i < 0 {
			var s struct{ ID string }
			if e.Bind(0, &s) == nil && s.ID == value {
				n++
			}
			continue
		}
		if v, ok := e.String(i); ok && v == value {
			n++
		}
	}
	return n
}

func TestProductionSendsStatsOnly(t *testing.T) {
	url, _, _ := server(t, admin.Config{Mode: admin.Production})
	_, r, err := login(t, url, right)
	if err != nil {
		t.Fatal(err)
	}
	_, so := client(t, url)
	wait.For(t, "stats with the socket", 5*time.Second, func() bool {
		for _, e := range r.named("server_stats") {
			var s struct{ ClientsCount int }
			if e.Bind(0, &s) == nil && s.ClientsCount == 2 {
				return true
			}
		}
		return false
	})
	_ = so.Disconnect()
	seen := len(r.named("server_stats"))
	wait.For(t, "two more stats", 5*time.Second, func() bool { return len(r.named("server_stats")) >= seen+2 })
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		switch e.Name {
		case "session", "config", "server_stats":
		default:
			t.Errorf("production mode sent %s", e.Name)
		}
	}
}

// TestStatsCountTraffic: the aggregated events count what was received
// and sent, once each.
func TestStatsCountTraffic(t *testing.T) {
	url, _, _ := server(t, admin.Config{Mode: admin.Production})
	_, r, err := login(t, url, right)
	if err != nil {
		t.Fatal(err)
	}
	c, so := client(t, url)
	sum := func(typ string) (n int) {
		for _, e := range r.named("server_stats") {
			var s struct {
				AggregatedEvents []struct {
					Type  string
					Count int
				}
			}
			if e.Bind(0, &s) != nil {
				continue
			}
			for _, a := range s.AggregatedEvents {
				if a.Type == typ {
					n += a.Count
				}
			}
		}
		return n
	}
	wait.For(t, "two connections counted", 5*time.Second, func() bool { return sum("rawConnection") == 2 })
	in := sum("packetsIn")
	const events = 5
	for range events {
		if err := so.Emit("ping-ish", "x"); err != nil {
			t.Fatal(err)
		}
	}
	wait.For(t, "the events counted", 5*time.Second, func() bool { return sum("packetsIn") >= in+events })
	_ = c.Close()
	wait.For(t, "a disconnection counted", 5*time.Second, func() bool { return sum("rawDisconnection") == 1 })
}

// TestOverflow: past MaxQueued events, what comes next is dropped and the
// UIs get every socket again.
func TestOverflow(t *testing.T) {
	url, _, srv := server(t, admin.Config{MaxQueued: 2})
	_, r, err := login(t, url, right)
	if err != nil {
		t.Fatal(err)
	}
	wait.For(t, "all_sockets", 5*time.Second, func() bool { return len(r.named("all_sockets")) == 1 })
	_, so := client(t, url)
	rooms := make([]string, 50)
	for i := range rooms {
		rooms[i] = "room" + strings.Repeat("x", i)
	}
	srv.Of("/").Socket(so.ID()).Join(rooms...)
	wait.For(t, "all_sockets again", 5*time.Second, func() bool {
		list := r.named("all_sockets")
		if len(list) < 2 {
			return false
		}
		var all []struct{ Rooms []string }
		if err := list[len(list)-1].Bind(0, &all); err != nil {
			return false
		}
		for _, s := range all {
			if len(s.Rooms) == len(rooms)+1 {
				return true
			}
		}
		return false
	})
	if got := len(r.named("room_joined")); got >= len(rooms) {
		t.Fatalf("%d room_joined sent with a queue of 2", got)
	}
}

func TestCommandsRefuseBadArguments(t *testing.T) {
	url, _, _ := server(t, admin.Config{})
	a, _, err := login(t, url, right)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []any
		code string
	}{
		{"emit without event", []any{"emit", "/", nil}, "bad_request"},
		{"emit reserved", []any{"emit", "/", nil, "connect"}, "bad_request"},
		{"emit unknown namespace", []any{"emit", "/nope", nil, "x"}, "no_such_namespace"},
		{"emit filter not a string", []any{"emit", "/", 3, "x"}, "bad_request"},
		{"join empty room", []any{"join", "/", ""}, "bad_request"},
		{"join namespace not a string", []any{"join", 1, "r"}, "bad_request"},
		{"leave nothing", []any{"leave"}, "bad_request"},
		{"disconnect close not a boolean", []any{"_disconnect", "/", "true"}, "bad_request"},
		{"emit to all", []any{"emit", "/", nil, "hello", map[string]int{"a": 1}}, ""},
		{"join all", []any{"join", "/", "everyone"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reply, err := a.EmitWithAck(siotest.Context(t), tc.args[0].(string), tc.args[1:]...)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				OK   bool   `json:"ok"`
				Code string `json:"code"`
			}
			if err := reply.Bind(0, &got); err != nil {
				t.Fatal(err)
			}
			if got.OK != (tc.code == "") || got.Code != tc.code {
				b, _ := json.Marshal(reply.Args)
				t.Fatalf("ack %s, want code %q", b, tc.code)
			}
		})
	}
}
