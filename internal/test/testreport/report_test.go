package main

import (
	"strings"
	"testing"
)

// ev writes one go test -json line.
func ev(action, pkg, test, output string) string {
	q := func(s string) string {
		return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`).Replace(s)
	}
	return `{"Action":"` + action + `","Package":"` + q(pkg) + `","Test":"` + q(test) + `","Output":"` + q(output) + `"}` + "\n"
}

const pkgA = "github.com/parley-chat/parley/internal/a"

func TestReport(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		wantOK  bool
		want    []string // in the output, in order
		wantNot []string // not in the output
	}{
		{
			name: "pass prints the package line only",
			in: ev("start", pkgA, "", "") +
				ev("run", pkgA, "TestX", "") +
				ev("output", pkgA, "TestX", "=== RUN   TestX\n") +
				ev("output", pkgA, "TestX", "--- PASS: TestX (0.00s)\n") +
				ev("pass", pkgA, "TestX", "") +
				ev("output", pkgA, "", "PASS\n") +
				ev("output", pkgA, "", "ok  \t"+pkgA+"\t0.01s\n") +
				ev("pass", pkgA, "", ""),
			wantOK:  true,
			want:    []string{"ok  \t" + pkgA},
			wantNot: []string{"=== RUN", "PASS", "skipped"},
		},
		{
			name: "a failing test's output is shown",
			in: ev("output", pkgA, "TestY", "=== RUN   TestY\n") +
				ev("output", pkgA, "TestY", "    y_test.go:9: got 1, want 2\n") +
				ev("output", pkgA, "TestY", "--- FAIL: TestY (0.00s)\n") +
				ev("fail", pkgA, "TestY", "") +
				ev("output", pkgA, "", "FAIL\t"+pkgA+"\t0.01s\n") +
				ev("fail", pkgA, "", ""),
			wantOK: false,
			want:   []string{"y_test.go:9: got 1, want 2", "--- FAIL: TestY", "FAIL\t" + pkgA},
		},
		{
			name: "a test cut off by a timeout shows its output",
			in: ev("output", pkgA, "TestZ", "=== RUN   TestZ\n") +
				ev("output", pkgA, "TestZ", "panic: test timed out after 1s\n") +
				ev("output", pkgA, "", "FAIL\t"+pkgA+"\t1.00s\n") +
				ev("fail", pkgA, "", ""),
			wantOK: false,
			want:   []string{"panic: test timed out", "FAIL\t" + pkgA},
		},
		{
			name: "skips are listed with their reasons, grouped",
			in: ev("output", pkgA, "TestPG", "=== RUN   TestPG\n") +
				ev("output", pkgA, "TestPG", "    pg_test.go:12: PARLEY_TEST_POSTGRES is not set\n") +
				ev("output", pkgA, "TestPG", "--- SKIP: TestPG (0.00s)\n") +
				ev("skip", pkgA, "TestPG", "") +
				ev("output", pkgA, "TestPG2", "    pg_test.go:30: PARLEY_TEST_POSTGRES is not set\n") +
				ev("skip", pkgA, "TestPG2", "") +
				ev("skip", pkgA, "TestQuiet", "") +
				ev("output", pkgA, "", "ok  \t"+pkgA+"\t0.01s\n") +
				ev("pass", pkgA, "", ""),
			wantOK: true,
			want: []string{"skipped: 3 tests", "PARLEY_TEST_POSTGRES is not set",
				"internal/a.TestPG", "internal/a.TestPG2", "(no reason given)", "internal/a.TestQuiet"},
			wantNot: []string{"pg_test.go:12"},
		},
		{
			name:   "a build failure fails",
			in:     `{"ImportPath":"x","Action":"build-output","Output":"x.go:1: syntax error\n"}` + "\n" + ev("output", pkgA, "", "FAIL\t"+pkgA+" [build failed]\n") + ev("fail", pkgA, "", ""),
			wantOK: false,
			want:   []string{"x.go:1: syntax error", "[build failed]"},
		},
		{
			name:   "lines that are not events are copied",
			in:     "go: downloading example.com/m v1.0.0\n" + ev("pass", pkgA, "", ""),
			wantOK: true,
			want:   []string{"go: downloading example.com/m"},
		},
		{
			name:   "no result at all is a failure",
			in:     "",
			wantOK: false,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			ok, err := report(strings.NewReader(tc.in), &out)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.wantOK {
				t.Errorf("ok = %v, want %v\n%s", ok, tc.wantOK, out.String())
			}
			got := out.String()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(got[at:], w)
				if i < 0 {
					t.Errorf("output lacks %q (in order) in:\n%s", w, got)
					break
				}
				at += i + len(w)
			}
			for _, w := range tc.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("output has %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestSkipReason(t *testing.T) {
	cases := []struct {
		lines []string
		want  string
	}{
		{nil, "(no reason given)"},
		{[]string{"=== RUN   T\n", "--- SKIP: T (0.00s)\n"}, "(no reason given)"},
		{[]string{"    a_test.go:3: no chromium: install it\n"}, "no chromium: install it"},
		{[]string{"    helper.go:40: Node.js not found\n", "    extra words\n"}, "Node.js not found extra words"},
		{[]string{"reason: with a colon\n"}, "reason: with a colon"},
	}
	for _, tc := range cases {
		if got := skipReason(tc.lines); got != tc.want {
			t.Errorf("skipReason(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
}
