package identity

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"sync"
)

// Sizes of a guest token.
const (
	// MinKeyBytes is the shortest key NewTokens takes: 256 bits.
	MinKeyBytes = 32
	// TokenLen is the length of a guest token, in characters of unpadded
	// base64url: tokenVersion, tokenRandomBytes random bytes and
	// tokenMACBytes of MAC.
	TokenLen = (1 + tokenRandomBytes + tokenMACBytes) * 4 / 3
	// HashLen is the length of Hash of a token, the Secret of its
	// identity.
	HashLen = sha256.Size

	// tokenRandomBytes is how much of a token is random: 128 bits, which
	// no one guesses.
	tokenRandomBytes = 16
	// tokenMACBytes is how much of the HMAC-SHA256 a token keeps: 128
	// bits, which no one forges.
	tokenMACBytes = 16
	// tokenBytes is the length of a decoded token, a multiple of 3: its
	// base64 has no padding bits, so each token has one spelling.
	tokenBytes = 1 + tokenRandomBytes + tokenMACBytes
	// tokenVersion is the first byte of a token of this format.
	tokenVersion = 1
	// tokenKeyInfo is the HKDF context of the MAC key, so that the key of
	// the deployment can serve other uses without their MACs being
	// taken for tokens.
	tokenKeyInfo = "parley/identity: guest token MAC key, version 1"
)

// Tokens mints and checks guest tokens under one key. It is safe for
// concurrent use.
type Tokens struct {
	// states holds *macState values keyed with the MAC key, ready to be
	// Reset: making one costs more than the MAC of a token.
	states sync.Pool
}

// macState is what one check of a token works in: the HMAC-SHA256 under
// the MAC key, and buffers that would otherwise be allocated per call.
type macState struct {
	h   hash.Hash
	in  [TokenLen]byte    // the token's text, to decode
	raw [tokenBytes]byte  // the token, decoded
	sum [sha256.Size]byte // a MAC or a hash
}

// NewTokens returns Tokens under key, which must have at least MinKeyBytes
// random bytes and be kept secret, and kept: tokens minted under one key
// are invalid under another. A deployment makes its key once and keeps it
// in its store (store.Store.Constant).
func NewTokens(key []byte) (*Tokens, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("%w: guest token key of %d bytes, want at least %d", ErrKey, len(key), MinKeyBytes)
	}
	macKey, err := hkdf.Key(sha256.New, key, nil, tokenKeyInfo, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("%w: derive the guest token key: %v", ErrKey, err)
	}
	t := &Tokens{}
	t.states.New = func() any { return &macState{h: hmac.New(sha256.New, macKey)} }
	return t, nil
}

// mac writes into dst the MAC of the version and random bytes of raw.
func (st *macState) mac(dst *[tokenMACBytes]byte, raw *[tokenBytes]byte) {
	st.h.Reset()
	st.h.Write(raw[:1+tokenRandomBytes])
	copy(dst[:], st.h.Sum(st.sum[:0]))
}

// mac writes into dst the MAC of the version and random bytes of raw.
func (t *Tokens) mac(dst *[tokenMACBytes]byte, raw *[tokenBytes]byte) {
	st := t.states.Get().(*macState)
	st.mac(dst, raw)
	t.states.Put(st)
}

// Mint returns a new guest token: TokenLen URL-safe characters, 128 bits
// of them random, the rest a MAC that only this key makes. It fails only
// if the system's random source does.
func (t *Tokens) Mint() (string, error) {
	var raw [tokenBytes]byte
	raw[0] = tokenVersion
	if _, err := rand.Read(raw[1 : 1+tokenRandomBytes]); err != nil {
		return "", fmt.Errorf("identity: mint a guest token: %w", err)
	}
	var m [tokenMACBytes]byte
	t.mac(&m, &raw)
	copy(raw[1+tokenRandomBytes:], m[:])
	return encode(raw), nil
}

// encode returns the text of the decoded token raw.
func encode(raw [tokenBytes]byte) string {
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// Valid reports whether token is a guest token minted under this key: of
// TokenLen base64url characters, of this version, with a MAC that holds,
// compared in constant time. Anything else, of any length, is refused
// after reading at most TokenLen bytes of it.
func (t *Tokens) Valid(token string) bool {
	st := t.states.Get().(*macState)
	defer t.states.Put(st)
	return st.valid(token)
}

// valid is Valid, in st.
func (st *macState) valid(token string) bool {
	if len(token) != TokenLen {
		return false
	}
	copy(st.in[:], token)
	n, err := base64.RawURLEncoding.Strict().Decode(st.raw[:], st.in[:])
	if err != nil || n != tokenBytes || st.raw[0] != tokenVersion {
		return false
	}
	var m [tokenMACBytes]byte
	st.mac(&m, &st.raw)
	return hmac.Equal(m[:], st.raw[1+tokenRandomBytes:])
}

// Hash returns the SHA-256 of token, which the store keeps as its
// identity's Secret in place of the token.
func Hash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Matches reports whether token is valid and is the token whose Hash is
// secret, comparing in constant time. An empty secret, that of an identity
// the host application vouches for, matches no token.
func (t *Tokens) Matches(token string, secret []byte) bool {
	st := t.states.Get().(*macState)
	defer t.states.Put(st)
	if !st.valid(token) {
		return false
	}
	st.sum = sha256.Sum256(st.in[:]) // the token, as valid left it
	return subtle.ConstantTimeCompare(st.sum[:], secret) == 1
}
