// Package names makes the names people type into names the chat can store,
// show and compare: "Names that look the same are the same name".
//
// Normalize turns what a person typed into the name that is stored and
// shown (NFKC, trimmed, one space between words), or refuses it for a
// reason (a *Refusal: ErrInvisible, ErrControl, ErrBidi...) when it holds
// a character that hides, reorders or pretends: invisible characters, text
// direction controls, control characters, piles of accents, or nothing
// visible at all.
//
// Key returns the name's comparison key, a skeleton in the sense of UTS #39
// (Unicode Security Mechanisms, section 4), case-insensitive: two names with
// one key look alike and are one name, to be held by one person at a time.
// "Alice", "ALICE", "Аlice" (a Cyrillic А), "Ａｌｉｃｅ", "𝐀lice", "AIice"
// (a capital I) and "A1ice" have one key; "Alice" and "Alicia", "Zoë" and
// "Zoe", "山田" and "山由" do not. The look-alikes Key knows are a table of
// the package's own (confusables), a curated subset of the idea of
// UTS #39, not Unicode's data: what it does not list, it does not catch.
//
// Reserved holds the names nobody may take, the labels the page shows
// ("You"), compared by key.
//
// Room names are compared as names are: a room's key is Key of its
// (normalised) name, so that "general", "General" and "GENERAL" are one
// room, shown with the spelling it was created with, and a room cannot be
// made to look like another ("generaӏ" with a Cyrillic palochka is
// "general").
//
// Everything here is a pure function of its input and safe for concurrent
// use. The results depend on the Unicode version Go and golang.org/x/text
// were built with (unicode.Version): a stored key must be computed again
// from the stored name when they, or the table, change.
package names
