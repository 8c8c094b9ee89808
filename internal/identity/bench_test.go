package identity_test

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/identity"
)

// BenchmarkMint measures the minting of a guest token, on the first join
// with a name.
func BenchmarkMint(b *testing.B) {
	tk := newTokens(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Mint(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValid measures the check of a guest token, on every join that
// presents one: a minted token, and one a client made up.
func BenchmarkValid(b *testing.B) {
	tk := newTokens(b, 1)
	for _, bc := range []struct {
		name  string
		token string
		want  bool
	}{
		{"minted", mint(b, tk), true},
		{"made-up", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if tk.Valid(bc.token) != bc.want {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}

// BenchmarkMatches measures the proof of a guest identity: Valid, Hash
// and the comparison with the stored secret.
func BenchmarkMatches(b *testing.B) {
	tk := newTokens(b, 1)
	tok := mint(b, tk)
	secret := identity.Hash(tok)
	b.ReportAllocs()
	for b.Loop() {
		if !tk.Matches(tok, secret) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkVerify measures the check of an application's token, on every
// handshake in app mode, for each kind of key.
func BenchmarkVerify(b *testing.B) {
	k := newKeys(b)
	for _, bc := range []struct {
		name   string
		cfg    identity.VerifierConfig
		method jwt.SigningMethod
		key    any
	}{
		{"HS256", identity.VerifierConfig{HMACSecret: hmacSecret}, jwt.SigningMethodHS256, hmacSecret},
		{"RS256", identity.VerifierConfig{PublicKeyPEM: k.rsaPEM}, jwt.SigningMethodRS256, k.rsa},
		{"ES256", identity.VerifierConfig{PublicKeyPEM: k.p256PEM}, jwt.SigningMethodES256, k.p256},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v := newVerifier(b, bc.cfg)
			tok := sign(b, bc.method, bc.key, claims(nil))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
