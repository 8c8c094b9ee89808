package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// testKey names one test of one package.
type testKey struct{ pkg, test string }

// skip is a skipped test and the reason it printed.
type skip struct {
	testKey
	reason string
}

// reporter turns events into the report. It is not safe for concurrent
// use.
type reporter struct {
	w        io.Writer
	pending  map[testKey][]string // output of tests still running
	skips    []skip
	results  int // package results seen
	failures int // packages or tests that failed
}

func newReporter(w io.Writer) *reporter {
	return &reporter{w: w, pending: make(map[testKey][]string)}
}

// line handles one line of input. A line that is not an event (go test's
// own messages, say) is copied as it is.
func (r *reporter) line(b []byte) {
	var e event
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &e) != nil {
		fmt.Fprintf(r.w, "%s\n", b)
		return
	}
	r.event(e)
}

func (r *reporter) event(e event) {
	k := testKey{e.Package, e.Test}
	switch {
	case e.Action == "build-output":
		io.WriteString(r.w, e.Output)
	case e.Test == "":
		r.packageEvent(e)
	case e.Action == "output":
		r.pending[k] = append(r.pending[k], e.Output)
	case e.Action == "fail":
		r.failures++
		r.print(r.pending[k])
		delete(r.pending, k)
	case e.Action == "skip":
		r.skips = append(r.skips, skip{k, skipReason(r.pending[k])})
		delete(r.pending, k)
	case e.Action == "pass":
		delete(r.pending, k)
	}
}

// packageEvent handles an event of the package as a whole: its summary line
// is output, and its result ends whatever of its tests is still pending
// (a test that timed out or panicked has no result of its own).
func (r *reporter) packageEvent(e event) {
	switch e.Action {
	case "output":
		if strings.HasPrefix(e.Output, "FAIL") {
			// What a test that never ended printed (a timeout's panic,
			// say) comes before the package's verdict, as go test has it.
			r.dropPending(e.Package, true)
		}
		if e.Output == "PASS\n" {
			return // go test without -v does not show the binary's PASS
		}
		io.WriteString(r.w, e.Output)
	case "pass", "skip":
		r.results++
		r.dropPending(e.Package, false)
	case "fail":
		r.results++
		r.failures++
		r.dropPending(e.Package, true)
	}
}

// dropPending forgets the pending output of pkg's tests, printing it first
// if show.
func (r *reporter) dropPending(pkg string, show bool) {
	var keys []testKey
	for k := range r.pending {
		if k.pkg == pkg {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].test < keys[j].test })
	for _, k := range keys {
		if show {
			r.print(r.pending[k])
		}
		delete(r.pending, k)
	}
}

func (r *reporter) print(lines []string) {
	for _, l := range lines {
		io.WriteString(r.w, l)
	}
}

// finish prints the skipped tests, grouped by reason.
func (r *reporter) finish() {
	for k := range r.pending {
		r.dropPending(k.pkg, true) // input ended mid-package
	}
	if len(r.skips) == 0 {
		return
	}
	type group struct {
		reason string
		tests  []string
	}
	var groups []*group
	byReason := make(map[string]*group)
	for _, s := range r.skips {
		g := byReason[s.reason]
		if g == nil {
			g = &group{reason: s.reason}
			byReason[s.reason] = g
			groups = append(groups, g)
		}
		g.tests = append(g.tests, shortPackage(s.pkg)+"."+s.test)
	}
	fmt.Fprintf(r.w, "\nskipped: %d %s\n", len(r.skips), plural(len(r.skips), "test", "tests"))
	for _, g := range groups {
		fmt.Fprintf(r.w, "  %s\n", g.reason)
		const shown = 5
		for i, t := range g.tests {
			if i == shown {
				fmt.Fprintf(r.w, "      and %d more\n", len(g.tests)-shown)
				break
			}
			fmt.Fprintf(r.w, "      %s\n", t)
		}
	}
}

func (r *reporter) passed() bool { return r.failures == 0 && r.results > 0 }

// skipReason returns what a skipped test printed, without go test's own
// lines (=== RUN, --- SKIP) and the file:line prefix of t.Skip's.
func skipReason(lines []string) string {
	var parts []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- ") {
			continue
		}
		if i := strings.Index(l, ": "); i > 0 && strings.Contains(l[:i], ".go:") && !strings.Contains(l[:i], " ") {
			l = l[i+2:]
		}
		parts = append(parts, l)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

// modulePrefix is the import path of the module, with its slash.
const modulePrefix = "github.com/parley-chat/parley/"

// shortPackage drops the module path from a package path.
func shortPackage(pkg string) string { return strings.TrimPrefix(pkg, modulePrefix) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
