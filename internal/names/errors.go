package names

import "fmt"

// A Refusal is a reason a name is refused. The refusals are the Err values
// of this package; Normalize returns one of them, wrapped in a *CharError when one
// character is at fault or with the lengths when the name is too long: test
// for them with errors.Is, read them with errors.As. Text is English for
// people; Error adds the package's prefix, for logs.
//
// A Refusal is immutable and safe for concurrent use.
type Refusal struct {
	text string
}

// Text returns the refusal's English text, for people: "name contains an
// invisible character".
func (r *Refusal) Text() string { return r.text }

// Error returns the refusal's text with the package's prefix.
func (r *Refusal) Error() string { return "names: " + r.text }

// The refusals. Every one but ErrTooLong is something retyping the name in
// another way cannot get around; ErrTooLong is fixed by a shorter name.
var (
	// ErrEmpty: nothing is left once white space is trimmed.
	ErrEmpty = &Refusal{"name must not be empty"}
	// ErrTooLong: the normalised name has more code points than allowed.
	ErrTooLong = &Refusal{"name is too long"}
	// ErrEncoding: the name is not valid UTF-8, or holds U+FFFD REPLACEMENT
	// CHARACTER, which is what a JSON decoder makes of invalid UTF-8 and of
	// lone surrogates (UTF-8 cannot carry a surrogate code point at all).
	ErrEncoding = &Refusal{"name is not valid text"}
	// ErrControl: a control character (C0, DEL or C1) other than white
	// space, which is collapsed instead. BEL rings, ESC starts terminal
	// escapes in logs.
	ErrControl = &Refusal{"name contains a control character"}
	// ErrBidi: a bidirectional formatting control (U+061C, U+200E, U+200F,
	// U+202A-U+202E, U+2066-U+2069), which reorders the text around the name
	// ("Mallory\u202e" turns its join line around).
	ErrBidi = &Refusal{"name contains a text-direction control"}
	// ErrInvisible: a default-ignorable code point (zero-width space, word
	// joiner, BOM, soft hyphen, Hangul fillers, variation selectors, tags...)
	// outside the few places a script or an emoji needs one, or a character
	// that shows as blank (U+2800 BRAILLE PATTERN BLANK...). Either makes two
	// names look alike that are not the same text.
	ErrInvisible = &Refusal{"name contains an invisible character"}
	// ErrBlank: no character of the name can be seen.
	ErrBlank = &Refusal{"name has no visible character"}
	// ErrFormat: a format character that is not default-ignorable (the
	// Arabic number signs U+0600-U+0605, the interlinear annotation
	// characters U+FFF9-U+FFFB, the Egyptian hieroglyph format controls).
	ErrFormat = &Refusal{"name contains a formatting character"}
	// ErrPrivateUse: a private-use code point, which every font shows its
	// own way, or not at all.
	ErrPrivateUse = &Refusal{"name contains a private-use character"}
	// ErrNoncharacter: one of the 66 noncharacters (U+FDD0-U+FDEF and the
	// last two code points of every plane).
	ErrNoncharacter = &Refusal{"name contains a noncharacter"}
	// ErrUnassigned: a code point that is not assigned in the version of
	// Unicode this program was built with (unicode.Version).
	ErrUnassigned = &Refusal{"name contains a character unknown to this server"}
	// ErrMarks: a combining mark with no character to sit on (at the start of
	// the name, or after a space), more than MaxMarks of them on one
	// character, or the same mark twice on one character (which shows as
	// one).
	ErrMarks = &Refusal{"name has an accent on no letter, or too many on one"}
)

// CharError is a refusal caused by one character of the normalised name.
// Nothing changes it once made; it is safe for concurrent use.
type CharError struct {
	Refusal *Refusal
	Rune    rune
}

// Error names the refusal and the character, as U+XXXX.
func (e *CharError) Error() string { return fmt.Sprintf("%v (%U)", e.Refusal, e.Rune) }

// Unwrap returns the refusal, for errors.Is.
func (e *CharError) Unwrap() error { return e.Refusal }
