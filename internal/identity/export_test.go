package identity

// MintRaw returns the token of the given version and random bytes, with
// its MAC under t's key, for tests of what Valid refuses.
func (t *Tokens) MintRaw(version byte, random [tokenRandomBytes]byte) string {
	var raw [tokenBytes]byte
	raw[0] = version
	copy(raw[1:], random[:])
	var m [tokenMACBytes]byte
	t.mac(&m, &raw)
	copy(raw[1+tokenRandomBytes:], m[:])
	return encode(raw)
}
