package names

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxMarks is the most nonspacing and enclosing marks (gc Mn, Me) that
// Normalize accepts on one character, counted in its canonical
// decomposition. Vietnamese needs two, pointed Hebrew and Tibetan stacks
// three; UTS #39 (section 5.4) suggests refusing more than four. More is
// the "Zalgo" text that spills over the lines around it.
const MaxMarks = 4

// maxInputPerChar bounds the bytes Normalize reads, per character allowed,
// before it normalises: a name of more is refused as too long without being
// looked at, so that a client cannot make the server normalise megabytes. A
// character is at most 4 bytes and carries at most MaxMarks marks; the rest
// is room for white space that collapses.
const maxInputPerChar = 64

// Normalize returns the form of name that is stored and shown, or why the
// name is refused (a *Refusal, maybe wrapped: see Refusal).
//
// The name is put in Unicode normalisation form NFKC, so that
// compatibility characters become the characters they stand for (full-width
// "Ａｌｉｃｅ" and mathematical bold "𝐀lice" become "Alice", "ﬁ" becomes
// "fi"); white space (unicode.IsSpace: tabs, newlines, no-break and
// ideographic spaces...) is trimmed from both ends and every run of it
// inside becomes one ASCII space.
//
// The name is then refused if it holds a control character (ErrControl), a
// bidirectional control (ErrBidi), a private-use code point
// (ErrPrivateUse), a noncharacter (ErrNoncharacter), a code point
// unassigned in unicode.Version (ErrUnassigned), another format character
// (ErrFormat), a combining mark with no character under it or more than
// MaxMarks or the same mark twice on one character (ErrMarks), or if no
// character of it can be seen (ErrBlank). A blank-looking character (U+2800
// BRAILLE PATTERN BLANK, U+FFFC OBJECT REPLACEMENT CHARACTER, U+1D159
// MUSICAL SYMBOL NULL NOTEHEAD, U+16FE4 KHITAN SMALL SCRIPT FILLER) is
// refused (ErrInvisible), and so is a default-ignorable code point (the
// Hangul fillers among them), except where a script or an emoji needs one,
// and then only there:
//
//   - U+200D ZERO WIDTH JOINER between two emoji (👩‍💻), or after a virama
//     (Devanagari half forms, Sinhala "ශ්‍රී", Malayalam chillus), as
//     IDNA's CONTEXTJ rule allows (RFC 5892, appendix A.2);
//   - U+200C ZERO WIDTH NON-JOINER after a virama, or between two letters
//     of a cursive script (Arabic, Syriac, N'Ko, Mandaic, Mongolian, Adlam,
//     Hanifi Rohingya), where Persian uses it inside words: IDNA's rule
//     (A.1), with letters of these scripts standing in for the joining
//     types, which Go's tables do not have;
//   - U+FE0E and U+FE0F (text and emoji presentation) after a symbol, a
//     digit, '#' or '*' (keycaps: "1️⃣") or ‼ ⁉ 〰 〽;
//   - the ideographic variation selectors U+E0100-U+E01EF after a Han
//     ideograph (Japanese names use them to pick a glyph);
//   - the Mongolian free variation selectors after a Mongolian letter, and
//     U+180E MONGOLIAN VOWEL SEPARATOR between two;
//   - tags in the three subdivision flags (🏴󠁧󠁢󠁥󠁮󠁧󠁿 🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴󠁧󠁢󠁷󠁬󠁳󠁿), and nowhere else.
//
// Key ignores all of these, so none of them can make two names that look
// alike different names.
//
// max, if positive, is the most characters the normalised name may have
// (ErrTooLong), counted in code points (utf8.RuneCountInString), as the
// page counts them ([...s].length): "é" is one, "👍🏽" two, "👩‍💻" three,
// a flag two. A name of more than 64 bytes per character allowed is refused
// as too long before it is normalised.
//
// For a name it accepts, Normalize(Normalize(name)) returns the same name,
// and Key of either is the same.
func Normalize(name string, max int) (string, error) {
	if !utf8.ValidString(name) {
		return "", ErrEncoding
	}
	if max > 0 && len(name) > maxInputPerChar*max {
		return "", fmt.Errorf("%w: %d bytes before normalisation", ErrTooLong, len(name))
	}
	s := collapse(norm.NFKC.String(name))
	if s == "" {
		return "", ErrEmpty
	}
	if err := check(s); err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(s); max > 0 && n > max {
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, n, max)
	}
	return s, nil
}

// collapse trims white space from both ends of s and makes every run of it
// inside one ASCII space.
func collapse(s string) string {
	if tidy(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// tidy reports whether collapse would leave s as it is: its only white
// space is single ASCII spaces between other characters.
func tidy(s string) bool {
	space := true // a space here would be leading
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == ' ':
				if space {
					return false
				}
				space = true
			case c >= '\t' && c <= '\r':
				return false
			default:
				space = false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return false
		}
		space = false
		i += n
	}
	return len(s) == 0 || !space
}

// checker is check's state as it reads a name.
type checker struct {
	s         string
	visible   bool // a character that shows has been seen
	invisible rune // the first invisible character not allowed where it is, or -1
	prev      rune // the code point before the current one, or -1
	prevAt    int  // its offset in s
	base      rune // the character marks now sit on, or -1 (at the start, after a space)
	marks     [MaxMarks]rune
	nmarks    int // stacking marks on base
}

// check refuses s, collapsed NFKC, for the characters it holds (see
// Normalize).
func check(s string) error {
	c := checker{s: s, invisible: -1, prev: -1, base: -1}
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf { // ASCII: a space, a control or a base
			switch {
			case b == ' ':
				c.base, c.nmarks = -1, 0
			case b < ' ' || b == 0x7f:
				return &CharError{ErrControl, rune(b)}
			default:
				c.visible, c.base, c.nmarks = true, rune(b), 0
			}
			c.prev, c.prevAt = rune(b), i
			i++
			continue
		}
		if n := subdivisionFlag(s[i:]); n > 0 {
			c.visible, c.base, c.nmarks = true, blackFlag, 0
			c.prev, c.prevAt = cancelTag, i+n-utf8.RuneLen(cancelTag)
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if err := c.rune(i, r, size); err != nil {
			return err
		}
		c.prev, c.prevAt = r, i
		i += size
	}
	switch {
	case !c.visible:
		return ErrBlank
	case c.invisible >= 0:
		return &CharError{ErrInvisible, c.invisible}
	}
	return nil
}

// rune checks the code point r, not ASCII, size bytes at offset i.
func (c *checker) rune(i int, r rune, size int) error {
	switch {
	case r == replacement:
		return &CharError{ErrEncoding, r}
	case unicode.IsControl(r):
		return &CharError{ErrControl, r}
	case unicode.Is(unicode.Bidi_Control, r):
		return &CharError{ErrBidi, r}
	case ignorable(r):
		// Allowed or not, it leaves the marks' base as it is.
		if c.invisible < 0 && !c.allowed(i, r, size) {
			c.invisible = r
		}
	case unicode.Is(unicode.Cf, r):
		return &CharError{ErrFormat, r}
	case unicode.Is(unicode.Co, r):
		return &CharError{ErrPrivateUse, r}
	case noncharacter(r):
		return &CharError{ErrNoncharacter, r}
	case !assigned(r):
		return &CharError{ErrUnassigned, r}
	case blank(r):
		if c.invisible < 0 {
			c.invisible = r
		}
		c.base, c.nmarks = r, 0
	default:
		d := norm.NFD.PropertiesString(c.s[i:]).Decomposition()
		if d == nil {
			return c.char(r)
		}
		for _, r := range string(d) {
			if err := c.char(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// char takes r, a code point of a character's canonical decomposition: a
// base, or a mark on the one before.
func (c *checker) char(r rune) error {
	if !mark(r) {
		c.visible, c.base, c.nmarks = true, r, 0
		return nil
	}
	if c.base < 0 {
		return &CharError{ErrMarks, r}
	}
	if !stackingMark(r) {
		return nil
	}
	for _, m := range c.marks[:c.nmarks] {
		if m == r {
			return &CharError{ErrMarks, r}
		}
	}
	if c.nmarks == MaxMarks {
		return &CharError{ErrMarks, r}
	}
	c.marks[c.nmarks] = r
	c.nmarks++
	return nil
}

// allowed reports whether the default-ignorable r, size bytes at offset i,
// is where a script or an emoji needs it (see Normalize).
func (c *checker) allowed(i int, r rune, size int) bool {
	if c.prev < 0 {
		return false
	}
	next := rune(-1) // at the end
	if i+size < len(c.s) {
		next, _ = utf8.DecodeRuneInString(c.s[i+size:])
	}
	switch {
	case r == zwj:
		return virama(c.s[c.prevAt:]) || emoji(c.prev) && unicode.In(next, unicode.So, unicode.Sm)
	case r == zwnj:
		return virama(c.s[c.prevAt:]) || c.base >= 0 && cursive(c.base) && cursive(nextBase(c.s[i+size:]))
	case r == vs15 || r == vs16:
		return presentable(c.prev)
	case 0xe0100 <= r && r <= 0xe01ef:
		return unicode.Is(unicode.Han, c.prev)
	case 0x180b <= r && r <= 0x180d || r == 0x180f:
		return mongolianLetter(c.prev)
	case r == mvs:
		return mongolianLetter(c.prev) && mongolianLetter(next)
	}
	return false
}

// nextBase returns the first code point of s that is not a mark, or -1.
func nextBase(s string) rune {
	for _, r := range s {
		if !mark(r) {
			return r
		}
	}
	return -1
}

// mongolianLetter reports whether r is a letter of the Mongolian script.
func mongolianLetter(r rune) bool { return unicode.IsLetter(r) && unicode.Is(unicode.Mongolian, r) }
