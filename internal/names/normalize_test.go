package names_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/names"
)

// acceptCases are names Normalize accepts, with what it makes of them.
var acceptCases = []struct {
	desc, name, want string
}{
	{"ascii", "Alice", "Alice"},
	{"trimmed", "  Alice \t", "Alice"},
	{"white space collapsed", "Alice \t\n Smith", "Alice Smith"},
	{"no-break space", "Alice\u00a0Smith", "Alice Smith"},
	{"ideographic space", "Alice\u3000Smith", "Alice Smith"},
	{"next line is white space", "Alice\u0085", "Alice"},
	{"line separator is white space", "Alice\u2028Smith", "Alice Smith"},
	{"full-width", "Ａｌｉｃｅ", "Alice"},
	{"mathematical bold", "𝐀lice", "Alice"},
	{"ligature", "ﬁona", "fiona"},
	{"roman numeral", "Henry Ⅷ", "Henry VIII"},
	{"Cyrillic A (collides by key)", "Аlice", "Аlice"},
	{"capital I for l (collides by key)", "AIice", "AIice"},
	{"precomposed accent", "Zoë", "Zoë"},
	{"combining accent composed", "Zoe\u0308", "Zoë"},
	{"Vietnamese", "Nguyễn", "Nguyễn"},
	{"apostrophe", "O’Brien", "O’Brien"},
	{"hyphen", "Jean-Luc", "Jean-Luc"},
	{"CJK", "山田", "山田"},
	{"half-width katakana", "ｶﾀｶﾅ", "カタカナ"},
	{"Korean", "김민준", "김민준"},
	{"Arabic", "علي", "علي"},
	{"Arabic alef maksura", "على", "على"},
	{"Persian ZWNJ between letters", "می\u200cخواهم", "می\u200cخواهم"},
	{"Hebrew", "דוד", "דוד"},
	{"Hebrew with points", "שָׁלוֹם", "שָׁלוֹם"},
	{"Devanagari", "नमस्ते", "नमस्ते"},
	{"Devanagari ZWJ after virama", "क्\u200dष", "क्\u200dष"},
	{"Devanagari ZWNJ after virama", "क्\u200cष", "क्\u200cष"},
	{"Sinhala ZWJ after virama", "ශ්\u200dරී", "ශ්\u200dරී"},
	{"Thai", "สมชาย", "สมชาย"},
	{"Mongolian", "ᠮᠣᠩᠭᠣᠯ", "ᠮᠣᠩᠭᠣᠯ"},
	{"Mongolian free variation selector", "ᠭ\u180b", "ᠭ\u180b"},
	{"Mongolian vowel separator", "ᠬᠠᠷ\u180eᠠ", "ᠬᠠᠷ\u180eᠠ"},
	{"ideographic variation selector", "葛\U000e0100飾", "葛\U000e0100飾"},
	{"emoji with skin tone", "👍🏽 Sam", "👍🏽 Sam"},
	{"flag", "🇫🇷 Marie", "🇫🇷 Marie"},
	{"ZWJ sequence", "👩\u200d💻 Ada", "👩\u200d💻 Ada"},
	{"ZWJ sequence with skin tone", "👩🏽\u200d💻", "👩🏽\u200d💻"},
	{"family", "👨\u200d👩\u200d👧\u200d👦", "👨\u200d👩\u200d👧\u200d👦"},
	{"rainbow flag", "🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"},
	{"head shaking (a math symbol in a ZWJ sequence)", "🙂\u200d↔\ufe0f", "🙂\u200d↔\ufe0f"},
	{"emoji presentation", "❤\ufe0f Sam", "❤\ufe0f Sam"},
	{"keycap", "1\ufe0f\u20e3", "1\ufe0f\u20e3"},
	{"Scotland", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Iain", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Iain"},
	{"four marks", "e\u0323\u0302\u0300\u0306", "ệ\u0300\u0306"},
	{"reserved label is a name here", "You", "You"},
}

// none is a refuseCase's r for a refusal that is not a *CharError.
const none = -1

// refuseCases are names Normalize refuses, with why; r is the character at
// fault, or none.
var refuseCases = []struct {
	desc, name string
	want       *names.Refusal
	r          rune
}{
	{"empty", "", names.ErrEmpty, none},
	{"spaces", "  \t\n", names.ErrEmpty, none},
	{"ideographic space", "\u3000", names.ErrEmpty, none},

	{"zero width space after", "Alice\u200b", names.ErrInvisible, '\u200b'},
	{"zero width space inside", "A\u200blice", names.ErrInvisible, '\u200b'},
	{"word joiner", "Alice\u2060", names.ErrInvisible, '\u2060'},
	{"byte order mark", "Alice\ufeff", names.ErrInvisible, '\ufeff'},
	{"soft hyphen", "Ali\u00adce", names.ErrInvisible, '\u00ad'},
	{"combining grapheme joiner", "Al\u034fice", names.ErrInvisible, '\u034f'},
	{"Hangul filler inside", "Sam\u3164Lee", names.ErrInvisible, '\u1160'}, // NFKC makes U+3164 U+1160
	{"Khmer inherent vowel", "Sam\u17b4", names.ErrInvisible, '\u17b4'},
	{"Mongolian vowel separator after Latin", "Alice\u180e", names.ErrInvisible, '\u180e'},
	{"invisible times", "a\u2062b", names.ErrInvisible, '\u2062'},
	{"variation selector on a letter", "Alice\ufe0f", names.ErrInvisible, '\ufe0f'},
	{"variation selector 1", "Alice\ufe00", names.ErrInvisible, '\ufe00'},
	{"ideographic variation selector on Latin", "Alice\U000e0100", names.ErrInvisible, '\U000e0100'},
	{"tag", "Alice\U000e0041", names.ErrInvisible, '\U000e0041'},
	{"tags hiding text", "🏴\U000e0068\U000e0069\U000e007f", names.ErrInvisible, '\U000e0068'},
	{"ZWJ between letters", "Al\u200dice", names.ErrInvisible, '\u200d'},
	{"ZWJ after an emoji", "👍\u200d", names.ErrInvisible, '\u200d'},
	{"ZWJ at the start", "\u200d👍", names.ErrInvisible, '\u200d'},
	{"ZWNJ between Latin letters", "Al\u200cice", names.ErrInvisible, '\u200c'},
	{"ZWNJ after an Arabic word", "علي\u200c", names.ErrInvisible, '\u200c'},
	{"braille blank inside", "Sam\u2800Lee", names.ErrInvisible, '\u2800'},
	{"braille blank after", "Sam\u2800", names.ErrInvisible, '\u2800'},
	{"object replacement", "Sam\ufffc", names.ErrInvisible, '\ufffc'},

	{"zero width space only", "\u200b", names.ErrBlank, none},
	{"Hangul filler only", "\u3164", names.ErrBlank, none},
	{"half-width Hangul filler only", "\uffa0", names.ErrBlank, none},
	{"Hangul choseong and jungseong fillers", "\u115f\u1160", names.ErrBlank, none},
	{"braille blank only", "\u2800", names.ErrBlank, none},
	{"blanks and spaces", "\u2800 \u2800 \u200b", names.ErrBlank, none},
	{"null notehead", "\U0001d159", names.ErrBlank, none},

	{"right-to-left override", "Mallory\u202e", names.ErrBidi, '\u202e'},
	{"override first", "\u202eyrollaM", names.ErrBidi, '\u202e'},
	{"right-to-left mark", "Alice\u200f", names.ErrBidi, '\u200f'},
	{"left-to-right mark", "\u200eAlice", names.ErrBidi, '\u200e'},
	{"isolate", "\u2067Alice\u2069", names.ErrBidi, '\u2067'},
	{"Arabic letter mark", "علي\u061c", names.ErrBidi, '\u061c'},

	{"BEL", "Alice\a", names.ErrControl, '\a'},
	{"ESC", "\x1b[31mAlice", names.ErrControl, '\x1b'},
	{"NUL", "Al\x00ice", names.ErrControl, 0},
	{"DEL", "Alice\x7f", names.ErrControl, '\x7f'},
	{"C1 control sequence introducer", "Alice\u009b", names.ErrControl, '\u009b'},
	{"information separator", "Alice\x1f", names.ErrControl, '\x1f'},

	{"Arabic number sign", "\u0600Alice", names.ErrFormat, '\u0600'},
	{"interlinear annotation", "Alice\ufff9", names.ErrFormat, '\ufff9'},
	{"private use", "Alice\ue000", names.ErrPrivateUse, '\ue000'},
	{"supplementary private use", "\U000f0000", names.ErrPrivateUse, '\U000f0000'},
	{"noncharacter", "Alice\ufdd0", names.ErrNoncharacter, '\ufdd0'},
	{"plane end", "Alice\uffff", names.ErrNoncharacter, '\uffff'},
	{"supplementary plane end", "\U0001fffe", names.ErrNoncharacter, '\U0001fffe'},
	{"unassigned", "Alice\u0378", names.ErrUnassigned, '\u0378'},
	{"unassigned supplementary", "\U0002fffd", names.ErrUnassigned, '\U0002fffd'},

	{"invalid UTF-8", "Alice\xff", names.ErrEncoding, none},
	{"surrogate in UTF-8", "Alice\xed\xa0\x80", names.ErrEncoding, none},
	{"replacement character", "Alice\ufffd", names.ErrEncoding, '\ufffd'},

	{"leading mark", "\u0301Alice", names.ErrMarks, '\u0301'},
	{"mark alone", "\u0301", names.ErrMarks, '\u0301'},
	{"mark on a space", "Alice \u0301", names.ErrMarks, '\u0301'},
	{"spacing mark first", "\u093eAlice", names.ErrMarks, '\u093e'},
	{"same mark twice", "Zoe\u0308\u0308", names.ErrMarks, '\u0308'},
	{"same mark again, other between", "a\u0301\u0316\u0301", names.ErrMarks, '\u0301'},
	{"Thai tone mark twice", "ก\u0e48\u0e48", names.ErrMarks, '\u0e48'},
	{"five marks", "e\u0323\u0302\u0300\u0306\u0304", names.ErrMarks, '\u0304'},
	{"Zalgo", "Za\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307lgo", names.ErrMarks, '\u0304'},
}

func TestNormalizeAccepts(t *testing.T) {
	for _, tc := range acceptCases {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := names.Normalize(tc.name, 0)
			if err != nil || got != tc.want {
				t.Fatalf("Normalize(%+q) = %+q, %v; want %+q", tc.name, got, err, tc.want)
			}
			if again, err := names.Normalize(got, 0); err != nil || again != got {
				t.Errorf("Normalize(%+q) = %+q, %v; want it unchanged", got, again, err)
			}
		})
	}
}

func TestNormalizeRefuses(t *testing.T) {
	for _, tc := range refuseCases {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := names.Normalize(tc.name, 0)
			if !errors.Is(err, tc.want) || got != "" {
				t.Fatalf("Normalize(%+q) = %+q, %v; want %v", tc.name, got, err, tc.want)
			}
			var r *names.Refusal
			if !errors.As(err, &r) || r != tc.want || r.Text() == "" || !strings.HasSuffix(r.Error(), r.Text()) {
				t.Errorf("error %v: want the refusal %v", err, tc.want)
			}
			ce, isChar := errors.AsType[*names.CharError](err)
			switch {
			case tc.r == none && isChar:
				t.Errorf("error %v is about one character; want %v", err, tc.want)
			case tc.r != none && (!isChar || ce.Rune != tc.r):
				t.Errorf("error %v: want it about %U", err, tc.r)
			}
		})
	}
}

func TestNormalizeLength(t *testing.T) {
	cases := []struct {
		name string
		max  int
		ok   bool
	}{
		{"Alice", 5, true},
		{"Alice", 4, false},
		{"  Alice  ", 5, true},                           // counted after trimming
		{"Ａｌｉｃｅ", 5, true},                               // and after NFKC
		{"Zoe\u0308", 3, true},                           // composed: three code points
		{"é", 1, true},                                   // precomposed
		{"👍🏽", 1, false},                                 // two code points
		{"👍🏽", 2, true},                                  //
		{"👩\u200d💻", 3, true},                            // three
		{"👩\u200d💻", 2, false},                           //
		{"🇫🇷", 2, true},                                  // two regional indicators
		{"ﬃ", 2, false},                                  // NFKC makes three
		{"a" + strings.Repeat(" ", 150) + "b", 3, true},  // 152 bytes: under 64 per character
		{"a" + strings.Repeat(" ", 200) + "b", 3, false}, // 202: refused unread
		{strings.Repeat("x", 1000), 0, true},             // no limit
	}
	for _, tc := range cases {
		got, err := names.Normalize(tc.name, tc.max)
		switch {
		case tc.ok && err != nil:
			t.Errorf("Normalize(%+q, %d) = %v; want it accepted", tc.name, tc.max, err)
		case !tc.ok && (!errors.Is(err, names.ErrTooLong) || got != ""):
			t.Errorf("Normalize(%+q, %d) = %+q, %v; want %v", tc.name, tc.max, got, err, names.ErrTooLong)
		}
	}
}

// TestRefusalTexts checks that every refusal has a text of its own, and that
// Error is the text with the package's prefix.
func TestRefusalTexts(t *testing.T) {
	all := []*names.Refusal{
		names.ErrEmpty, names.ErrTooLong, names.ErrEncoding, names.ErrControl, names.ErrBidi,
		names.ErrInvisible, names.ErrBlank, names.ErrFormat, names.ErrPrivateUse,
		names.ErrNoncharacter, names.ErrUnassigned, names.ErrMarks,
	}
	seen := make(map[string]bool)
	for _, r := range all {
		if r.Text() == "" || seen[r.Text()] || r.Error() != "names: "+r.Text() {
			t.Errorf("refusal %q (Error %q): want a text of its own, and Error the text with the prefix", r.Text(), r.Error())
		}
		seen[r.Text()] = true
	}
	ce := &names.CharError{Refusal: names.ErrControl, Rune: '\a'}
	if got, want := ce.Error(), "names: name contains a control character (U+0007)"; got != want {
		t.Errorf("CharError.Error() = %q, want %q", got, want)
	}
}
