package identity_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/identity"
)

// FuzzVerify checks that Verify does not panic on any string, refuses
// with one of the three refusals and a short text, and accepts only tokens
// signed under the secret, whose subject it returns.
func FuzzVerify(f *testing.F) {
	v := newVerifier(f, identity.VerifierConfig{HMACSecret: hmacSecret})
	valid := sign(f, jwt.SigningMethodHS256, hmacSecret, claims(nil))
	accepted := map[string]bool{valid: true}
	for _, seed := range []string{
		valid,
		sign(f, jwt.SigningMethodHS256, hmacSecret, claims(jwt.MapClaims{"exp": 1})),
		sign(f, jwt.SigningMethodHS256, hmacSecret, claims(jwt.MapClaims{"sub": nil})),
		sign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)),
		sign(f, jwt.SigningMethodHS256, []byte("another secret of 32 bytes, or more"), claims(nil)),
		"", ".", "..", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", strings.Repeat("A", identity.TokenLen),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		got, err := v.Verify(token)
		if err == nil {
			if !accepted[token] {
				t.Errorf("Verify accepted %q, which was never signed: %+v", token, got)
			}
			if got.Subject == "" || len(got.Subject) > identity.MaxSubjectBytes || got.Name == "" || got.Expires.Before(now) {
				t.Errorf("Verify(%q) = %+v", token, got)
			}
			return
		}
		var te *identity.TokenError
		if !errors.As(err, &te) {
			t.Fatalf("Verify(%q): %v, not a *TokenError", token, err)
		}
		if te.Refusal != identity.ErrTokenMissing && te.Refusal != identity.ErrTokenExpired && te.Refusal != identity.ErrTokenInvalid {
			t.Errorf("Verify(%q): refusal %v", token, te.Refusal)
		}
		if text := te.Text(); text == "" || len(text) > 80 {
			t.Errorf("Verify(%q): text %q", token, text)
		}
		if (token == "") != (te.Refusal == identity.ErrTokenMissing) {
			t.Errorf("Verify(%q): %v", token, err)
		}
	})
}

// FuzzNewVerifier checks that NewVerifier does not panic on any PEM, and
// that what it accepts verifies one algorithm of a public key.
func FuzzNewVerifier(f *testing.F) {
	k := newKeys(f)
	for _, seed := range [][]byte{k.rsaPEM, k.rsaPKCS1, k.rsaCert, k.p256PEM, k.p384PEM, []byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"), nil} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := identity.NewVerifier(identity.VerifierConfig{PublicKeyPEM: data, Now: func() time.Time { return now }})
		if err != nil {
			if !errors.Is(err, identity.ErrKey) {
				t.Errorf("NewVerifier: %v, not ErrKey", err)
			}
			return
		}
		switch v.Algorithm() {
		case "RS256", "ES256", "ES384", "ES512":
		default:
			t.Errorf("NewVerifier of a public key: algorithm %s", v.Algorithm())
		}
		if _, err := v.Verify(sign(t, jwt.SigningMethodHS256, data, claims(nil))); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Errorf("HS256 under the PEM itself: %v, want ErrTokenInvalid", err)
		}
	})
}
