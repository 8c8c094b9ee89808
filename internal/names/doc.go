// Package names makes the names people type into names the chat can store,
// show and compare.
//
// Normalize turns what a person typed into the name that is stored and
// shown (NFKC, trimmed, one space between words), or refuses it for a
// reason (a *Refusal: ErrInvisible, ErrControl, ErrBidi...) when it holds
// a character that hides, reorders or pretends: invisible characters, text
// direction controls, control characters, piles of accents, or nothing
// visible at all.
//
// Everything here is a pure function of its input and safe for concurrent
// use. The results depend on the Unicode version Go and golang.org/x/text
// were built with (unicode.Version).
package names
