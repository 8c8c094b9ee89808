package names

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Code points the package treats apart: the joiners and selectors that
// Normalize allows in a few places only (see Normalize), and others.
const (
	zwnj        = '\u200c'     // ZERO WIDTH NON-JOINER
	zwj         = '\u200d'     // ZERO WIDTH JOINER
	vs15        = '\ufe0e'     // VARIATION SELECTOR-15: text presentation
	vs16        = '\ufe0f'     // VARIATION SELECTOR-16: emoji presentation
	mvs         = '\u180e'     // MONGOLIAN VOWEL SEPARATOR
	blackFlag   = '\U0001f3f4' // WAVING BLACK FLAG, which tags make a subdivision flag
	cancelTag   = '\U000e007f' // CANCEL TAG, which ends the tags
	replacement = '\ufffd'     // REPLACEMENT CHARACTER
)

// subdivisionFlags are the three flags written as a tag sequence that
// Unicode recommends for general interchange (UTS #51, RGI): England,
// Scotland and Wales. The tags after the black flag are invisible; any other
// string of them could hide text, so no other is accepted.
var subdivisionFlags = [...]string{
	"\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", // gbeng
	"\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", // gbsct
	"\U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f", // gbwls
}

// subdivisionFlag returns the length in bytes of the subdivision flag s
// starts with, or 0.
func subdivisionFlag(s string) int {
	if len(s) < len(subdivisionFlags[0]) || s[:4] != string(blackFlag) {
		return 0
	}
	for _, f := range subdivisionFlags {
		if strings.HasPrefix(s, f) {
			return len(f)
		}
	}
	return 0
}

// ignorable reports whether r has Unicode's Default_Ignorable_Code_Point
// property: it is not shown and, where a renderer does not know it, must not
// be shown either. Go's unicode package has no table for this derived
// property; ignorable derives it from the tables it has, as
// DerivedCoreProperties.txt does:
//
//	Other_Default_Ignorable_Code_Point
//	+ Cf (format characters)
//	+ Variation_Selector
//	- White_Space
//	- FFF9..FFFB (interlinear annotation format characters)
//	- 13430..1343F (Egyptian hieroglyph format characters)
//	- Prepended_Concatenation_Mark (format characters that should be visible)
//
// Other_Default_Ignorable_Code_Point covers the Hangul fillers (U+115F,
// U+1160, U+3164, U+FFA0), U+034F COMBINING GRAPHEME JOINER, the Khmer
// inherent vowels (U+17B4, U+17B5) and the ranges kept for future
// ignorables (U+2065, U+FFF0-U+FFF8, most of U+E0000-U+E0FFF); Cf covers
// U+00AD, U+061C, U+180E, U+200B-U+200F, U+202A-U+202E, U+2060-U+206F,
// U+FEFF and the tags; Variation_Selector covers U+180B-U+180D, U+180F,
// U+FE00-U+FE0F and U+E0100-U+E01EF. The test pins these.
func ignorable(r rune) bool {
	if r < 0xad {
		return false
	}
	switch {
	case 0xfff9 <= r && r <= 0xfffb, 0x13430 <= r && r <= 0x1343f:
		return false
	case unicode.Is(unicode.White_Space, r), unicode.Is(unicode.Prepended_Concatenation_Mark, r):
		return false
	}
	return unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector)
}

// blank reports whether r is a character that shows as nothing, or as
// white space, without being white space or default-ignorable: Normalize
// refuses it and Key reads it as a space. (The Hangul fillers U+115F,
// U+1160, U+3164 and U+FFA0, which fonts often draw as a blank of full
// width, are default-ignorable and refused as such. White space is
// collapsed. U+2028 and U+2029 are white space.)
func blank(r rune) bool {
	switch r {
	case '\u2800', // BRAILLE PATTERN BLANK: a braille cell with no dots
		'\ufffc',     // OBJECT REPLACEMENT CHARACTER: a placeholder, often drawn as nothing
		'\U0001d159', // MUSICAL SYMBOL NULL NOTEHEAD: an empty notehead
		'\U00016fe4': // KHITAN SMALL SCRIPT FILLER: a mark that shows nothing
		return true
	}
	return false
}

// mark reports whether r is a combining mark (gc M: Mn, Mc, Me), which
// draws on the character before it.
func mark(r rune) bool { return r >= 0x300 && unicode.Is(unicode.M, r) }

// stackingMark reports whether r is a nonspacing or enclosing mark (gc Mn,
// Me): marks that pile up on their base without taking room of their own.
func stackingMark(r rune) bool {
	return r >= 0x300 && (unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r))
}

// virama reports whether the rune s starts with has the canonical combining
// class Virama (9): the sign that kills a consonant's vowel in the Indic
// scripts, after which ZWJ and ZWNJ choose how the consonants join.
func virama(s string) bool { return norm.NFD.PropertiesString(s).CCC() == 9 }

// emoji reports whether r can take part in an emoji ZWJ sequence: an emoji
// (Go's unicode tables have no Emoji property; emoji are other symbols, So,
// or a few math symbols, Sm, such as U+2194 in U+1F642 U+200D U+2194
// U+FE0F), a skin-tone modifier or the emoji presentation selector.
func emoji(r rune) bool {
	return unicode.In(r, unicode.So, unicode.Sm) || 0x1f3fb <= r && r <= 0x1f3ff || r == vs16
}

// presentable reports whether r may be followed by VS15 or VS16, which ask
// for its text or emoji presentation: symbols, and the digits, '#' and '*'
// of the keycap sequences, and the few punctuation marks that have an emoji
// form (‼ ⁉ 〰 〽).
func presentable(r rune) bool {
	switch r {
	case '#', '*', '\u203c', '\u2049', '\u3030', '\u303d':
		return true
	}
	return '0' <= r && r <= '9' || unicode.In(r, unicode.So, unicode.Sm)
}

// joiningScripts are the living cursive scripts, where ZWNJ keeps two
// letters of a word apart (Persian: "می‌خواهم").
var joiningScripts = []*unicode.RangeTable{
	unicode.Arabic, unicode.Syriac, unicode.Nko, unicode.Mandaic, unicode.Mongolian,
	unicode.Adlam, unicode.Hanifi_Rohingya,
}

// cursive reports whether r is a letter of a cursive script.
func cursive(r rune) bool { return unicode.IsLetter(r) && unicode.In(r, joiningScripts...) }

// noncharacter reports whether r is one of the 66 noncharacters.
func noncharacter(r rune) bool {
	return 0xfdd0 <= r && r <= 0xfdef || r&0xfffe == 0xfffe
}

// assigned reports whether r is assigned in unicode.Version: whether its
// general category is not Cn. (Go's table C, "other", holds Cn too.)
func assigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z,
		unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs)
}
