// Package leaktest finds goroutines a test binary leaves running. Use it
// from TestMain:
//
//	func TestMain(m *testing.M) { leaktest.Main(m) }
//
// It compares the goroutines alive after the tests with the ones the
// runtime and the testing package own, waiting a grace period for the
// others to exit. It has no dependencies beyond the standard library.
package leaktest

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Grace is how long Check waits for goroutines to exit.
var Grace = 5 * time.Second

// ignored are substrings of the stacks of goroutines that are not leaks:
// the runtime's, the testing package's, signal handling's.
var ignored = []string{
	"testing.(*M).",
	"testing.(*F).Fuzz",
	"testing.runFuzzing",
	"testing.runFuzzTests",
	"testing/internal/testdeps.",
	"internal/fuzz.",
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime.ensureSigM",
	"runtime/trace.",
	"runtime.goexit0",
}

// Main runs the tests, then fails the binary if goroutines leaked. It
// skips the check when a test failed, since failures leak by nature, and
// when only benchmarks or fuzzing ran.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 && !flagSet("test.bench") && !flagSet("test.fuzz") {
		if err := Check(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// flagSet reports whether the test flag name is set to a non-empty value.
func flagSet(name string) bool {
	for _, a := range os.Args[1:] {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok && v != "" {
			return true
		}
	}
	return false
}

// Check waits up to Grace for goroutines other than the caller's and the
// ignored ones to exit, and returns an error listing those left.
func Check() error {
	deadline := time.Now().Add(Grace)
	for {
		leaked := Leaked()
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("leaktest: %d goroutines leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Leaked returns the stacks of the goroutines now running, but the
// caller's and the ignored ones.
func Leaked() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	stacks := strings.Split(string(buf), "\n\n")
	var leaked []string
	for _, g := range stacks[1:] { // the first is the caller's
		if g = strings.TrimSpace(g); g != "" && !isIgnored(g) {
			leaked = append(leaked, g)
		}
	}
	return leaked
}

func isIgnored(stack string) bool {
	for _, s := range ignored {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}
