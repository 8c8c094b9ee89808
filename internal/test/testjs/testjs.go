// Package testjs runs the project's JavaScript test scripts (test/js) from
// Go tests: the official Socket.IO client as an interop peer, and browser
// tests in headless Chromium (Run), and long-running peers a test drives,
// such as a Node.js Socket.IO server (Start, Fixture). It is for tests
// only.
package testjs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Chromium is where Debian installs its Chromium.
const Chromium = "/usr/bin/chromium"

// Dir returns the test/js directory of the repository.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testjs: cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "test", "js")
}

// RequireNode skips the test when Node.js or the test packages are missing,
// unless PARLEY_REQUIRE_NODE is set, in which case it fails.
func RequireNode(t testing.TB) {
	t.Helper()
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat(filepath.Join(Dir(t), "node_modules")); err != nil {
		missing = "test/js/node_modules is missing (run: npm ci --prefix test/js)"
	}
	if missing == "" {
		return
	}
	if os.Getenv("PARLEY_REQUIRE_NODE") != "" {
		t.Fatalf("testjs: %s, and PARLEY_REQUIRE_NODE is set", missing)
	}
	t.Skipf("skipped: %s", missing)
}

// RequireBrowser skips the test when Chromium is missing, unless
// PARLEY_REQUIRE_BROWSER is set, in which case it fails.
func RequireBrowser(t testing.TB) {
	t.Helper()
	RequireNode(t)
	if _, err := os.Stat(Chromium); err == nil {
		return
	}
	if os.Getenv("PARLEY_REQUIRE_BROWSER") != "" {
		t.Fatalf("testjs: %s is missing, and PARLEY_REQUIRE_BROWSER is set (apt-get install chromium)", Chromium)
	}
	t.Skipf("skipped: browser test needs Debian's chromium at %s (apt-get install chromium)", Chromium)
}

// Run runs `node --test script` in test/js with env added to the
// environment, and fails the test with node's output if it fails.
func Run(t testing.TB, timeout time.Duration, script string, env ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", script)
	cmd.Dir = Dir(t)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if testing.Verbose() || err != nil {
		t.Logf("node --test %s:\n%s", script, indent(string(out)))
	}
	if ctx.Err() != nil {
		t.Fatalf("node --test %s: timed out after %v", script, timeout)
	}
	if err != nil {
		t.Fatalf("node --test %s: %v", script, err)
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
