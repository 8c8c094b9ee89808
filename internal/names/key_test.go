package names_test

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/parley-chat/parley/internal/names"
)

// sameKey are groups of names that look alike: each group has one key.
var sameKey = []struct {
	desc  string
	names []string
}{
	{"Alice and her look-alikes", []string{
		"Alice", "alice", "ALICE", " Alice ", "Alice  ",
		"Аlice",                                                                   // Cyrillic capital A
		"Ａｌｉｃｅ",                                                                   // full-width
		"𝐀lice",                                                                   // mathematical bold capital A
		"AIice",                                                                   // capital I for l
		"A1ice",                                                                   // digit one for l
		"A|ice",                                                                   // vertical line for l
		"Alіce",                                                                   // Cyrillic і
		"Alıce",                                                                   // dotless i
		"Ali\u0307ce",                                                             // i with a combining dot above, on its dot
		"ɑlice",                                                                   // Latin alpha
		"ΑLΙCΕ",                                                                   // Greek capitals alpha, iota, epsilon
		"Alicе",                                                                   // Cyrillic е
		"Alice\u200b", "A\u200blice", "Alice\u2060", "Alice\ufeff", "Alice\u00ad", // refused by Normalize
		"Alice\u2800", // blank: read as a trailing space
		"Alice\u202e", // bidi control: refused by Normalize
	}},
	{"You", []string{"You", "YOU", "you", "Yоu" /* Cyrillic о */, "Y0U", "Υou" /* Greek Υ */, "ΥΟU" /* Greek Υ Ο */}},
	{"Bob", []string{"Bob", "BOB", "B0b", "Вob" /* Cyrillic В */, "Bоb"}},
	{"Sam", []string{"Sam", "Ѕam" /* Cyrillic Ѕ */, "ꜱam" /* small capital s */, "Sаm"}},
	{"accents stay, in any case", []string{"Zoë", "Zoe\u0308", "ZOË", "zoë"}},
	{"Cyrillic in both cases", []string{"НИНА", "Нина", "нина"}},
	{"Greek in both cases", []string{"ΝΙΚΟΣ", "Νικος", "νικοσ"}},
	{"Turkish dotted capital I", []string{"İpek", "ipek", "Ipek", "IPEK"}},
	{"full case folding", []string{"straße", "STRASSE", "strasse", "STRAẞE"}},
	{"rn looks like m", []string{"Kim", "Kirn", "KIRN"}},
	{"vv looks like w", []string{"Wanda", "Vvanda", "VVANDA"}},
	{"apostrophes", []string{"O'Brien", "O’Brien", "O‘Brien", "OʼBrien"}},
	{"hyphens", []string{"Jean-Luc", "Jean‐Luc", "Jean−Luc", "Jean‑Luc"}},
	{"white space", []string{"Mary Jane", "Mary\u00a0Jane", "Mary \t Jane", "Mary\u3000Jane"}},
	{"Cherokee", []string{"Ꭺꮪ", "ꭺᏚ", "As"}},
	{"Armenian", []string{"օո", "on", "ON"}},
	{"Persian yeh at the end looks like alef maksura", []string{"علی", "على"}},
	{"Persian yeh inside looks like Arabic yeh", []string{"علیرضا", "عليرضا"}},
	{"Persian keheh inside looks like Arabic kaf", []string{"کمال", "كمال"}},
	{"room names", []string{"general", "General", "GENERAL", "generaӏ", "gеneral"}},
	{"emoji presentation selector", []string{"❤\ufe0f Sam", "❤ Sam"}},
	// A ZWJ sequence shows as one picture, its parts as several; Key takes
	// them as one name, which wrongs nobody.
	{"ZWJ", []string{"👩\u200d💻", "👩💻"}},
}

// otherKey are pairs of names that do not look alike: their keys differ.
var otherKey = []struct {
	desc, a, b string
}{
	{"another name", "Alice", "Alicia"},
	{"one letter", "Bob", "Rob"},
	{"Han", "山田", "山由"},
	{"yeh and alef maksura: the yeh's dots show", "علي", "على"},
	{"accents show", "Zoë", "Zoe"},
	{"acute", "José", "Jose"},
	{"a space", "Alice Smith", "AliceSmith"},
	{"five is not s", "5am", "Sam"},
	{"skin tone", "👍 Sam", "👍🏽 Sam"},
	{"subdivision flags", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"},
	{"cl is not d", "Clara", "Dara"},
	{"Cyrillic Саша is not Sasha", "Саша", "Sasha"},
	{"Greek Σ is not S", "ΝΙΚΟΣ", "NIKOS"},
	{"Greek ν counts as n (see Key)", "Daνe", "Dave"},
	{"Greek υ counts as y", "Yου", "You"},
	{"Persian keheh at the end", "ک", "ك"},
	{"Hebrew", "דוד", "דור"},
	{"Devanagari", "राम", "रम"},
	{"Thai", "สมชาย", "สมชัย"},
}

func TestKeySame(t *testing.T) {
	for _, tc := range sameKey {
		t.Run(tc.desc, func(t *testing.T) {
			want := names.Key(tc.names[0])
			if want == "" {
				t.Fatalf("Key(%+q) is empty", tc.names[0])
			}
			for _, n := range tc.names[1:] {
				if got := names.Key(n); got != want {
					t.Errorf("Key(%+q) = %+q; want %+q, the key of %+q", n, got, want, tc.names[0])
				}
			}
		})
	}
}

func TestKeyOther(t *testing.T) {
	for _, tc := range otherKey {
		t.Run(tc.desc, func(t *testing.T) {
			if ka, kb := names.Key(tc.a), names.Key(tc.b); ka == kb {
				t.Errorf("Key(%+q) = Key(%+q) = %+q; want them apart", tc.a, tc.b, ka)
			}
		})
	}
}

// TestKeyForm checks what a key is made of, on every example of the tests:
// NFD, stable (the key of a key is itself), and the key of the normalised
// name for every name Normalize accepts.
func TestKeyForm(t *testing.T) {
	var all []string
	for _, tc := range sameKey {
		all = append(all, tc.names...)
	}
	for _, tc := range otherKey {
		all = append(all, tc.a, tc.b)
	}
	for _, tc := range acceptCases {
		all = append(all, tc.name)
	}
	for _, tc := range refuseCases {
		all = append(all, tc.name)
	}
	for _, n := range all {
		k := names.Key(n)
		if !norm.NFD.IsNormalString(k) {
			t.Errorf("Key(%+q) = %+q, not in NFD", n, k)
		}
		if kk := names.Key(k); kk != k {
			t.Errorf("Key(%+q) = %+q, whose key is %+q", n, k, kk)
		}
		if s, err := names.Normalize(n, 0); err == nil && names.Key(s) != k {
			t.Errorf("Key(%+q) = %+q, but the key of its normal form %+q is %+q", n, k, s, names.Key(s))
		}
	}
}

func TestKeyBlank(t *testing.T) {
	for _, n := range []string{"", " ", "\u200b", "\u2800\u3164", "\x07"} {
		if k := names.Key(n); k != "" {
			t.Errorf("Key(%+q) = %+q; want it empty", n, k)
		}
	}
}

func TestReserved(t *testing.T) {
	r := names.NewReserved("You", "System", "Server", "parley")
	cases := []struct {
		name string
		want bool
	}{
		{"You", true},
		{"YOU", true},
		{"you", true},
		{"Yоu", true}, // Cyrillic о
		{"Y0u", true},
		{" You ", true},
		{"You\u200b", true},
		{"SYSTEM", true},
		{"Sуstem", true}, // Cyrillic у
		{"server", true},
		{"PARLEY", true},
		{"parIey", true},
		{"Yours", false},
		{"Yo", false},
		{"Alice", false},
		{"", false},
	}
	for _, tc := range cases {
		if got := r.Contains(tc.name); got != tc.want {
			t.Errorf("Contains(%+q) = %v, want %v", tc.name, got, tc.want)
		}
		if got := r.ContainsKey(names.Key(tc.name)); got != tc.want {
			t.Errorf("ContainsKey(Key(%+q)) = %v, want %v", tc.name, got, tc.want)
		}
	}
	var none *names.Reserved
	if none.Contains("You") || names.NewReserved().Contains("You") {
		t.Error("an empty set reserves You")
	}
}

// TestProbe replays the probe of names that looked like Alice on the page,
// or like nothing, or took the page's labels: each is refused, or is Alice
// by key, or is reserved.
func TestProbe(t *testing.T) {
	reserved := names.NewReserved("You", "System", "Server", "parley")
	alice := names.Key("Alice")
	cases := []struct {
		name    string
		refused bool // by Normalize; otherwise it is Alice by key, or reserved
	}{
		{"Alice\u200b", true},
		{"A\u200blice", true},
		{"Alice\u2060", true},
		{"Alice\ufeff", true},
		{"Аlice", false},
		{"Ａｌｉｃｅ", false},
		{"𝐀lice", false},
		{"\u200b", true},
		{"\u3164", true},
		{"\u2800", true},
		{"Mallory\u202e", true},
		{"\a", true},
		{"Alice\a", true},
		{"\x1b[2J", true},
		{"You", false},
	}
	for _, tc := range cases {
		s, err := names.Normalize(tc.name, 32)
		switch {
		case tc.refused && err == nil:
			t.Errorf("Normalize(%+q) = %+q; want it refused", tc.name, s)
		case tc.refused:
			if k := names.Key(tc.name); k != alice && strings.Contains(tc.name, "lice") {
				t.Errorf("Key(%+q) = %+q; want Alice's key %+q even so", tc.name, k, alice)
			}
		case err != nil:
			t.Errorf("Normalize(%+q): %v", tc.name, err)
		case names.Key(s) != alice && !reserved.Contains(s):
			t.Errorf("%+q (normalised %+q) is neither Alice by key nor reserved", tc.name, s)
		}
	}
}
