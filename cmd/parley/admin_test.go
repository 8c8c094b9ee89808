package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/store/postgres/pgtest"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/testjs"
	"github.com/parley-chat/parley/internal/test/wait"
)

// adminPassword is the Admin UI's password in the tests; adminHash returns
// its bcrypt hash, of the lowest cost, to keep logins quick.
const adminPassword = "correct horse battery staple"

func adminHash(t testing.TB) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(adminPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// TestOfficialClientAdmin plays the Admin UI's side of its protocol with
// the official socket.io-client against parley with the Admin UI on, in
// development and production modes, and checks that without it there is
// no /admin namespace (test/js/admin-official.test.mjs).
func TestOfficialClientAdmin(t *testing.T) {
	testjs.RequireNode(t)
	t.Parallel()
	hash := adminHash(t)
	dev := newTestApp(t, config{AdminUser: "root", AdminPasswordHash: hash, AdminMode: "development"})
	prod := newTestApp(t, config{AdminUser: "root", AdminPasswordHash: hash, AdminMode: "production"})
	off := newTestApp(t, config{})
	testjs.Run(t, 2*time.Minute, "admin-official.test.mjs",
		"PARLEY_URL="+dev.URL, "PARLEY_PROD_URL="+prod.URL, "PARLEY_OFF_URL="+off.URL,
		"PARLEY_ADMIN_USER=root", "PARLEY_ADMIN_PASSWORD="+adminPassword)
}

// TestBrowserAdminUI opens the official Admin UI, the built page of the
// npm package @socket.io/admin-ui (test/js's node_modules), served by the
// test from another origin that --origins allows, in headless Chromium:
// it logs in to parley through the UI's form and shows the connected
// clients and the sockets of "/" (test/js/browser-admin.mjs). Screenshots
// go to PARLEY_SHOTS when set.
func TestBrowserAdminUI(t *testing.T) {
	testjs.RequireBrowser(t)
	dist := filepath.Join(testjs.Dir(t), "node_modules", "@socket.io", "admin-ui", "ui", "dist")
	if _, err := os.Stat(filepath.Join(dist, "index.html")); err != nil {
		t.Fatalf("the Admin UI's page: %v (run: npm ci --prefix test/js)", err)
	}
	ui := httptest.NewUnstartedServer(http.FileServer(http.Dir(dist)))
	t.Cleanup(ui.Close)
	uiURL := "http://" + ui.Listener.Addr().String()
	ui.Start()
	parley := newTestApp(t, config{Origins: []string{uiURL}, AdminUser: "root", AdminPasswordHash: adminHash(t)})
	shots := os.Getenv("PARLEY_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	testjs.Run(t, 2*time.Minute, "browser-admin.mjs",
		"PARLEY_URL="+parley.URL, "PARLEY_ADMIN_UI="+uiURL+"/index.html",
		"PARLEY_ADMIN_USER=root", "PARLEY_ADMIN_PASSWORD="+adminPassword, "PARLEY_SHOTS="+shots)
}

// TestAdminCluster runs two nodes with --redis and the Admin UI on, and a
// UI logged in to the first: it lists the sockets of both, hears of a
// socket that connects to the second and of its room joined by a command
// sent to the first, gets both nodes' stats, and its session id logs in on
// the second. It needs PARLEY_TEST_REDIS and PARLEY_TEST_POSTGRES.
func TestAdminCluster(t *testing.T) {
	rs := redistest.Server(t)
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", pgtest.Schema(t))
	u.RawQuery = q.Encode()
	args := []string{"--addr", "127.0.0.1:0", "--shutdown-timeout", "5s", "--store", u.String(), "--redis", rs.URL()}
	getenv := env("PARLEY_ADMIN_USER=root", "PARLEY_ADMIN_PASSWORD_HASH="+adminHash(t))
	n1 := startRun(t, args, getenv)
	n2 := startRun(t, args, getenv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	dial := func(url string) *sioclient.Client {
		c, err := sioclient.Dial(ctx, url+"/socket.io/", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a1, err := dial(n1.URL).Connect(ctx, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := dial(n2.URL).Connect(ctx, "/", nil)
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu     sync.Mutex
		events []*sioclient.Event
	)
	named := func(name string) []*sioclient.Event {
		mu.Lock()
		defer mu.Unlock()
		var list []*sioclient.Event
		for _, e := range events {
			if e.Name == name {
				list = append(list, e)
			}
		}
		return list
	}
	ui := dial(n1.URL).Socket("/admin")
	ui.OnAny(func(e *sioclient.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	})
	if err := ui.Connect(ctx, map[string]string{"username": "root", "password": adminPassword}); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "all_sockets", 10*time.Second, func() bool { return len(named("all_sockets")) == 1 })
	var all []struct{ ID, Nsp string }
	if err := named("all_sockets")[0].Bind(0, &all); err != nil {
		t.Fatal(err)
	}
	var main []string
	for _, s := range all {
		if s.Nsp == "/" {
			main = append(main, s.ID)
		}
	}
	slices.Sort(main)
	want := []string{a1.ID(), a2.ID()}
	slices.Sort(want)
	if !slices.Equal(main, want) {
		t.Fatalf("all_sockets lists %q of /, want both nodes' %q", main, want)
	}

	// A socket that connects to the second node, and joins a room by the
	// first node's command.
	b2, err := dial(n2.URL).Connect(ctx, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	has := func(name string, pred func(e *sioclient.Event) bool) func() bool {
		return func() bool { return slices.ContainsFunc(named(name), pred) }
	}
	wait.For(t, "socket_connected from the other node", 10*time.Second, has("socket_connected", func(e *sioclient.Event) bool {
		var s struct{ ID string }
		return e.Bind(0, &s) == nil && s.ID == b2.ID()
	}))
	if err := ui.Emit("join", "/", "across", b2.ID()); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "room_joined on the other node", 10*time.Second, has("room_joined", func(e *sioclient.Event) bool {
		room, _ := e.String(1)
		id, _ := e.String(2)
		return room == "across" && id == b2.ID()
	}))
	// Both nodes' stats, each with an id of its own.
	wait.For(t, "two servers", 10*time.Second, func() bool {
		ids := map[string]bool{}
		for _, e := range named("server_stats") {
			var s struct{ ServerID string }
			if e.Bind(0, &s) == nil {
				ids[s.ServerID] = true
			}
		}
		return len(ids) == 2
	})
	// The session id, kept in Redis, logs in on the other node.
	wait.For(t, "session", 10*time.Second, func() bool { return len(named("session")) == 1 })
	sid, _ := named("session")[0].String(0)
	if err := dial(n2.URL).Socket("/admin").Connect(ctx, map[string]string{"sessionId": sid}); err != nil {
		t.Fatalf("session login on the other node: %v", err)
	}
	for _, n := range []*server{n1, n2} {
		if err := n.stop(t, 10*time.Second); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
}
