package names

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TestConfusablesSorted checks that the table is sorted by from, with no
// duplicate, as the binary search in confusable needs.
func TestConfusablesSorted(t *testing.T) {
	for i := 1; i < len(confusables); i++ {
		if a, b := confusables[i-1].from, confusables[i].from; a >= b {
			t.Errorf("entry %d (%U) is not after entry %d (%U)", i, b, i-1, a)
		}
	}
	for i := 1; i < len(sequences); i++ {
		if a, b := sequences[i-1].from, sequences[i].from; a >= b {
			t.Errorf("sequence %q is not after %q", b, a)
		}
	}
}

// TestConfusablesTargets checks that every prototype is ASCII, no longer
// than the character it replaces, never a character the table maps again
// (so that mapping twice is mapping once), and that every sequence is ASCII
// and shorter than what it replaces.
func TestConfusablesTargets(t *testing.T) {
	for _, p := range confusables {
		if p.to == "" || len(p.to) > utf8.RuneLen(p.from) {
			t.Errorf("%U maps to %+q: want something no longer than it (skeleton maps in place)", p.from, p.to)
		}
		for _, r := range p.to {
			if r >= utf8.RuneSelf || !unicode.IsPrint(r) || r == ' ' {
				t.Errorf("%U maps to %+q: want printable ASCII", p.from, p.to)
			}
			if _, ok := confusable(r); ok {
				t.Errorf("%U maps to %+q, which the table maps again", p.from, p.to)
			}
		}
		if _, ok := confusable(p.from); !ok {
			t.Errorf("confusable(%U) finds nothing", p.from)
		}
	}
	for _, s := range sequences {
		if len(s.to) == 0 || len(s.to) >= len(s.from) || !ascii(s.from) || !ascii(s.to) {
			t.Errorf("sequence %q -> %q: want ASCII, shorter", s.from, s.to)
		}
	}
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// TestConfusablesReached checks that Key reaches every entry: that its
// character survives NFKD and case folding, so that Key looks it up, in its
// small and its capital form.
func TestConfusablesReached(t *testing.T) {
	for _, p := range confusables {
		s := string(p.from)
		if !norm.NFKD.IsNormalString(s) {
			t.Errorf("%U is changed by NFKD: Key never looks it up", p.from)
		}
		want := string(pairs([]byte(p.to)))
		for _, v := range []string{s, strings.ToUpper(s), strings.ToLower(s)} {
			if got := Key(v); got != want {
				t.Errorf("Key(%+q) = %+q; want %+q (entry %U)", v, got, want, p.from)
			}
		}
	}
}

// allowedMerges are the letters of one script that the table maps to one
// prototype: each group looks alike (or is tied by case, see Key), and is
// listed here so that a new entry cannot merge two letters of a script by
// mistake.
var allowedMerges = map[string]bool{
	"Latin l: i ı ǀ ɩ ɪ": true, // the l class (see Key)
	"Latin k: ĸ ᴋ":       true, // small capital K, both
	"Cyrillic h: н һ":    true, // through Н and h (see confusables)
	"Cyrillic l: і ӏ":    true, // the l class
	"Cyrillic y: у ү":    true, // ү is у without its tail
	"Cherokee r: Ꭱ Ꮢ":    true, // both R-shaped
	"Cherokee w: Ꮃ Ꮤ":    true, // both W-shaped
	"Arabic l: ا ١ ۱":    true, // a vertical stroke, all three
}

// TestConfusablesMerges checks that two letters of one script share a
// prototype only where allowedMerges says so. Characters of no script
// (Common: digits, punctuation, symbols) may share one freely.
func TestConfusablesMerges(t *testing.T) {
	groups := make(map[string][]rune) // "script target" -> characters
	seen := make(map[string]bool)
	for desc := range allowedMerges {
		seen[desc] = true
	}
	var order []string
	for _, p := range confusables {
		script := scriptOf(p.from)
		if script == "Common" {
			continue
		}
		k := script + " " + p.to
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p.from)
	}
	for _, k := range order {
		rs := groups[k]
		if len(rs) < 2 {
			continue
		}
		script, to, _ := strings.Cut(k, " ")
		desc := fmt.Sprintf("%s %s: %s", script, to, strings.Join(strings.Split(string(rs), ""), " "))
		if !allowedMerges[desc] {
			t.Errorf("%q: letters of one script map to one prototype; list them in allowedMerges if they look alike", desc)
		}
		delete(seen, desc)
	}
	for desc := range seen {
		t.Errorf("allowedMerges lists %q, which the table does not merge", desc)
	}
}

// scriptOf returns the name of r's script in Go's tables.
func scriptOf(r rune) string {
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			return name
		}
	}
	return "Unknown"
}

// TestASCIIKey checks that Key's fast path for ASCII agrees with its
// general path, byte by byte and on the examples.
func TestASCIIKey(t *testing.T) {
	inputs := []string{"", " ", "  a  b  ", "Alice", "ALICE", "AIice", "A1ice", "A|ice", "B0b", "Kirn", "VVanda",
		"rnrn", "rrnn", "vvv", "x~y", "O'Brien", "a-b_c.d"}
	for c := byte(' '); c <= '~'; c++ {
		inputs = append(inputs, string(c), "a"+string(c)+"b", string(c)+string(c))
	}
	for _, s := range inputs {
		fast, ok := asciiKey(s)
		if !ok {
			t.Fatalf("asciiKey(%q) declines", s)
		}
		if slow := key(s); fast != slow {
			t.Errorf("asciiKey(%q) = %q, key = %q", s, fast, slow)
		}
	}
	for _, s := range []string{"a\tb", "a\x7f", "é", "\x00"} {
		if _, ok := asciiKey(s); ok {
			t.Errorf("asciiKey(%+q) takes it", s)
		}
	}
}
