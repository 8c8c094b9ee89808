package names_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/parley-chat/parley/internal/names"
)

// fuzzSeeds returns every example of the tests.
func fuzzSeeds() []string {
	var seeds []string
	for _, tc := range acceptCases {
		seeds = append(seeds, tc.name)
	}
	for _, tc := range refuseCases {
		seeds = append(seeds, tc.name)
	}
	for _, tc := range sameKey {
		seeds = append(seeds, tc.names...)
	}
	for _, tc := range otherKey {
		seeds = append(seeds, tc.a, tc.b)
	}
	return seeds
}

// FuzzNormalize checks that Normalize never panics, that what it accepts is
// valid UTF-8 in NFKC with single inner spaces, that normalising it again
// changes nothing, that its key is the key of the input, and that the
// length limit holds (with its bound on the bytes read).
func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		s, err := names.Normalize(name, 0)
		if err != nil {
			if _, ok := errors.AsType[*names.Refusal](err); !ok || s != "" {
				t.Fatalf("Normalize(%+q) = %+q, %v: want a *Refusal and no name", name, s, err)
			}
			return
		}
		switch {
		case s == "" || !utf8.ValidString(s):
			t.Fatalf("Normalize(%+q) = %+q: want valid UTF-8, not empty", name, s)
		case !norm.NFKC.IsNormalString(s):
			t.Fatalf("Normalize(%+q) = %+q: not NFKC", name, s)
		case s[0] == ' ' || s[len(s)-1] == ' ' || strings.Contains(s, "  "):
			t.Fatalf("Normalize(%+q) = %+q: spaces not trimmed and collapsed", name, s)
		case strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && unicode.IsSpace(r) || unicode.IsControl(r) }):
			t.Fatalf("Normalize(%+q) = %+q: white space or control left", name, s)
		}
		if again, err := names.Normalize(s, 0); err != nil || again != s {
			t.Fatalf("Normalize(%+q) = %+q, but Normalize of that = %+q, %v", name, s, again, err)
		}
		if k, kn := names.Key(s), names.Key(name); k != kn {
			t.Fatalf("Key(%+q) = %+q, but Key(Normalize) = Key(%+q) = %+q", name, kn, s, k)
		}
		n := utf8.RuneCountInString(s)
		limited, err := names.Normalize(name, n)
		switch {
		case len(name) > names.MaxInputPerChar*n: // refused unread, however short it would be
			if !errors.Is(err, names.ErrTooLong) {
				t.Fatalf("Normalize(%+q, %d) = %+q, %v; want %v for %d bytes", name, n, limited, err, names.ErrTooLong, len(name))
			}
		case err != nil || limited != s:
			t.Fatalf("Normalize(%+q, %d) = %+q, %v; want %+q", name, n, limited, err, s)
		}
		if n > 1 {
			if _, err := names.Normalize(name, n-1); !errors.Is(err, names.ErrTooLong) {
				t.Fatalf("Normalize(%+q, %d) = %v; want %v", name, n-1, err, names.ErrTooLong)
			}
		}
	})
}

// FuzzKey checks that Key never panics, that a key is valid UTF-8 in NFD,
// trimmed, with nothing invisible left, that it is its own key, that case
// does not change it, and that the fast path for ASCII agrees with the
// general one.
func FuzzKey(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		k := names.Key(name)
		switch {
		case !utf8.ValidString(k):
			t.Fatalf("Key(%+q) = %+q: not valid UTF-8", name, k)
		case !norm.NFD.IsNormalString(k):
			t.Fatalf("Key(%+q) = %+q: not NFD", name, k)
		case k != "" && (k[0] == ' ' || k[len(k)-1] == ' ' || strings.Contains(k, "  ")):
			t.Fatalf("Key(%+q) = %+q: spaces not trimmed and collapsed", name, k)
		case strings.ContainsFunc(k, func(r rune) bool { return r == '\u200b' || r == '\u200d' || unicode.IsControl(r) }):
			t.Fatalf("Key(%+q) = %+q: invisible characters left", name, k)
		}
		if kk := names.Key(k); kk != k {
			t.Fatalf("Key(%+q) = %+q, whose key is %+q", name, k, kk)
		}
		if g := names.GeneralKey(name); g != k {
			t.Fatalf("Key(%+q) = %+q, general path %+q", name, k, g)
		}
		if a, ok := names.ASCIIKey(name); ok && a != k {
			t.Fatalf("Key(%+q) = %+q, ASCII path %+q", name, k, a)
		}
		if !utf8.ValidString(name) {
			return
		}
		for _, c := range []func(string) string{strings.ToUpper, strings.ToLower} {
			if kc := names.Key(c(name)); kc != k {
				t.Fatalf("Key(%+q) = %+q, but Key(%+q) = %+q", name, k, c(name), kc)
			}
		}
	})
}
