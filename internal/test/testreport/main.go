// Command testreport reads the events of `go test -json` on its standard
// input and prints what `go test` prints without -json: a line per package,
// and the output of each test that failed. It then lists the tests that were
// skipped, each with the reason it gave, so that a run whose tests skipped
// for want of a service or a browser says so at its end. It exits 1 if a
// test or a package failed (or the input held no result at all).
//
// It is for the Makefile: go test -json ./... | go run ./internal/test/testreport
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

func main() {
	ok, err := report(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// report copies the report of the events in r to w, and says whether every
// package passed.
func report(r io.Reader, w io.Writer) (bool, error) {
	out := bufio.NewWriter(w)
	defer out.Flush()
	rp := newReporter(out)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		rp.line(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("reading events: %w", err)
	}
	rp.finish()
	return rp.passed(), out.Flush()
}
