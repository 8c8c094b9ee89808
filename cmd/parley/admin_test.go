package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parley-chat/parley/internal/test/testjs"
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
