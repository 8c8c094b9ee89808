package main

import (
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
