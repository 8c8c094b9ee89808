package names

// GeneralKey is Key without its fast path for ASCII.
func GeneralKey(name string) string { return key(name) }

// ASCIIKey is Key's fast path for ASCII; ok is false where it declines.
func ASCIIKey(name string) (k string, ok bool) { return asciiKey(name) }

// MaxInputPerChar is the bytes Normalize reads per character allowed.
const MaxInputPerChar = maxInputPerChar
