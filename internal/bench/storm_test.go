package bench

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/web"
)

// restartable is a parley served as cmd/parley serves it, on one address
// and one SQLite file across restarts.
type restartable struct {
	t    *testing.T
	addr string
	db   string

	mu       sync.Mutex
	stop     func() error
	restarts int
}

// newRestartable starts a parley that restart stops and starts again.
func newRestartable(t *testing.T) *restartable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &restartable{t: t, addr: ln.Addr().String(), db: filepath.Join(t.TempDir(), "parley.db")}
	if err := p.start(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if err := p.stop(); err != nil {
			t.Errorf("stopping parley: %v", err)
		}
	})
	return p
}

func (p *restartable) url() string { return "http://" + p.addr }

// start serves a new parley on ln.
func (p *restartable) start(ln net.Listener) error {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(context.Background(), p.db)
	if err != nil {
		ln.Close()
		return err
	}
	sio := socketio.NewServer(socketio.Config{Engine: engineio.Config{}, Recovery: &socketio.RecoveryConfig{}, Logger: log})
	c, err := chat.New(chat.Config{Store: st, Logger: log}, sio.Of("/"))
	if err != nil {
		ln.Close()
		_ = st.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", sio)
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	p.stop = func() error {
		// Generous: the machine may be busy with every other test.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		// As cmd/parley shuts down: the sessions, the HTTP server, then
		// the chat and its store.
		return errors.Join(sio.Shutdown(ctx), srv.Shutdown(ctx), c.Close(), st.Close())
	}
	return nil
}

// restart is a Config.Restart: it stops the server and, after down,
// starts another on the same address and store.
func (p *restartable) restart(down time.Duration) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.restarts++
		if err := p.stop(); err != nil {
			return 0, err
		}
		p.stop = func() error { return nil }
		if !sleep(ctx, down) {
			return 0, ctx.Err()
		}
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			return 0, err
		}
		return 0, p.start(ln)
	}
}

// TestRunRestartStorm restarts parley under clients that rejoin as the
// page does: all come back under their names, none is cut off, and none
// hears a user-connected of a returning person; clients that rejoin as
// the tutorial's would, without identities, are new people to parley,
// and their returns are news.
func TestRunRestartStorm(t *testing.T) {
	tests := []struct {
		rejoin    Rejoin
		transport Transport
	}{
		{RejoinPage, TransportWebSocket},
		{RejoinPage, TransportPolling},
		{RejoinTutorial, TransportWebSocket},
	}
	for _, tt := range tests {
		t.Run(string(tt.rejoin)+"/"+string(tt.transport), func(t *testing.T) {
			const clients = 24
			p := newRestartable(t)
			var progress syncBuffer
			res, err := Run(context.Background(), Config{
				URL:         p.url(),
				Transport:   tt.transport,
				Clients:     clients,
				ConnectRate: 200,
				Duration:    500 * time.Millisecond,
				Restart:     p.restart(300 * time.Millisecond),
				Rejoin:      tt.rejoin,
				StormLimit:  30 * time.Second,
				PID:         selfPID(),
				Progress:    &progress,
			})
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			if err := res.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s%s", progress.String(), text.String())
			s := res.Storm
			if s == nil || p.restarts != 1 {
				t.Fatalf("storm %v after %d restarts", s, p.restarts)
			}
			if res.Connected != clients || s.Joined != clients || s.Closed != clients {
				t.Errorf("%d connected, %d joined at the restart, %d closed by it; want %d", res.Connected, s.Joined, s.Closed, clients)
			}
			if s.Back != clients || s.AllBack <= 0 || s.AllBack != s.BackMax || s.BackP50 > s.BackMax {
				t.Errorf("back %d, all back %v (p50 %v, max %v); want all %d", s.Back, s.AllBack, s.BackP50, s.BackMax, clients)
			}
			// The server was down 300 ms at least: nobody was back sooner.
			if s.BackP50 < 300*time.Millisecond || s.Attempts < clients {
				t.Errorf("back p50 %v with %d attempts: sooner than the server came back", s.BackP50, s.Attempts)
			}
			if s.CutOff != 0 || s.GaveUp != 0 || s.Renamed != 0 || res.Dropped != 0 {
				t.Errorf("cut off %d, gave up %d, renamed %d, dropped %d: want none (errors %v)", s.CutOff, s.GaveUp, s.Renamed, res.Dropped, res.Errors)
			}
			if s.UserDisconnected.Total != 0 {
				t.Errorf("user-disconnected %+v during the storm: nobody left", s.UserDisconnected)
			}
			switch tt.rejoin {
			case RejoinPage:
				if s.UserConnected.Total != 0 {
					t.Errorf("user-connected %+v: a returning person is no news", s.UserConnected)
				}
				if s.Rejoins < clients || s.Listed != clients || s.MemberNames < clients {
					t.Errorf("%d rejoins, %d listed, %d names: want each to rejoin and list", s.Rejoins, s.Listed, s.MemberNames)
				}
			case RejoinTutorial:
				// New identities: each return is announced to those back.
				if s.UserConnected.Total == 0 || s.UserConnected.Max >= clients {
					t.Errorf("user-connected %+v: want the returns announced, to each at most %d", s.UserConnected, clients-1)
				}
			}
			if !strings.Contains(text.String(), "others saw") || !strings.Contains(progress.String(), "back") {
				t.Errorf("no storm in the text or the progress")
			}
			checkJSON(t, res)
		})
	}
}

// TestRunRestartStormRefused checks that a storm whose server never comes
// back ends at its limit, with none back and the failures counted.
func TestRunRestartStormRefused(t *testing.T) {
	p := newRestartable(t)
	res, err := Run(context.Background(), Config{
		URL:        p.url(),
		Clients:    5,
		Duration:   time.Millisecond,
		Settle:     -1,
		StormLimit: 2 * time.Second,
		Restart: func(ctx context.Context) (int, error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			err := p.stop()
			p.stop = func() error { return nil }
			return 0, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Storm
	if s.Back != 0 || s.AllBack != 0 || s.FailedAttempts < 5 || res.Errors["attempt to come back: connect: connection refused"] == 0 {
		t.Errorf("back %d, all back %v, failed attempts %d, errors %v: want none back, refusals counted", s.Back, s.AllBack, s.FailedAttempts, res.Errors)
	}
	if len(res.Warnings) == 0 || !strings.Contains(strings.Join(res.Warnings, "; "), "not back") {
		t.Errorf("warnings %q: want the missing clients said", res.Warnings)
	}
}

// TestBackoffDelay checks the page's backoff: a second, doubling, up to
// five, within half of it either way.
func TestBackoffDelay(t *testing.T) {
	for _, tt := range []struct {
		n        int
		u        float64
		want     time.Duration
		low, top time.Duration
	}{
		{n: 0, u: 0.5, want: time.Second},
		{n: 0, u: 0, want: 500 * time.Millisecond},
		{n: 0, u: 0.999999, low: 1499 * time.Millisecond, top: 1500 * time.Millisecond},
		{n: 1, u: 0.5, want: 2 * time.Second},
		{n: 2, u: 0, want: 2 * time.Second},
		{n: 2, u: 0.9, want: 5 * time.Second}, // 7.2 s, capped
		{n: 3, u: 0, want: 4 * time.Second},
		{n: 40, u: 0, want: 5 * time.Second},
	} {
		got := backoffDelay(tt.n, tt.u)
		if tt.want != 0 && got != tt.want || tt.want == 0 && (got < tt.low || got > tt.top) {
			t.Errorf("backoffDelay(%d, %g) = %v, want %v (or %v to %v)", tt.n, tt.u, got, tt.want, tt.low, tt.top)
		}
	}
}

// TestPageReconnection checks that the storm's client waits and retries
// as the page does: the constants it copies are those of web/static.
func TestPageReconnection(t *testing.T) {
	read := func(name string) string {
		b, err := fsRead(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	client, config := read(web.ClientScript), read("js/config.js")
	for _, c := range []struct {
		text, re string
		want     float64
	}{
		{client, `reconnectionDelay:\s*(\d+)`, float64(pageReconnectDelay.Milliseconds())},
		{client, `reconnectionDelayMax:\s*(\d+)`, float64(pageReconnectDelayMax.Milliseconds())},
		{client, `randomizationFactor:\s*([\d.]+)`, pageRandomization},
		{client, `\btimeout:\s*(\d+)`, float64(pageOpenTimeout.Milliseconds())},
		{config, `JOIN_TIMEOUT_MS = (\d+)`, float64(pageJoinTimeout.Milliseconds())},
		{config, `REJOIN_DELAY_MS = (\d+)`, float64(pageRejoinDelay.Milliseconds())},
		{config, `REJOIN_RETRIES = (\d+)`, pageRejoinRetries},
		{config, `USERS_PAGE = (\d+)`, pageUsersPage},
		{config, `USERS_PAGES = (\d+)`, pageUsersPages},
		{config, `ROOMS_PAGE = (\d+)`, pageRoomsPage},
	} {
		m := regexp.MustCompile(c.re).FindStringSubmatch(c.text)
		if m == nil {
			t.Errorf("web/static has no %s", c.re)
			continue
		}
		if v, err := strconv.ParseFloat(m[1], 64); err != nil || math.Abs(v-c.want) > 1e-9 {
			t.Errorf("web/static: %s is %s, the bench has %g", c.re, m[1], c.want)
		}
	}
	// The delay: reconnectionDelay × 2^attempt, ± randomizationFactor of
	// it, capped: the formula _delay has.
	if !strings.Contains(client, "o.reconnectionDelay * Math.pow(2, this._attempts++)") ||
		!strings.Contains(client, "(Math.random() * 2 - 1) * o.randomizationFactor * ms") {
		t.Errorf("socket.io.js computes its backoff otherwise than backoffDelay")
	}
}

// fsRead reads a file of the page.
func fsRead(name string) ([]byte, error) {
	f, err := web.Static().Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// TestAckReply checks what the storm reads of answers.
func TestAckReply(t *testing.T) {
	for _, tt := range []struct {
		in   string
		id   uint64
		want ackReply
		bad  bool
	}{
		{in: `7[{"ok":true,"name":"Ann","users":["Ann","B\"o,b"],"next":"B\"o,b","token":"t"}]`, id: 7,
			want: ackReply{OK: true, Name: "Ann", Users: 2, Next: `B"o,b`, Token: "t"}},
		{in: `12[{"ok":false,"code":"rate_limited","error":"slow down"}]`, id: 12, want: ackReply{Code: codeRateLimited}},
		{in: `3[{"ok":true,"users":[]}]`, id: 3, want: ackReply{OK: true}},
		{in: `3[]`, id: 3, bad: true},
		{in: `[{"ok":true}]`, bad: true},
		{in: `4[{"ok":`, id: 4, bad: true},
	} {
		id, got, err := parseAckReply([]byte(tt.in))
		if (err != nil) != tt.bad || id != tt.id || !tt.bad && got != tt.want {
			t.Errorf("parseAckReply(%q) = %d, %+v, %v; want %d, %+v, bad %v", tt.in, id, got, err, tt.id, tt.want, tt.bad)
		}
	}
	if got, want := string(newUserAck(5, "Ann", "")), `42`+`5["new-user","Ann",{}]`; got != want {
		t.Errorf("new-user %s, want %s", got, want)
	}
	if got, want := string(newUserAck(6, "Ann", `a"b`)), `426["new-user","Ann",{"token":"a\"b"}]`; got != want {
		t.Errorf("new-user %s, want %s", got, want)
	}
	if got, want := string(listUsers(8, "Zoë")), `428["list-users",{"room":"general","limit":1000,"after":"Zoë"}]`; got != want {
		t.Errorf("list-users %s, want %s", got, want)
	}
}
