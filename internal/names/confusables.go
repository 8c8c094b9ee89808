package names

import "slices"

// A prototype maps a character to the ASCII text it looks like.
type prototype struct {
	from rune
	to   string
}

// confusables is the table of Key's step 4: characters that look like a
// Latin letter, a digit or ASCII punctuation in the sans-serif fonts the page
// uses, each mapped to what it looks like.
//
// It is a small table of this package's own, written by hand: the idea of
// UTS #39's confusables.txt, not its data, and far from all of it. It covers
// the scripts whose letters pass for Latin ones (Cyrillic, Greek, Armenian,
// Cherokee), the Latin letters that pass for others, and the digits and
// marks that pass for letters. It leaves out Han and kana look-alikes
// (カ/力, エ/工, ロ/口, ニ/二, ー/一), Hebrew, Georgian, Lisu and the rest:
// a name written in those scripts is compared by its letters as they are.
//
// Choices, beyond the obvious look-alikes:
//
//   - "0" is "o" and "1" is "l", as in UTS #39: in the page's fonts "1"
//     differs from "l" by a small flag and "0" from "o" by its height, which
//     nobody checks at a glance. "A1ice" is "Alice", "B0b" is "Bob". Other
//     digits are not letters here ("5am" is not "Sam"): the shapes differ
//     enough, and digits are common in names.
//   - "i" is "l" (see Key): "I" looks like "l" and folds to "i". Every
//     character that looks like one of the three maps to "l": "|", "ı",
//     "ɩ", "ǀ", Greek "ι", Cyrillic "і" and "ӏ", Arabic alef and digit one.
//   - The table is read after case folding, so it lists small letters
//     only, and a letter maps as its capital looks where the two differ
//     ("ν" as "Ν", "н" as "Н", "в" as "В", "т" as "Т", "տ" as "Տ"). Cherokee
//     folds to its capitals, which are what it lists.
//   - A character maps to what it looks like, never to what it sounds like;
//     two letters of one script map to one prototype only where they look
//     alike (Cyrillic "у" and "ү"; "н" and "һ", through "Н" and "h"; the two
//     R-like and the two W-like Cherokee letters). The test lists these.
//   - Apostrophes and hyphens fold: a phone's keyboard types "O’Brien" and
//     "Jean‐Luc" where a desktop types "O'Brien" and "Jean-Luc".
//
// The entries are sorted by from, with no duplicate; a character that NFKD
// or case folding changes is not in the table, since Key never looks it up
// (the test checks these).
var confusables = [...]prototype{
	{'0', "o"},       // DIGIT ZERO
	{'1', "l"},       // DIGIT ONE
	{'i', "l"},       // LATIN SMALL LETTER I (see Key)
	{'|', "l"},       // VERTICAL LINE
	{'\u0131', "l"},  // ı LATIN SMALL LETTER DOTLESS I
	{'\u0138', "k"},  // ĸ LATIN SMALL LETTER KRA
	{'\u01c0', "l"},  // ǀ LATIN LETTER DENTAL CLICK
	{'\u01c1', "ll"}, // ǁ LATIN LETTER LATERAL CLICK
	{'\u01c3', "!"},  // ǃ LATIN LETTER RETROFLEX CLICK
	{'\u0237', "j"},  // ȷ LATIN SMALL LETTER DOTLESS J
	{'\u0251', "a"},  // ɑ LATIN SMALL LETTER ALPHA
	{'\u0261', "g"},  // ɡ LATIN SMALL LETTER SCRIPT G
	{'\u0269', "l"},  // ɩ LATIN SMALL LETTER IOTA
	{'\u026a', "l"},  // ɪ LATIN LETTER SMALL CAPITAL I
	{'\u028f', "y"},  // ʏ LATIN LETTER SMALL CAPITAL Y
	{'\u0292', "3"},  // ʒ LATIN SMALL LETTER EZH
	{'\u0299', "b"},  // ʙ LATIN LETTER SMALL CAPITAL B
	{'\u029c', "h"},  // ʜ LATIN LETTER SMALL CAPITAL H
	{'\u02b9', "'"},  // ʹ MODIFIER LETTER PRIME
	{'\u02bb', "'"},  // ʻ MODIFIER LETTER TURNED COMMA
	{'\u02bc', "'"},  // ʼ MODIFIER LETTER APOSTROPHE
	{'\u02c8', "'"},  // ˈ MODIFIER LETTER VERTICAL LINE
	{'\u02d7', "-"},  // ˗ MODIFIER LETTER MINUS SIGN
	{'\u03b1', "a"},  // α GREEK SMALL LETTER ALPHA
	{'\u03b2', "b"},  // β GREEK SMALL LETTER BETA
	{'\u03b5', "e"},  // ε GREEK SMALL LETTER EPSILON
	{'\u03b6', "z"},  // ζ GREEK SMALL LETTER ZETA
	{'\u03b7', "h"},  // η GREEK SMALL LETTER ETA (as Η)
	{'\u03b9', "l"},  // ι GREEK SMALL LETTER IOTA
	{'\u03ba', "k"},  // κ GREEK SMALL LETTER KAPPA
	{'\u03bc', "m"},  // μ GREEK SMALL LETTER MU (as Μ)
	{'\u03bd', "n"},  // ν GREEK SMALL LETTER NU (as Ν)
	{'\u03bf', "o"},  // ο GREEK SMALL LETTER OMICRON
	{'\u03c1', "p"},  // ρ GREEK SMALL LETTER RHO
	{'\u03c4', "t"},  // τ GREEK SMALL LETTER TAU (as Τ)
	{'\u03c5', "y"},  // υ GREEK SMALL LETTER UPSILON (as Υ)
	{'\u03c7', "x"},  // χ GREEK SMALL LETTER CHI
	{'\u03c9', "w"},  // ω GREEK SMALL LETTER OMEGA
	{'\u03f3', "j"},  // ϳ GREEK LETTER YOT
	{'\u0430', "a"},  // а CYRILLIC SMALL LETTER A
	{'\u0431', "6"},  // б CYRILLIC SMALL LETTER BE
	{'\u0432', "b"},  // в CYRILLIC SMALL LETTER VE (as В)
	{'\u0435', "e"},  // е CYRILLIC SMALL LETTER IE
	{'\u0437', "3"},  // з CYRILLIC SMALL LETTER ZE
	{'\u043a', "k"},  // к CYRILLIC SMALL LETTER KA
	{'\u043c', "m"},  // м CYRILLIC SMALL LETTER EM (as М)
	{'\u043d', "h"},  // н CYRILLIC SMALL LETTER EN (as Н)
	{'\u043e', "o"},  // о CYRILLIC SMALL LETTER O
	{'\u0440', "p"},  // р CYRILLIC SMALL LETTER ER
	{'\u0441', "c"},  // с CYRILLIC SMALL LETTER ES
	{'\u0442', "t"},  // т CYRILLIC SMALL LETTER TE (as Т)
	{'\u0443', "y"},  // у CYRILLIC SMALL LETTER U
	{'\u0445', "x"},  // х CYRILLIC SMALL LETTER HA
	{'\u0455', "s"},  // ѕ CYRILLIC SMALL LETTER DZE
	{'\u0456', "l"},  // і CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I
	{'\u0458', "j"},  // ј CYRILLIC SMALL LETTER JE
	{'\u0475', "v"},  // ѵ CYRILLIC SMALL LETTER IZHITSA
	{'\u04af', "y"},  // ү CYRILLIC SMALL LETTER STRAIGHT U
	{'\u04bb', "h"},  // һ CYRILLIC SMALL LETTER SHHA
	{'\u04cf', "l"},  // ӏ CYRILLIC SMALL LETTER PALOCHKA
	{'\u0501', "d"},  // ԁ CYRILLIC SMALL LETTER KOMI DE
	{'\u051b', "q"},  // ԛ CYRILLIC SMALL LETTER QA
	{'\u051d', "w"},  // ԝ CYRILLIC SMALL LETTER WE
	{'\u0566', "q"},  // զ ARMENIAN SMALL LETTER ZA
	{'\u056c', "l"},  // լ ARMENIAN SMALL LETTER LIWN
	{'\u0570', "h"},  // հ ARMENIAN SMALL LETTER HO
	{'\u0578', "n"},  // ո ARMENIAN SMALL LETTER VO
	{'\u057d', "u"},  // ս ARMENIAN SMALL LETTER SEH
	{'\u057f', "s"},  // տ ARMENIAN SMALL LETTER TIWN (as Տ)
	{'\u0581', "g"},  // ց ARMENIAN SMALL LETTER CO
	{'\u0585', "o"},  // օ ARMENIAN SMALL LETTER OH
	{'\u0589', ":"},  // ։ ARMENIAN FULL STOP
	{'\u058a', "-"},  // ֊ ARMENIAN HYPHEN
	{'\u05c0', "l"},  // ׀ HEBREW PUNCTUATION PASEQ
	{'\u05c3', ":"},  // ׃ HEBREW PUNCTUATION SOF PASUQ
	{'\u05f3', "'"},  // ׳ HEBREW PUNCTUATION GERESH
	{'\u05f4', "\""}, // ״ HEBREW PUNCTUATION GERSHAYIM
	{'\u0627', "l"},  // ا ARABIC LETTER ALEF
	{'\u0661', "l"},  // ١ ARABIC-INDIC DIGIT ONE
	{'\u06f1', "l"},  // ۱ EXTENDED ARABIC-INDIC DIGIT ONE
	{'\u13a0', "d"},  // Ꭰ CHEROKEE LETTER A
	{'\u13a1', "r"},  // Ꭱ CHEROKEE LETTER E
	{'\u13a2', "t"},  // Ꭲ CHEROKEE LETTER I
	{'\u13a5', "l"},  // Ꭵ CHEROKEE LETTER V (as i)
	{'\u13a9', "y"},  // Ꭹ CHEROKEE LETTER GI
	{'\u13aa', "a"},  // Ꭺ CHEROKEE LETTER GO
	{'\u13ab', "j"},  // Ꭻ CHEROKEE LETTER GU
	{'\u13ac', "e"},  // Ꭼ CHEROKEE LETTER GV
	{'\u13b3', "w"},  // Ꮃ CHEROKEE LETTER LA
	{'\u13b5', "p"},  // Ꮅ CHEROKEE LETTER LI
	{'\u13b7', "m"},  // Ꮇ CHEROKEE LETTER LU
	{'\u13bb', "h"},  // Ꮋ CHEROKEE LETTER MI
	{'\u13c3', "z"},  // Ꮓ CHEROKEE LETTER NO
	{'\u13d2', "r"},  // Ꮢ CHEROKEE LETTER SV
	{'\u13d4', "w"},  // Ꮤ CHEROKEE LETTER TA
	{'\u13d9', "v"},  // Ꮩ CHEROKEE LETTER DO
	{'\u13da', "s"},  // Ꮪ CHEROKEE LETTER DU
	{'\u13df', "c"},  // Ꮯ CHEROKEE LETTER TLI
	{'\u13e6', "k"},  // Ꮶ CHEROKEE LETTER TSO
	{'\u13f4', "b"},  // Ᏼ CHEROKEE LETTER YV
	{'\u16c1', "l"},  // ᛁ RUNIC LETTER ISAZ IS ISS I
	{'\u1d04', "c"},  // ᴄ LATIN LETTER SMALL CAPITAL C
	{'\u1d0b', "k"},  // ᴋ LATIN LETTER SMALL CAPITAL K
	{'\u1d0d', "m"},  // ᴍ LATIN LETTER SMALL CAPITAL M
	{'\u1d0f', "o"},  // ᴏ LATIN LETTER SMALL CAPITAL O
	{'\u1d1b', "t"},  // ᴛ LATIN LETTER SMALL CAPITAL T
	{'\u1d1c', "u"},  // ᴜ LATIN LETTER SMALL CAPITAL U
	{'\u1d20', "v"},  // ᴠ LATIN LETTER SMALL CAPITAL V
	{'\u1d21', "w"},  // ᴡ LATIN LETTER SMALL CAPITAL W
	{'\u1d22', "z"},  // ᴢ LATIN LETTER SMALL CAPITAL Z
	{'\u2010', "-"},  // ‐ HYPHEN
	{'\u2012', "-"},  // ‒ FIGURE DASH
	{'\u2016', "ll"}, // ‖ DOUBLE VERTICAL LINE
	{'\u2018', "'"},  // ‘ LEFT SINGLE QUOTATION MARK
	{'\u2019', "'"},  // ’ RIGHT SINGLE QUOTATION MARK
	{'\u201a', ","},  // ‚ SINGLE LOW-9 QUOTATION MARK
	{'\u201b', "'"},  // ‛ SINGLE HIGH-REVERSED-9 QUOTATION MARK
	{'\u201c', "\""}, // “ LEFT DOUBLE QUOTATION MARK
	{'\u201d', "\""}, // ” RIGHT DOUBLE QUOTATION MARK
	{'\u201f', "\""}, // ‟ DOUBLE HIGH-REVERSED-9 QUOTATION MARK
	{'\u2032', "'"},  // ′ PRIME
	{'\u2043', "-"},  // ⁃ HYPHEN BULLET
	{'\u2044', "/"},  // ⁄ FRACTION SLASH
	{'\u2212', "-"},  // − MINUS SIGN
	{'\u2215', "/"},  // ∕ DIVISION SLASH
	{'\u2223', "l"},  // ∣ DIVIDES
	{'\u2236', ":"},  // ∶ RATIO
	{'\u23d0', "l"},  // ⏐ VERTICAL LINE EXTENSION
	{'\u2502', "l"},  // │ BOX DRAWINGS LIGHT VERTICAL
	{'\u2d4f', "l"},  // ⵏ TIFINAGH LETTER YAN
	{'\ua731', "s"},  // ꜱ LATIN LETTER SMALL CAPITAL S
	{'\ua78c', "'"},  // ꞌ LATIN SMALL LETTER SALTILLO
}

// sequences are the letter pairs of Key's step 5, which look like one
// letter: "rn" like "m" and "vv" like "w" in every sans-serif font at the
// sizes of a member list. Each is shorter than what it replaces, so that
// the replacement is made in place. "cl" for "d" is not one: the open "c"
// shows, and it would make "clara" and "Dara" one name.
var sequences = [...]struct{ from, to string }{
	{"rn", "m"},
	{"vv", "w"},
}

// confusable returns the prototype of r, if the table has one.
func confusable(r rune) (string, bool) {
	i, ok := slices.BinarySearchFunc(confusables[:], r, func(p prototype, r rune) int { return int(p.from - r) })
	if !ok {
		return "", false
	}
	return confusables[i].to, true
}
