package names

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Key returns the comparison key of name: two names with the same key are
// the same name, to be held by one person at a time, and two room names with
// the same key the same room. Key does not refuse anything; call it on what
// Normalize returns (Key(Normalize(name)) is Key(name)), but it gives the same
// key to what Normalize would have refused for its invisible characters.
//
// The key is the skeleton of UTS #39, section 4 ("Confusable Detection"),
// made case-insensitive, over a table of this package's own (see
// confusables): the name is
//
//  1. decomposed (NFKD), so that "Ａｌｉｃｅ", "𝐀lice" and "Alice" agree and
//     an accent is a letter followed by a mark;
//  2. stripped of default-ignorable code points, format and control
//     characters (so "A\u200blice" is "Alice"), with white space and
//     blank-looking characters trimmed and collapsed to single spaces; a
//     Persian yeh becomes the Arabic letter it looks like where it stands
//     (the alef maksura at the end of a word, the yeh inside one), and so
//     does a keheh inside a word (the kaf);
//  3. case-folded (full case folding: "ß" is "ss"), and decomposed again;
//  4. mapped, character by character, to the prototype it looks like: a
//     Cyrillic "а", a Greek "α" and a Latin "ɑ" to "a", a capital I (now
//     "i"), a "1" and a "|" to "l", a "0" to "o"; a U+0307 dot above on an
//     i or a j, which shows on the dot that is there, is dropped;
//  5. stripped of the two letter pairs that look like one letter: "rn" is
//     "m", "vv" is "w".
//
// Case is folded before the mapping, not after as UTS #39 has it, so that a
// name and its capitals have one key in every script ("НИНА" and "Нина",
// "ALICE" and "Alice"). The price is that a letter maps as its small form:
// "i" and "l" are one letter in the key, because "I" looks like "l" and is
// "i" in small letters ("Alice", "ALICE" and "AIice" must be one name), and
// Greek "ν", whose capital is "Ν", counts as "n" although it looks like
// "v".
//
// Accents stay: "Zoë" and "Zoe" are two names, as they are in UTS #39, since
// the marks show. So are "علي" and "على", whose final letters differ by the
// two dots of the yeh.
//
// The key is in NFD. It is meant for comparison (map keys, an index),
// never for display, and is only as stable as the table: a stored key
// must be computed again when the table changes.
func Key(name string) string {
	if k, ok := asciiKey(name); ok {
		return k
	}
	return key(name)
}

// asciiKey is Key for a name of printable ASCII, in one pass and one
// allocation; ok is false for any other name.
func asciiKey(s string) (k string, ok bool) {
	var buf [64]byte
	b := buf[:0]
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < ' ' || c > '~':
			return "", false
		case c == ' ':
			space = len(b) > 0
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		switch c { // the ASCII entries of confusables
		case '0':
			c = 'o'
		case '1', 'i', '|':
			c = 'l'
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	return string(pairs(b)), true
}

// key is Key for any name.
func key(name string) string {
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, string(replacement))
	}
	b := strip(norm.NFKD.String(name))
	if fold := cases.Fold(); !folded(fold, b) {
		b = fold.Bytes(b)
	}
	if !norm.NFD.IsNormal(b) {
		b = norm.NFD.Bytes(b)
	}
	return string(pairs(skeleton(b)))
}

// folded reports whether case folding leaves b as it is.
func folded(fold cases.Caser, b []byte) bool {
	n, err := fold.Span(b, true)
	return n == len(b) && err == nil
}

// strip returns s without the code points that do not show (default
// ignorables, format and control characters), with white space and blank
// characters trimmed and collapsed to single ASCII spaces; the subdivision
// flags keep their tags, and the Persian yeh and keheh become Arabic
// letters (see arabic).
func strip(s string) []byte {
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); {
		if n := subdivisionFlag(s[i:]); n > 0 {
			if space {
				b = append(b, ' ')
				space = false
			}
			b = append(b, s[i:i+n]...)
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case unicode.IsSpace(r) || blank(r):
			space = len(b) > 0
			continue
		case ignorable(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = utf8.AppendRune(b, arabic(r, s[i:]))
	}
	return b
}

// Arabic letters that Persian writes with code points of their own, which
// look like the Arabic ones in some positions only.
const (
	arabicKaf         = '\u0643'
	arabicAlefMaksura = '\u0649'
	arabicYeh         = '\u064a'
	persianKeheh      = '\u06a9'
	persianYeh        = '\u06cc'
)

// arabic returns the Arabic letter that the Persian letter r looks like,
// followed by rest, or r. The Persian yeh (U+06CC) has the two dots of the
// Arabic yeh (U+064A) where it joins the letter after it, and none, like
// the alef maksura (U+0649), where it does not (at the end of a word): so
// the Persian spelling of Ali, "علی", looks like the Arabic word "على",
// not like the Arabic spelling "علي". The keheh (U+06A9) joined to the next
// letter looks like the Arabic kaf (U+0643); alone or at the end it does
// not.
func arabic(r rune, rest string) rune {
	if r != persianYeh && r != persianKeheh {
		return r
	}
	joined := false
	for _, n := range rest {
		if mark(n) || n == zwj {
			continue // harakat and joiners leave the joining as it is
		}
		// Every letter of the Arabic script joins the letter before it,
		// but the hamza; tatweel (U+0640, of no script) is a joint.
		joined = n == '\u0640' || unicode.Is(unicode.Arabic, n) && unicode.IsLetter(n) && n != '\u0621'
		break
	}
	switch {
	case r == persianYeh && joined:
		return arabicYeh
	case r == persianYeh:
		return arabicAlefMaksura
	case joined:
		return arabicKaf
	}
	return r
}

// skeleton maps the case-folded NFD text b to its prototypes (step 4 of
// Key), in place, and returns b shortened. No prototype is longer than
// what it replaces, nor a Cherokee capital than its small letter.
func skeleton(b []byte) []byte {
	n := 0          // bytes written
	dotted := false // the base is an i or a j whose dot shows
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r < utf8.RuneSelf {
			dotted = r == 'i' || r == 'j'
			if to, ok := confusable(r); ok {
				n += copy(b[n:], to)
			} else {
				b[n] = byte(r)
				n++
			}
			i++
			continue
		}
		if mark(r) {
			switch ccc := norm.NFD.Properties(b[i:]).CCC(); {
			case r == '\u0307' && dotted:
				dotted = false
				i += size
				continue
			case ccc == 230: // above: it lifts a dot that follows
				dotted = false
			}
			n += copy(b[n:], b[i:i+size])
			i += size
			continue
		}
		i += size
		r = cherokee(r)
		dotted = unicode.Is(unicode.Soft_Dotted, r) || r == 'ı' || r == 'ȷ'
		if to, ok := confusable(r); ok {
			n += copy(b[n:], to)
		} else {
			n += utf8.EncodeRune(b[n:], r)
		}
	}
	return b[:n]
}

// cherokee returns the case folding of a Cherokee letter: its capital.
// Cherokee was a caseless script of capitals until Unicode 8 added small
// letters, and CaseFolding.txt folds those to the capitals, which kept their
// folding. x/text's cases.Fold swaps the two instead (golang/go#46101), so
// Key folds Cherokee again after it.
func cherokee(r rune) rune {
	switch {
	case 0xab70 <= r && r <= 0xabbf: // CHEROKEE SMALL LETTER A..MV
		return r - 0xab70 + 0x13a0
	case 0x13f8 <= r && r <= 0x13fd: // CHEROKEE SMALL LETTER YE..MV
		return r - 0x13f8 + 0x13f0
	}
	return r
}

// pairs replaces, in place, the letter pairs of sequences in b by the
// letter they look like, and returns b shortened.
func pairs(b []byte) []byte {
	n := 0
next:
	for i := 0; i < len(b); {
		for _, p := range sequences {
			if len(b)-i >= len(p.from) && string(b[i:i+len(p.from)]) == p.from {
				n += copy(b[n:], p.to)
				i += len(p.from)
				continue next
			}
		}
		b[n] = b[i]
		n++
		i++
	}
	return b[:n]
}
