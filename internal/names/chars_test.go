package names

import (
	"testing"
	"unicode"
)

// ignorableTotals are the sizes of Default_Ignorable_Code_Point that
// DerivedCoreProperties.txt states ("Total code points"), by Unicode
// version.
var ignorableTotals = map[string]int{
	"15.0.0": 4174,
}

// TestIgnorable pins ignorable's derivation of Default_Ignorable_Code_Point:
// the code points its doc comment names, those the derivation takes out,
// and its size.
func TestIgnorable(t *testing.T) {
	in := [][2]rune{
		{0x00ad, 0x00ad},   // SOFT HYPHEN
		{0x034f, 0x034f},   // COMBINING GRAPHEME JOINER
		{0x061c, 0x061c},   // ARABIC LETTER MARK
		{0x115f, 0x1160},   // HANGUL CHOSEONG and JUNGSEONG FILLER
		{0x17b4, 0x17b5},   // KHMER VOWEL INHERENT AQ, AA
		{0x180b, 0x180f},   // MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR
		{0x200b, 0x200f},   // ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
		{0x202a, 0x202e},   // bidi embeddings and overrides
		{0x2060, 0x206f},   // WORD JOINER..NOMINAL DIGIT SHAPES
		{0x3164, 0x3164},   // HANGUL FILLER
		{0xfe00, 0xfe0f},   // VARIATION SELECTORS
		{0xfeff, 0xfeff},   // ZERO WIDTH NO-BREAK SPACE
		{0xffa0, 0xffa0},   // HALFWIDTH HANGUL FILLER
		{0xfff0, 0xfff8},   // reserved
		{0x1bca0, 0x1bca3}, // SHORTHAND FORMAT CONTROLS
		{0x1d173, 0x1d17a}, // MUSICAL SYMBOL BEGIN BEAM..END PHRASE
		{0xe0000, 0xe0fff}, // tags, variation selectors 17-256, reserved
	}
	for _, rng := range in {
		for r := rng[0]; r <= rng[1]; r++ {
			if !ignorable(r) {
				t.Errorf("ignorable(%U) = false", r)
			}
		}
	}
	out := []rune{
		' ', '\u00a0', '\u1680', '\u2000', '\u3000', // white space
		'\u0600', '\u0605', '\u06dd', '\u070f', '\u08e2', '\U000110bd', // prepended concatenation marks
		'\ufff9', '\ufffa', '\ufffb', // interlinear annotation
		'\U00013430', '\U0001343f', // Egyptian hieroglyph format controls
		'a', '\u0301', '\u2800', '\ufffc', '\u1161',
	}
	for _, r := range out {
		if ignorable(r) {
			t.Errorf("ignorable(%U) = true", r)
		}
	}
	want, ok := ignorableTotals[unicode.Version]
	if !ok {
		t.Skipf("no total known for Unicode %s", unicode.Version)
	}
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if ignorable(r) {
			n++
		}
	}
	if n != want {
		t.Errorf("%d default-ignorable code points in Unicode %s, want %d", n, unicode.Version, want)
	}
}

// TestBidiControls checks that the bidi controls Normalize refuses as such
// are the ones Unicode lists.
func TestBidiControls(t *testing.T) {
	want := map[rune]bool{0x061c: true, 0x200e: true, 0x200f: true, 0x2066: true, 0x2067: true, 0x2068: true, 0x2069: true}
	for r := rune(0x202a); r <= 0x202e; r++ {
		want[r] = true
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if got := unicode.Is(unicode.Bidi_Control, r); got != want[r] {
			t.Errorf("Bidi_Control(%U) = %v", r, got)
		}
	}
}

func TestNoncharacters(t *testing.T) {
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if noncharacter(r) {
			n++
			if !unicode.Is(unicode.Noncharacter_Code_Point, r) {
				t.Errorf("noncharacter(%U), not in Noncharacter_Code_Point", r)
			}
		}
	}
	if n != 66 {
		t.Errorf("%d noncharacters, want 66", n)
	}
}

func TestSubdivisionFlag(t *testing.T) {
	for _, f := range subdivisionFlags {
		if n := subdivisionFlag(f + " x"); n != len(f) {
			t.Errorf("subdivisionFlag(%+q) = %d, want %d", f, n, len(f))
		}
		if n := subdivisionFlag(f[:len(f)-4]); n != 0 {
			t.Errorf("subdivisionFlag of a flag without its cancel tag = %d", n)
		}
	}
	if n := subdivisionFlag("\U0001f3f4\U000e0075\U000e0073\U000e0074\U000e0078\U000e007f"); n != 0 {
		t.Errorf("subdivisionFlag(Texas) = %d: it is not recommended for interchange", n)
	}
}
