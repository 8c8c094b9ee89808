package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/leaktest"
	"github.com/parley-chat/parley/web"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// defaults is the configuration with neither flags nor environment.
var defaults = config{
	Addr:             ":3000",
	LogLevel:         slog.LevelInfo,
	DevDir:           "web/static",
	MaxNameLength:    32,
	MaxMessageLength: 2000,
	ShutdownTimeout:  10 * time.Second,
	Store:            "parley.db",
	MaxConns:         10_000,
	MaxConnsPerIP:    100,
	BodyTimeout:      10 * time.Second,
	RoomsPerPerson:   10,
	RoomsPerIP:       30,
	MaxRooms:         1000,
	RoomIdle:         24 * time.Hour,
	NameReserve:      720 * time.Hour,
	PresenceGrace:    10 * time.Second,
	AdminMode:        "development",
}

// with returns defaults changed by f.
func with(f func(c *config)) config {
	c := defaults
	f(&c)
	return c
}

// env returns a getenv that reads from kv ("NAME=value" pairs) only.
func env(kv ...string) func(string) string {
	m := make(map[string]string)
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func TestParseConfig(t *testing.T) {
	allEnv := []string{
		"PARLEY_ADDR=127.0.0.1:4000",
		"PARLEY_ORIGINS=http://env.example",
		"PARLEY_LOG_LEVEL=warn",
		"PARLEY_DEV=true",
		"PARLEY_DEV_DIR=/env/static",
		"PARLEY_MAX_NAME=20",
		"PARLEY_MAX_MESSAGE=500",
		"PARLEY_STORE=postgres://db.example/parley",
	}
	fromAllEnv := with(func(c *config) {
		c.Addr = "127.0.0.1:4000"
		c.Origins = []string{"http://env.example"}
		c.LogLevel = slog.LevelWarn
		c.Dev = true
		c.DevDir = "/env/static"
		c.MaxNameLength = 20
		c.MaxMessageLength = 500
		c.Store = "postgres://db.example/parley"
	})
	tests := []struct {
		name    string
		args    []string
		env     []string
		want    config
		wantErr string // a substring of the error; "" for none
	}{
		{name: "defaults", want: defaults},
		{
			name: "flags",
			args: []string{
				"--addr", "127.0.0.1:8080", "--origins", "http://a.example,https://b.example:8443",
				"--log-level", "debug", "--dev", "--dev-dir", "/tmp/static",
				"--max-name", "10", "--max-message", "100", "--shutdown-timeout", "3s",
				"--store", "/tmp/history.db",
			},
			want: config{
				Addr:             "127.0.0.1:8080",
				Origins:          []string{"http://a.example", "https://b.example:8443"},
				LogLevel:         slog.LevelDebug,
				Dev:              true,
				DevDir:           "/tmp/static",
				MaxNameLength:    10,
				MaxMessageLength: 100,
				ShutdownTimeout:  3 * time.Second,
				Store:            "/tmp/history.db",
				MaxConns:         10_000,
				MaxConnsPerIP:    100,
				BodyTimeout:      10 * time.Second,
				RoomsPerPerson:   10,
				RoomsPerIP:       30,
				MaxRooms:         1000,
				RoomIdle:         24 * time.Hour,
				NameReserve:      720 * time.Hour,
				PresenceGrace:    10 * time.Second,
				AdminMode:        "development",
			},
		},
		{
			name: "single-dash flags and =",
			args: []string{"-addr=:9000", "-log-level=ERROR", "-dev=true"},
			want: with(func(c *config) { c.Addr, c.LogLevel, c.Dev = ":9000", slog.LevelError, true }),
		},
		{name: "environment", env: allEnv, want: fromAllEnv},
		{
			name: "flags win over the environment",
			args: []string{
				"--addr", ":5000", "--origins", "*", "--log-level", "error", "--dev=false",
				"--dev-dir", "/flag/static", "--max-name", "5", "--max-message", "50",
				"--store", "flag.db",
			},
			env: allEnv,
			want: with(func(c *config) {
				c.Store = "flag.db"
				c.Addr = ":5000"
				c.Origins = []string{"*"}
				c.LogLevel = slog.LevelError
				c.DevDir = "/flag/static"
				c.MaxNameLength = 5
				c.MaxMessageLength = 50
			}),
		},
		{
			name: "one flag wins, the environment fills the rest",
			args: []string{"--max-name", "7"},
			env:  allEnv,
			want: with(func(c *config) { *c = fromAllEnv; c.MaxNameLength = 7 }),
		},
		{name: "empty environment values are unset", env: []string{"PARLEY_ADDR=", "PARLEY_MAX_NAME=", "PARLEY_DEV="}, want: defaults},
		{
			name: "origins are trimmed, empty ones dropped",
			env:  []string{"PARLEY_ORIGINS= http://a.example , ,http://b.example,"},
			want: with(func(c *config) { c.Origins = []string{"http://a.example", "http://b.example"} }),
		},
		{
			name: "debug address",
			env:  []string{"PARLEY_DEBUG_ADDR=127.0.0.1:6060"},
			want: with(func(c *config) { c.DebugAddr = "127.0.0.1:6060" }),
		},
		{
			name: "debug address flag wins",
			args: []string{"--debug-addr", "127.0.0.1:6061"},
			env:  []string{"PARLEY_DEBUG_ADDR=127.0.0.1:6060"},
			want: with(func(c *config) { c.DebugAddr = "127.0.0.1:6061" }),
		},
		{
			name: "metrics address",
			env:  []string{"PARLEY_METRICS_ADDR=127.0.0.1:9090"},
			want: with(func(c *config) { c.MetricsAddr = "127.0.0.1:9090" }),
		},
		{
			name: "metrics address flag wins",
			args: []string{"--metrics-addr", "127.0.0.1:9091"},
			env:  []string{"PARLEY_METRICS_ADDR=127.0.0.1:9090"},
			want: with(func(c *config) { c.MetricsAddr = "127.0.0.1:9091" }),
		},
		{
			name: "guards from the environment",
			env: []string{
				"PARLEY_ALLOWED_HOSTS=Chat.Example.com, .example.org.",
				"PARLEY_TRUSTED_PROXIES=10.0.0.1, 192.168.0.0/16,::ffff:10.0.0.2, fd00::1:2/64",
				"PARLEY_MAX_CONNECTIONS=500", "PARLEY_MAX_CONNECTIONS_PER_IP=0", "PARLEY_BODY_TIMEOUT=3s",
			},
			want: with(func(c *config) {
				c.AllowedHosts = []string{"chat.example.com", ".example.org"}
				c.TrustedProxies = []netip.Prefix{
					netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("192.168.0.0/16"),
					netip.MustParsePrefix("10.0.0.2/32"), netip.MustParsePrefix("fd00::/64"),
				}
				c.MaxConns, c.MaxConnsPerIP, c.BodyTimeout = 500, 0, 3*time.Second
			}),
		},
		{
			name: "guard flags win",
			args: []string{"--allowed-hosts", "*", "--trusted-proxies", "127.0.0.1", "--max-connections", "0", "--max-connections-per-ip", "7", "--body-timeout", "1m"},
			env:  []string{"PARLEY_ALLOWED_HOSTS=chat.example.com", "PARLEY_TRUSTED_PROXIES=10.0.0.1", "PARLEY_MAX_CONNECTIONS=5", "PARLEY_MAX_CONNECTIONS_PER_IP=5", "PARLEY_BODY_TIMEOUT=3s"},
			want: with(func(c *config) {
				c.AllowedHosts = []string{"*"}
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
				c.MaxConns, c.MaxConnsPerIP, c.BodyTimeout = 0, 7, time.Minute
			}),
		},
		{name: "allowed host with a port", args: []string{"--allowed-hosts", "chat.example.com:443"}, wantErr: "allowed-hosts"},
		{name: "allowed host with a scheme", env: []string{"PARLEY_ALLOWED_HOSTS=https://chat.example.com"}, wantErr: "allowed-hosts"},
		{name: "allowed host wildcard", args: []string{"--allowed-hosts", "*.example.com"}, wantErr: "allowed-hosts"},
		{name: "bad trusted proxy", args: []string{"--trusted-proxies", "proxy.local"}, wantErr: "trusted-proxies"},
		{name: "bad trusted prefix", env: []string{"PARLEY_TRUSTED_PROXIES=10.0.0.0/33"}, wantErr: "trusted-proxies"},
		{name: "negative max connections", args: []string{"--max-connections", "-1"}, wantErr: "negative"},
		{name: "negative max connections per ip", env: []string{"PARLEY_MAX_CONNECTIONS_PER_IP=-1"}, wantErr: "negative"},
		{name: "max connections not a number", env: []string{"PARLEY_MAX_CONNECTIONS=lots"}, wantErr: "PARLEY_MAX_CONNECTIONS"},
		{name: "zero body timeout", args: []string{"--body-timeout", "0s"}, wantErr: "body-timeout"},
		{
			name: "room caps from the environment",
			env:  []string{"PARLEY_ROOMS_PER_PERSON=3", "PARLEY_ROOMS_PER_IP=0", "PARLEY_MAX_ROOMS=50", "PARLEY_ROOM_IDLE=1h"},
			want: with(func(c *config) { c.RoomsPerPerson, c.RoomsPerIP, c.MaxRooms, c.RoomIdle = 3, 0, 50, time.Hour }),
		},
		{
			name: "room cap flags win",
			args: []string{"--rooms-per-person", "0", "--rooms-per-ip", "5", "--max-rooms", "0", "--room-idle", "30m"},
			env:  []string{"PARLEY_ROOMS_PER_PERSON=3", "PARLEY_ROOMS_PER_IP=1", "PARLEY_MAX_ROOMS=50", "PARLEY_ROOM_IDLE=1h"},
			want: with(func(c *config) { c.RoomsPerPerson, c.RoomsPerIP, c.MaxRooms, c.RoomIdle = 0, 5, 0, 30*time.Minute }),
		},
		{name: "negative rooms per person", args: []string{"--rooms-per-person", "-1"}, wantErr: "negative"},
		{name: "negative max rooms", env: []string{"PARLEY_MAX_ROOMS=-2"}, wantErr: "negative"},
		{name: "zero room idle", args: []string{"--room-idle", "0s"}, wantErr: "room-idle"},
		{name: "room idle not a duration", env: []string{"PARLEY_ROOM_IDLE=a day"}, wantErr: "PARLEY_ROOM_IDLE"},
		{
			name: "identities from the environment",
			env: []string{
				"PARLEY_NAME_RESERVE=48h", "PARLEY_JWT_SECRET=0123456789abcdef0123456789abcdef",
				"PARLEY_JWT_ISSUER=https://app.example", "PARLEY_JWT_AUDIENCE=parley",
			},
			want: with(func(c *config) {
				c.NameReserve, c.JWTSecret = 48*time.Hour, "0123456789abcdef0123456789abcdef"
				c.JWTIssuer, c.JWTAudience = "https://app.example", "parley"
			}),
		},
		{
			name: "identity flags win",
			args: []string{"--name-reserve", "1h", "--jwt-public-key", "/etc/app.pem", "--jwt-secret="},
			env:  []string{"PARLEY_NAME_RESERVE=48h", "PARLEY_JWT_SECRET=0123456789abcdef0123456789abcdef"},
			want: with(func(c *config) { c.NameReserve, c.JWTPublicKey = time.Hour, "/etc/app.pem" }),
		},
		{name: "zero name reserve", args: []string{"--name-reserve", "0s"}, wantErr: "name-reserve"},
		{name: "presence grace", env: []string{"PARLEY_PRESENCE_GRACE=2s"}, want: with(func(c *config) { c.PresenceGrace = 2 * time.Second })},
		{name: "no presence grace", args: []string{"--presence-grace", "0"}, want: with(func(c *config) { c.PresenceGrace = 0 })},
		{name: "negative presence grace", args: []string{"--presence-grace", "-1s"}, wantErr: "presence-grace"},
		{name: "both JWT keys", args: []string{"--jwt-secret", "s", "--jwt-public-key", "k.pem"}, wantErr: "give one"},
		{name: "JWT issuer without a key", env: []string{"PARLEY_JWT_ISSUER=https://app.example"}, wantErr: "jwt-issuer"},
		{
			name: "redis", args: []string{"--redis", "redis://r.example:6379/2", "--store", "postgres://db.example/parley"},
			want: with(func(c *config) { c.Redis, c.Store = "redis://r.example:6379/2", "postgres://db.example/parley" }),
		},
		{
			name: "PARLEY_REDIS", env: []string{"PARLEY_REDIS=redis+cluster://h1,h2", "PARLEY_STORE=postgresql://db.example/parley"},
			want: with(func(c *config) { c.Redis, c.Store = "redis+cluster://h1,h2", "postgresql://db.example/parley" }),
		},
		{name: "redis with SQLite", args: []string{"--redis", "redis://r.example"}, wantErr: "--redis needs a shared store"},
		{name: "redis with memory", args: []string{"--redis", "redis://r.example", "--store", "memory"}, wantErr: "--redis needs a shared store"},
		{name: "bad redis URL", args: []string{"--redis", "http://r.example", "--store", "postgres://db/p"}, wantErr: "--redis: scheme"},
		{name: "PARLEY_DEV=1", env: []string{"PARLEY_DEV=1"}, want: with(func(c *config) { c.Dev = true })},
		{name: "PARLEY_DEV=false", env: []string{"PARLEY_DEV=false"}, want: defaults},
		{name: "admin UI", env: []string{"PARLEY_ADMIN_USER=root", "PARLEY_ADMIN_PASSWORD_HASH=$2y$10$abc", "PARLEY_ADMIN_MODE=production"},
			want: with(func(c *config) { c.AdminUser, c.AdminPasswordHash, c.AdminMode = "root", "$2y$10$abc", "production" })},
		{name: "admin user without hash", env: []string{"PARLEY_ADMIN_USER=root"}, wantErr: "give both, or neither"},
		{name: "admin hash without user", args: []string{"--admin-password-hash", "$2y$10$abc"}, wantErr: "give both, or neither"},
		{name: "bad admin mode", env: []string{"PARLEY_ADMIN_MODE=staging"}, wantErr: "want development or production"},

		{name: "unknown flag", args: []string{"--port", "80"}, wantErr: "flag provided but not defined"},
		{name: "extra argument", args: []string{"--dev", "serve"}, wantErr: "unexpected arguments"},
		{name: "bad log level", args: []string{"--log-level", "loud"}, wantErr: "log-level"},
		{name: "bad PARLEY_LOG_LEVEL", env: []string{"PARLEY_LOG_LEVEL=loud"}, wantErr: "PARLEY_LOG_LEVEL"},
		{name: "max-name not a number", args: []string{"--max-name", "many"}, wantErr: "max-name"},
		{name: "max-name zero", args: []string{"--max-name", "0"}, wantErr: "positive"},
		{name: "max-message negative", args: []string{"--max-message", "-1"}, wantErr: "positive"},
		{name: "bad shutdown timeout", args: []string{"--shutdown-timeout", "soon"}, wantErr: "shutdown-timeout"},
		{name: "bad --dev", args: []string{"--dev=maybe"}, wantErr: "dev"},
		{name: "PARLEY_MAX_NAME zero", env: []string{"PARLEY_MAX_NAME=0"}, wantErr: "positive"},
		{name: "PARLEY_MAX_MESSAGE negative", env: []string{"PARLEY_MAX_MESSAGE=-5"}, wantErr: "positive"},
		// A typo in the environment must not silently become the default.
		{name: "PARLEY_MAX_NAME not a number", env: []string{"PARLEY_MAX_NAME=lots"}, wantErr: "PARLEY_MAX_NAME"},
		{name: "PARLEY_MAX_MESSAGE not a number", env: []string{"PARLEY_MAX_MESSAGE=2k"}, wantErr: "PARLEY_MAX_MESSAGE"},
		{name: "PARLEY_DEV not a boolean", env: []string{"PARLEY_DEV=yes"}, wantErr: "PARLEY_DEV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			got, err := parseConfig(tt.args, env(tt.env...), &stderr)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("parseConfig(%q, %q) = %+v, want an error containing %q", tt.args, tt.env, got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseConfig(%q, %q) error %q, want it to contain %q", tt.args, tt.env, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig(%q, %q): %v\n%s", tt.args, tt.env, err, stderr.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseConfig(%q, %q)\n got %+v\nwant %+v", tt.args, tt.env, got, tt.want)
			}
		})
	}
}

// TestParseConfigHelp checks that -h prints every flag with its variable.
func TestParseConfigHelp(t *testing.T) {
	var stderr bytes.Buffer
	_, err := parseConfig([]string{"-h"}, env(), &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseConfig(-h) error %v, want flag.ErrHelp", err)
	}
	for _, s := range []string{"parley bench", "-addr", "PARLEY_ADDR", "-origins", "PARLEY_ORIGINS", "-log-level", "PARLEY_LOG_LEVEL",
		"-dev", "PARLEY_DEV", "-max-name", "PARLEY_MAX_NAME", "-max-message", "PARLEY_MAX_MESSAGE", "-shutdown-timeout",
		"-allowed-hosts", "PARLEY_ALLOWED_HOSTS", "-trusted-proxies", "PARLEY_TRUSTED_PROXIES",
		"-max-connections", "PARLEY_MAX_CONNECTIONS", "-max-connections-per-ip", "PARLEY_MAX_CONNECTIONS_PER_IP",
		"-body-timeout", "PARLEY_BODY_TIMEOUT", "-rooms-per-person", "PARLEY_ROOMS_PER_PERSON", "-rooms-per-ip",
		"PARLEY_ROOMS_PER_IP", "-max-rooms", "PARLEY_MAX_ROOMS", "-room-idle", "PARLEY_ROOM_IDLE",
		"-name-reserve", "PARLEY_NAME_RESERVE", "-presence-grace", "PARLEY_PRESENCE_GRACE", "-jwt-secret", "PARLEY_JWT_SECRET",
		"-jwt-public-key", "PARLEY_JWT_PUBLIC_KEY", "-jwt-issuer", "PARLEY_JWT_ISSUER", "-jwt-audience", "PARLEY_JWT_AUDIENCE",
		"-redis", "PARLEY_REDIS"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("usage lacks %q:\n%s", s, stderr.String())
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use: run's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// server is a running run().
type server struct {
	URL    string // as run printed it
	cancel context.CancelFunc
	done   chan error // run's result
	log    *lockedBuffer
	http   *http.Client
}

// runningRE matches what run prints once it listens.
var runningRE = regexp.MustCompile(`^parley is running: open (http://localhost:\d+) in your browser\n$`)

// startRun calls run(ctx, args, getenv, ...) and returns once it has
// printed its URL. The test's cleanup stops it if the test has not.
func startRun(t *testing.T, args []string, getenv func(string) string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{
		cancel: cancel,
		done:   make(chan error, 1),
		log:    &lockedBuffer{},
		http:   &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}},
	}
	// Each run keeps its history in a database of its own.
	args = append([]string{"--store", filepath.Join(t.TempDir(), "parley.db")}, args...)
	go func() {
		err := run(ctx, args, getenv, pw, s.log)
		pw.Close()
		s.done <- err
	}()
	line := make(chan string, 1)
	go func() {
		br := bufio.NewReader(pr)
		l, _ := br.ReadString('\n')
		line <- l
		_, _ = io.Copy(io.Discard, br) // never block run's stdout
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Errorf("run did not return after its context was canceled\n%s", s.log)
		}
		s.http.CloseIdleConnections()
		if t.Failed() {
			t.Logf("run's log:\n%s", s.log)
		}
	})
	select {
	case l := <-line:
		m := runningRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("run printed %q, want %q\n%s", l, runningRE, s.log)
		}
		s.URL = m[1]
	case err := <-s.done:
		s.done <- err
		t.Fatalf("run returned before listening: %v\n%s", err, s.log)
	case <-time.After(10 * time.Second):
		t.Fatalf("run printed nothing within 10 s\n%s", s.log)
	}
	return s
}

// stop cancels run's context and returns its result, failing the test if
// it takes longer than d.
func (s *server) stop(t *testing.T, d time.Duration) error {
	t.Helper()
	start := time.Now()
	s.cancel()
	return s.wait(t, d, start)
}

// wait returns run's result, failing the test if it takes longer than d
// from start.
func (s *server) wait(t *testing.T, d time.Duration, start time.Time) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		t.Logf("run returned after %v", time.Since(start).Round(time.Millisecond))
		return err
	case <-time.After(d - time.Since(start)):
		t.Fatalf("run did not return within %v of the shutdown", d)
		return nil
	}
}

// get fetches path and returns the response, with its body read.
func (s *server) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := s.http.Get(s.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	return resp, string(body)
}

// closed reports whether ch is closed, waiting at most d.
func closed(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// embedded returns the embedded file name.
func embedded(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(web.Static(), name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// chatter is a Go Socket.IO client that has joined the chat.
type chatter struct {
	c        *sioclient.Client
	so       *sioclient.Socket
	messages chan string // the messages of chat-message events
	// lastUserID is the userId of the last message sent on messages,
	// written before it is sent.
	lastUserID string
}

// join connects over transport and joins the chat as name.
func join(t *testing.T, ctx context.Context, url string, transport sioclient.Transport, name string) *chatter {
	t.Helper()
	ch := join0(t, ctx, url, transport)
	reply := ch.ack(t, ctx, "new-user", name)
	if !reply.OK || reply.Name != name {
		t.Fatalf("%s: new-user: %+v", name, reply)
	}
	return ch
}

// join0 connects over transport, without joining the chat.
func join0(t *testing.T, ctx context.Context, url string, transport sioclient.Transport) *chatter {
	t.Helper()
	c, err := sioclient.Dial(ctx, url, &sioclient.Options{Transport: transport})
	if err != nil {
		t.Fatalf("dial over %s: %v", transport, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ch := &chatter{c: c, so: c.Socket("/"), messages: make(chan string, 16)}
	ch.so.On("chat-message", func(e *sioclient.Event) {
		var m struct{ Name, Message, UserID string }
		if err := e.Bind(0, &m); err == nil {
			ch.lastUserID = m.UserID
			ch.messages <- m.Name + ": " + m.Message
		}
	})
	if err := ch.so.Connect(ctx, nil); err != nil {
		t.Fatalf("connect: %v", err)
	}
	return ch
}

// reply is an acknowledgement of the chat.
type reply struct {
	OK    bool     `json:"ok"`
	Name  string   `json:"name"`
	Users []string `json:"users"`
	Error string   `json:"error"`
}

func (ch *chatter) ack(t *testing.T, ctx context.Context, event string, args ...any) reply {
	t.Helper()
	msg, err := ch.so.EmitWithAck(ctx, event, args...)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	var r reply
	if err := msg.Bind(0, &r); err != nil {
		t.Fatalf("%s: ack: %v", event, err)
	}
	return r
}

// TestRun runs the command as main does: it serves the page, the health
// check, the client library and Socket.IO on the address it prints, and on
// cancel it flushes, closes every connection and returns nil.
func TestRun(t *testing.T) {
	t.Parallel()
	s := startRun(t, []string{"--addr", "127.0.0.1:0", "--shutdown-timeout", "5s"}, env())

	t.Run("page", func(t *testing.T) {
		resp, body := s.get(t, "/")
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type %q, want text/html", ct)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); csp != contentSecurityPolicy {
			t.Errorf("Content-Security-Policy %q, want %q", csp, contentSecurityPolicy)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("X-Content-Type-Options %q, want nosniff", got)
		}
		if body != embedded(t, "index.html") {
			t.Errorf("GET / is not the embedded index.html:\n%.300s", body)
		}
		if !strings.Contains(body, `src="/socket.io/socket.io.js"`) {
			t.Errorf("the page does not load /socket.io/socket.io.js")
		}
	})
	t.Run("healthz", func(t *testing.T) {
		resp, body := s.get(t, "/healthz")
		if body != "ok\n" {
			t.Errorf("body %q, want %q", body, "ok\n")
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", cc)
		}
	})
	t.Run("client library", func(t *testing.T) {
		resp, body := s.get(t, "/socket.io/socket.io.js")
		if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
			t.Errorf("Content-Type %q, want JavaScript", ct)
		}
		if body != embedded(t, web.ClientScript) {
			t.Errorf("/socket.io/socket.io.js is not the embedded client")
		}
		if !regexp.MustCompile(`\.io\s*=\s*io\b`).MatchString(body) {
			t.Errorf("/socket.io/socket.io.js does not define the global io")
		}
	})
	t.Run("not found", func(t *testing.T) {
		resp, err := s.http.Get(s.URL + "/no-such-file.html")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /no-such-file.html: %s, want 404", resp.Status)
		}
	})

	// Three people chat, over WebSocket, polling, and polling upgraded to
	// WebSocket.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ann := join(t, ctx, s.URL, sioclient.TransportWebSocket, "Ann")
	bob := join(t, ctx, s.URL, sioclient.TransportPolling, "Bob")
	cy := join(t, ctx, s.URL, sioclient.TransportUpgrade, "Cy")
	if r := ann.ack(t, ctx, "send-chat-message", "hello Bob"); !r.OK {
		t.Fatalf("send-chat-message: %+v", r)
	}
	for _, ch := range []*chatter{bob, cy} {
		select {
		case m := <-ch.messages:
			if m != "Ann: hello Bob" {
				t.Fatalf("got %q", m)
			}
		case <-ctx.Done():
			t.Fatal("the message did not arrive")
		}
	}
	// The acknowledgement means the message is queued for Bob; the
	// shutdown must deliver it before closing his connection.
	if r := ann.ack(t, ctx, "send-chat-message", "goodbye Bob"); !r.OK {
		t.Fatalf("send-chat-message: %+v", r)
	}

	if err := s.stop(t, 10*time.Second); err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, ch := range []*chatter{ann, bob, cy} {
		name := ch.c.Engine().Transport()
		if !closed(ch.c.Done(), 5*time.Second) {
			t.Fatalf("the %s client's connection was not closed by the shutdown", name)
		}
		if err := ch.c.Engine().Err(); !errors.Is(err, sioclient.ErrServerClosed) {
			t.Errorf("the %s client's connection ended with %v, want %v", name, err, sioclient.ErrServerClosed)
		}
		if ch.so.Connected() {
			t.Errorf("the %s client's socket is still connected", name)
		}
	}
	for _, ch := range []*chatter{bob, cy} {
		select {
		case m := <-ch.messages:
			if m != "Ann: goodbye Bob" {
				t.Errorf("got %q, want the last message", m)
			}
		default:
			t.Errorf("the shutdown did not flush the last message to the %s client", ch.c.Engine().Transport())
		}
	}
	if _, err := s.http.Get(s.URL + "/healthz"); err == nil {
		t.Error("GET /healthz succeeded after run returned")
	}
	for _, want := range []string{`msg=listening`, `msg="shutting down"`, `msg=stopped`} {
		if !strings.Contains(s.log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, s.log)
		}
	}
}

// TestRunVanishedPollingClient checks that a polling client that stops
// polling cannot hold up the shutdown beyond --shutdown-timeout.
func TestRunVanishedPollingClient(t *testing.T) {
	t.Parallel()
	s := startRun(t, []string{"--addr", "127.0.0.1:0", "--shutdown-timeout", "1s"}, env())
	// Open a polling session by hand, and never poll again.
	_, body := s.get(t, "/socket.io/?EIO=4&transport=polling")
	if !strings.HasPrefix(body, `0{"sid":"`) {
		t.Fatalf("handshake: %q", body)
	}
	err := s.stop(t, 5*time.Second)
	t.Logf("run: %v", err)
}

// TestRunSilentConnection checks that connections which never send a
// request (HTTP clients open spare ones, and keep them unused) do not hold
// up the shutdown: net/http alone waits 5 s for each to speak.
func TestRunSilentConnection(t *testing.T) {
	t.Parallel()
	s := startRun(t, []string{"--addr", "127.0.0.1:0", "--shutdown-timeout", "10s"}, env())
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	var silent []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	// A request on another connection: the server has accepted the
	// silent ones by the time it answers it.
	s.get(t, "/healthz")
	start := time.Now()
	if err := s.stop(t, 10*time.Second); err != nil {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the shutdown took %v with silent connections open, want well under net/http's 5 s", took)
	}
	for i, c := range silent {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("silent connection %d: read %d bytes, %v; want it closed by the shutdown", i, n, err)
		}
	}
}

// TestRunSignal checks that SIGTERM stops run gracefully. It must not run
// in parallel with other tests that call run: they would stop too.
func TestRunSignal(t *testing.T) {
	s := startRun(t, []string{"--addr", "127.0.0.1:0"}, env())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ann := join(t, ctx, s.URL, sioclient.TransportWebSocket, "Ann")
	start := time.Now()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t, 10*time.Second, start); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !closed(ann.c.Done(), 5*time.Second) {
		t.Fatal("the client's connection was not closed by the shutdown")
	}
}

// TestRunDev serves the page from a directory with --dev, configured from
// the environment: edits show on the next request, without a rebuild or a
// restart.
func TestRunDev(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, web.Static()); err != nil {
		t.Fatal(err)
	}
	edit := func(name, old, new string) {
		t.Helper()
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if old == "" {
			s += new
		} else if s = strings.Replace(s, old, new, 1); s == string(b) {
			t.Fatalf("%s has no %q", name, old)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit("index.html", "<title>Parley</title>", "<title>Parley dev-edit-1</title>")

	s := startRun(t, nil, env("PARLEY_ADDR=127.0.0.1:0", "PARLEY_DEV=1", "PARLEY_DEV_DIR="+dir))
	resp, body := s.get(t, "/")
	if !strings.Contains(body, "dev-edit-1") {
		t.Fatalf("GET / does not show the edit:\n%.300s", body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); csp != contentSecurityPolicy {
		t.Errorf("Content-Security-Policy %q, want %q", csp, contentSecurityPolicy)
	}

	edit("index.html", "dev-edit-1", "dev-edit-2")
	if _, body := s.get(t, "/"); !strings.Contains(body, "dev-edit-2") {
		t.Fatalf("GET / does not show the second edit:\n%.300s", body)
	}
	edit(web.ClientScript, "", "\n/* dev-edit-3 */\n")
	if _, body := s.get(t, "/socket.io/socket.io.js"); !strings.HasSuffix(body, "/* dev-edit-3 */\n") {
		t.Fatalf("/socket.io/socket.io.js does not show the edit:\n...%s", body[max(0, len(body)-200):])
	}
	if err := s.stop(t, 10*time.Second); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestRunErrors checks that run returns, with a useful error, when it
// cannot start.
func TestRunErrors(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"bad flag", []string{"--max-name", "0"}, "positive"},
		{"missing dev dir", []string{"--addr", "127.0.0.1:0", "--dev", "--dev-dir", filepath.Join(t.TempDir(), "nope")}, "--dev"},
		{"address in use", []string{"--addr", busy.Addr().String()}, "listening on " + busy.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stdout, stderr lockedBuffer
			args := append([]string{"--store", filepath.Join(t.TempDir(), "parley.db")}, tt.args...)
			err := run(ctx, args, env(), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
			if ctx.Err() != nil {
				t.Fatalf("run(%q) returned only after its context ended", tt.args)
			}
			if stdout.String() != "" {
				t.Errorf("run(%q) printed %q", tt.args, stdout.String())
			}
		})
	}
}

// TestHelpExitsZero checks the built command: asking for help is no
// failure, and the usage names both ways to run parley; a wrong flag is.
func TestHelpExitsZero(t *testing.T) {
	bin := buildParley(t)
	for _, tt := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"--help"}, 0, "parley bench [flags]"},
		{[]string{"-h"}, 0, "-max-connections"},
		{[]string{"bench", "-h"}, 0, "-clients"},
		{[]string{"--no-such-flag"}, 1, "flag provided but not defined"},
	} {
		out, err := exec.Command(bin, tt.args...).CombinedOutput()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("parley %q: %v", tt.args, err)
		}
		if code != tt.wantCode || !strings.Contains(string(out), tt.want) {
			t.Errorf("parley %q: exit %d, want %d; output lacks %q?\n%s", tt.args, code, tt.wantCode, tt.want, out)
		}
	}
}

// TestSilentConns checks which connections a shutdown closes at once: those
// in StateNew only, whatever states the others went through.
func TestSilentConns(t *testing.T) {
	tests := []struct {
		name   string
		states []http.ConnState
		closed bool
	}{
		{"accepted, silent", []http.ConnState{http.StateNew}, true},
		{"reading a request", []http.ConnState{http.StateNew, http.StateActive}, false},
		{"idle between requests", []http.ConnState{http.StateNew, http.StateActive, http.StateIdle}, false},
		{"hijacked", []http.ConnState{http.StateNew, http.StateActive, http.StateHijacked}, false},
		{"closed", []http.ConnState{http.StateNew, http.StateClosed}, false},
	}
	s := &silentConns{conns: make(map[net.Conn]struct{})}
	peers := make([]net.Conn, len(tests))
	for i, tt := range tests {
		c, peer := net.Pipe()
		t.Cleanup(func() { c.Close(); peer.Close() })
		peers[i] = peer
		for _, st := range tt.states {
			s.track(c, st)
		}
	}
	s.closeAll()
	for i, tt := range tests {
		// A read from the peer ends at once with EOF when the connection
		// was closed; otherwise it waits for its deadline.
		_ = peers[i].SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err := peers[i].Read(make([]byte, 1))
		if closed := errors.Is(err, io.EOF); closed != tt.closed {
			t.Errorf("%s: closed %v (%v), want %v", tt.name, closed, err, tt.closed)
		}
	}
	if n := len(s.conns); n != 0 {
		t.Errorf("%d connections still held after closeAll", n)
	}
}

// BenchmarkSilentConnsTrack is the ConnState hook's cost on a keep-alive
// connection's every request: to active and back to idle.
func BenchmarkSilentConnsTrack(b *testing.B) {
	s := &silentConns{conns: make(map[net.Conn]struct{})}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c, peer := net.Pipe()
		defer c.Close()
		defer peer.Close()
		s.track(c, http.StateNew)
		for pb.Next() {
			s.track(c, http.StateActive)
			s.track(c, http.StateIdle)
		}
	})
}
