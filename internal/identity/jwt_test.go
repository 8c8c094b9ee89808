package identity_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/identity"
)

// now is the clock of the verifiers of the tests.
var now = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

// hmacSecret is the HS256 secret of the tests' host application.
var hmacSecret = []byte("a secret of the host application, 32+ bytes")

// keys are the key pairs of one test.
type keys struct {
	rsa, rsaOther     *rsa.PrivateKey
	p256, p256Other   *ecdsa.PrivateKey
	p384              *ecdsa.PrivateKey
	rsaPEM, p256PEM   []byte // PKIX PUBLIC KEY blocks
	p384PEM           []byte
	rsaPKCS1, rsaCert []byte // the RSA public key as RSA PUBLIC KEY and in a CERTIFICATE
}

// newKeys generates the key pairs of a test.
func newKeys(t testing.TB) *keys {
	t.Helper()
	k := &keys{}
	var err error
	for _, dst := range []**rsa.PrivateKey{&k.rsa, &k.rsaOther} {
		if *dst, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []struct {
		dst   **ecdsa.PrivateKey
		curve elliptic.Curve
	}{{&k.p256, elliptic.P256()}, {&k.p256Other, elliptic.P256()}, {&k.p384, elliptic.P384()}} {
		if *g.dst, err = ecdsa.GenerateKey(g.curve, rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	k.rsaPEM = pkixPEM(t, &k.rsa.PublicKey)
	k.p256PEM = pkixPEM(t, &k.p256.PublicKey)
	k.p384PEM = pkixPEM(t, &k.p384.PublicKey)
	k.rsaPKCS1 = pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)})
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "app"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.rsa.PublicKey, k.rsa)
	if err != nil {
		t.Fatal(err)
	}
	k.rsaCert = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return k
}

// pkixPEM returns the PUBLIC KEY PEM block of pub.
func pkixPEM(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// sign returns claims signed by method under key.
func sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign with %s: %v", method.Alg(), err)
	}
	return tok
}

// claims returns the claims of a valid token for sub, with more added
// (a nil value removes a claim).
func claims(more jwt.MapClaims) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub":  "user-42",
		"name": "Ann Lee",
		"exp":  now.Add(time.Hour).Unix(),
		"iat":  now.Add(-time.Minute).Unix(),
		"iss":  "app.example",
		"aud":  "parley",
	}
	for k, v := range more {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// newVerifier returns a Verifier of cfg on the tests' clock, with the
// tests' issuer and audience unless cfg has its own.
func newVerifier(t testing.TB, cfg identity.VerifierConfig) *identity.Verifier {
	t.Helper()
	cfg.Now = func() time.Time { return now }
	if cfg.Issuer == "" {
		cfg.Issuer = "app.example"
	}
	if cfg.Audience == "" {
		cfg.Audience = "parley"
	}
	v, err := identity.NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// wantClaims are the Claims of claims(nil).
var wantClaims = identity.Claims{Subject: "user-42", Name: "Ann Lee", Expires: now.Add(time.Hour)}

// verifyCase is a token and what Verify makes of it: the claims, or the
// refusal with a reason that contains reason.
type verifyCase struct {
	name    string
	token   string
	want    identity.Claims
	refusal *identity.Refusal
	reason  string
}

// runVerify runs the cases against v.
func runVerify(t *testing.T, v *identity.Verifier, tests []verifyCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(tc.token)
			if tc.refusal == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got.Subject != tc.want.Subject || got.Name != tc.want.Name || !got.Expires.Equal(tc.want.Expires) {
					t.Errorf("Verify = %+v, want %+v", got, tc.want)
				}
				return
			}
			var te *identity.TokenError
			if !errors.As(err, &te) || !errors.Is(err, tc.refusal) {
				t.Fatalf("Verify = %+v, %v; want a *TokenError of %v", got, err, tc.refusal)
			}
			if got != (identity.Claims{}) {
				t.Errorf("Verify refused the token but returned claims %+v", got)
			}
			if te.Code() != tc.refusal.Code() || !strings.HasPrefix(te.Text(), tc.refusal.Text()) ||
				!strings.Contains(te.Text(), tc.reason) {
				t.Errorf("refusal code %q, text %q; want code %q and a text with %q", te.Code(), te.Text(), tc.refusal.Code(), tc.reason)
			}
			if len(tc.token) > 20 && strings.Contains(te.Text(), tc.token) {
				t.Errorf("the refusal's text %q holds the token", te.Text())
			}
		})
	}
}

func TestVerifyHS256(t *testing.T) {
	v := newVerifier(t, identity.VerifierConfig{HMACSecret: hmacSecret, Leeway: 30 * time.Second})
	if v.Algorithm() != "HS256" {
		t.Errorf("Algorithm() = %s, want HS256", v.Algorithm())
	}
	hs := func(more jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, hmacSecret, claims(more)) }
	valid := hs(nil)
	parts := strings.Split(valid, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","exp":1999999999}`))
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil))
	runVerify(t, v, []verifyCase{
		{name: "valid", token: valid, want: wantClaims},
		{name: "no name: the subject", token: hs(jwt.MapClaims{"name": nil}), want: identity.Claims{Subject: "user-42", Name: "user-42", Expires: wantClaims.Expires}},
		{name: "empty name: the subject", token: hs(jwt.MapClaims{"name": ""}), want: identity.Claims{Subject: "user-42", Name: "user-42", Expires: wantClaims.Expires}},
		{name: "audiences, parley among them", token: hs(jwt.MapClaims{"aud": []string{"other", "parley"}}), want: wantClaims},
		{name: "no iat", token: hs(jwt.MapClaims{"iat": nil}), want: wantClaims},
		{name: "expired within the leeway", token: hs(jwt.MapClaims{"exp": now.Add(-20 * time.Second).Unix()}),
			want: identity.Claims{Subject: "user-42", Name: "Ann Lee", Expires: now.Add(-20 * time.Second)}},
		{name: "nbf within the leeway", token: hs(jwt.MapClaims{"nbf": now.Add(20 * time.Second).Unix()}), want: wantClaims},
		{name: "nbf passed", token: hs(jwt.MapClaims{"nbf": now.Add(-time.Minute).Unix()}), want: wantClaims},

		{name: "expired", token: hs(jwt.MapClaims{"exp": now.Add(-time.Minute).Unix()}), refusal: identity.ErrTokenExpired},
		{name: "expired long ago", token: hs(jwt.MapClaims{"exp": 1}), refusal: identity.ErrTokenExpired},
		{name: "not valid yet", token: hs(jwt.MapClaims{"nbf": now.Add(time.Hour).Unix()}), refusal: identity.ErrTokenInvalid, reason: "not valid yet"},
		{name: "issued in the future", token: hs(jwt.MapClaims{"iat": now.Add(time.Hour).Unix()}), refusal: identity.ErrTokenInvalid, reason: "issued in the future"},
		{name: "wrong secret", token: sign(t, jwt.SigningMethodHS256, []byte("another secret, 32 bytes or more!!"), claims(nil)),
			refusal: identity.ErrTokenInvalid, reason: "bad signature"},
		{name: "claims changed after signing", token: parts[0] + "." + forged + "." + parts[2], refusal: identity.ErrTokenInvalid, reason: "bad signature"},
		{name: "signature cut", token: valid[:len(valid)-4], refusal: identity.ErrTokenInvalid},
		{name: "no signature", token: parts[0] + "." + parts[1] + ".", refusal: identity.ErrTokenInvalid, reason: "bad signature"},
		{name: "alg none", token: none, refusal: identity.ErrTokenInvalid, reason: `algorithm "none" not accepted`},
		{name: "HS384 with the same secret", token: sign(t, jwt.SigningMethodHS384, hmacSecret, claims(nil)),
			refusal: identity.ErrTokenInvalid, reason: `algorithm "HS384" not accepted`},
		{name: "unknown alg", token: base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"XX999","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2],
			refusal: identity.ErrTokenInvalid, reason: "unknown or missing algorithm"},
		{name: "no alg", token: base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT"}`)) + "." + parts[1] + "." + parts[2],
			refusal: identity.ErrTokenInvalid, reason: "unknown or missing algorithm"},
		{name: "wrong issuer", token: hs(jwt.MapClaims{"iss": "evil.example"}), refusal: identity.ErrTokenInvalid, reason: "wrong issuer"},
		{name: "no issuer", token: hs(jwt.MapClaims{"iss": nil}), refusal: identity.ErrTokenInvalid, reason: "missing iss"},
		{name: "wrong audience", token: hs(jwt.MapClaims{"aud": "other"}), refusal: identity.ErrTokenInvalid, reason: "wrong audience"},
		{name: "no audience", token: hs(jwt.MapClaims{"aud": nil}), refusal: identity.ErrTokenInvalid, reason: "missing aud"},
		{name: "no sub", token: hs(jwt.MapClaims{"sub": nil}), refusal: identity.ErrTokenInvalid, reason: "missing sub"},
		{name: "empty sub", token: hs(jwt.MapClaims{"sub": ""}), refusal: identity.ErrTokenInvalid, reason: "missing sub"},
		{name: "sub not a string", token: hs(jwt.MapClaims{"sub": 42}), refusal: identity.ErrTokenInvalid, reason: "malformed"},
		{name: "sub too long", token: hs(jwt.MapClaims{"sub": strings.Repeat("s", identity.MaxSubjectBytes+1)}), refusal: identity.ErrTokenInvalid, reason: "sub"},
		{name: "sub with a NUL", token: hs(jwt.MapClaims{"sub": "a\x00b"}), refusal: identity.ErrTokenInvalid, reason: "sub"},
		{name: "sub with an escape", token: hs(jwt.MapClaims{"sub": "a\x1b[2Jb"}), refusal: identity.ErrTokenInvalid, reason: "sub"},
		{name: "no exp", token: hs(jwt.MapClaims{"exp": nil}), refusal: identity.ErrTokenInvalid, reason: "missing exp"},
		{name: "exp not a number", token: hs(jwt.MapClaims{"exp": "tomorrow"}), refusal: identity.ErrTokenInvalid, reason: "malformed"},
		{name: "name not a string", token: hs(jwt.MapClaims{"name": 7}), refusal: identity.ErrTokenInvalid, reason: "malformed"},
		{name: "expired and of another issuer: not a matter of a new token", token: hs(jwt.MapClaims{"exp": 1, "iss": "evil.example"}),
			refusal: identity.ErrTokenInvalid, reason: "wrong issuer"},
		{name: "expired and without sub", token: hs(jwt.MapClaims{"exp": 1, "sub": nil}), refusal: identity.ErrTokenInvalid, reason: "missing sub"},

		{name: "empty", token: "", refusal: identity.ErrTokenMissing},
		{name: "garbage", token: "not a token", refusal: identity.ErrTokenInvalid, reason: "malformed"},
		{name: "dots", token: "..", refusal: identity.ErrTokenInvalid, reason: "malformed"},
		{name: "four parts", token: valid + ".x", refusal: identity.ErrTokenInvalid, reason: "malformed"},
		{name: "header not JSON", token: "eA." + parts[1] + "." + parts[2], refusal: identity.ErrTokenInvalid, reason: "malformed"},
		{name: "padded base64", token: parts[0] + "=." + parts[1] + "." + parts[2], refusal: identity.ErrTokenInvalid, reason: "malformed"},
		{name: "too long", token: valid + strings.Repeat("A", identity.MaxTokenBytes), refusal: identity.ErrTokenInvalid, reason: "longer than"},
		{name: "a guest token", token: strings.Repeat("A", identity.TokenLen), refusal: identity.ErrTokenInvalid, reason: "malformed"},
	})
}

func TestVerifyPublicKeys(t *testing.T) {
	k := newKeys(t)
	rsaDER, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rs := func(key *rsa.PrivateKey) string { return sign(t, jwt.SigningMethodRS256, key, claims(nil)) }
	tests := []struct {
		name  string
		pem   []byte
		alg   string
		cases []verifyCase
	}{
		{"RSA", k.rsaPEM, "RS256", []verifyCase{
			{name: "RS256", token: rs(k.rsa), want: wantClaims},
			{name: "RS256 by another key", token: rs(k.rsaOther), refusal: identity.ErrTokenInvalid, reason: "bad signature"},
			{name: "HS256 under the public key's PEM: algorithm confusion", token: sign(t, jwt.SigningMethodHS256, k.rsaPEM, claims(nil)),
				refusal: identity.ErrTokenInvalid, reason: `algorithm "HS256" not accepted`},
			{name: "HS256 under the public key's DER", token: sign(t, jwt.SigningMethodHS256, rsaDER, claims(nil)),
				refusal: identity.ErrTokenInvalid, reason: `algorithm "HS256" not accepted`},
			{name: "RS512 by the key", token: sign(t, jwt.SigningMethodRS512, k.rsa, claims(nil)),
				refusal: identity.ErrTokenInvalid, reason: `algorithm "RS512" not accepted`},
			{name: "PS256 by the key", token: sign(t, jwt.SigningMethodPS256, k.rsa, claims(nil)),
				refusal: identity.ErrTokenInvalid, reason: `algorithm "PS256" not accepted`},
			{name: "ES256", token: sign(t, jwt.SigningMethodES256, k.p256, claims(nil)),
				refusal: identity.ErrTokenInvalid, reason: `algorithm "ES256" not accepted`},
			{name: "alg none", token: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)),
				refusal: identity.ErrTokenInvalid, reason: `algorithm "none" not accepted`},
			{name: "expired", token: sign(t, jwt.SigningMethodRS256, k.rsa, claims(jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()})),
				refusal: identity.ErrTokenExpired},
			{name: "no sub", token: sign(t, jwt.SigningMethodRS256, k.rsa, claims(jwt.MapClaims{"sub": nil})),
				refusal: identity.ErrTokenInvalid, reason: "missing sub"},
		}},
		{"RSA PUBLIC KEY (PKCS #1)", k.rsaPKCS1, "RS256", []verifyCase{
			{name: "RS256", token: rs(k.rsa), want: wantClaims},
			{name: "RS256 by another key", token: rs(k.rsaOther), refusal: identity.ErrTokenInvalid, reason: "bad signature"},
		}},
		{"CERTIFICATE", k.rsaCert, "RS256", []verifyCase{
			{name: "RS256", token: rs(k.rsa), want: wantClaims},
			{name: "HS256 under the certificate's PEM", token: sign(t, jwt.SigningMethodHS256, k.rsaCert, claims(nil)),
				refusal: identity.ErrTokenInvalid, reason: `algorithm "HS256" not accepted`},
		}},
		{"ECDSA P-256", k.p256PEM, "ES256", []verifyCase{
			{name: "ES256", token: sign(t, jwt.SigningMethodES256, k.p256, claims(nil)), want: wantClaims},
			{name: "ES256 by another key", token: sign(t, jwt.SigningMethodES256, k.p256Other, claims(nil)),
				refusal: identity.ErrTokenInvalid, reason: "bad signature"},
			{name: "ES384", token: sign(t, jwt.SigningMethodES384, k.p384, claims(nil)),
				refusal: identity.ErrTokenInvalid, reason: `algorithm "ES384" not accepted`},
			{name: "HS256 under the public key's PEM", token: sign(t, jwt.SigningMethodHS256, k.p256PEM, claims(nil)),
				refusal: identity.ErrTokenInvalid, reason: `algorithm "HS256" not accepted`},
			{name: "RS256", token: rs(k.rsa), refusal: identity.ErrTokenInvalid, reason: `algorithm "RS256" not accepted`},
			{name: "not valid yet", token: sign(t, jwt.SigningMethodES256, k.p256, claims(jwt.MapClaims{"nbf": now.Add(time.Hour).Unix()})),
				refusal: identity.ErrTokenInvalid, reason: "not valid yet"},
		}},
		{"ECDSA P-384", k.p384PEM, "ES384", []verifyCase{
			{name: "ES384", token: sign(t, jwt.SigningMethodES384, k.p384, claims(nil)), want: wantClaims},
			{name: "ES256", token: sign(t, jwt.SigningMethodES256, k.p256, claims(nil)),
				refusal: identity.ErrTokenInvalid, reason: `algorithm "ES256" not accepted`},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, identity.VerifierConfig{PublicKeyPEM: tc.pem})
			if v.Algorithm() != tc.alg {
				t.Errorf("Algorithm() = %s, want %s", v.Algorithm(), tc.alg)
			}
			runVerify(t, v, tc.cases)
		})
	}
}

// TestVerifyOptionalChecks checks that iss and aud are not required when
// not configured, and that the real clock is used when Now is nil.
func TestVerifyOptionalChecks(t *testing.T) {
	v, err := identity.NewVerifier(identity.VerifierConfig{HMACSecret: hmacSecret})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tok := sign(t, jwt.SigningMethodHS256, hmacSecret, jwt.MapClaims{"sub": "u", "exp": exp.Unix(), "iss": "anyone", "aud": "anything"})
	got, err := v.Verify(tok)
	if err != nil || got.Subject != "u" || got.Name != "u" || !got.Expires.Equal(exp) {
		t.Errorf("Verify = %+v, %v; want sub u until %v", got, err, exp)
	}
	old := sign(t, jwt.SigningMethodHS256, hmacSecret, jwt.MapClaims{"sub": "u", "exp": time.Now().Add(-time.Minute).Unix()})
	if _, err := v.Verify(old); !errors.Is(err, identity.ErrTokenExpired) {
		t.Errorf("Verify of a token expired by the real clock: %v, want ErrTokenExpired", err)
	}
}

func TestNewVerifier(t *testing.T) {
	k := newKeys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(k.p256)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		cfg    identity.VerifierConfig
		errKey bool // the error wraps ErrKey
	}{
		{"nothing", identity.VerifierConfig{}, true},
		{"both", identity.VerifierConfig{HMACSecret: hmacSecret, PublicKeyPEM: k.rsaPEM}, true},
		{"a short secret", identity.VerifierConfig{HMACSecret: []byte("short")}, true},
		{"31 bytes of secret", identity.VerifierConfig{HMACSecret: hmacSecret[:31]}, true},
		{"not PEM", identity.VerifierConfig{PublicKeyPEM: []byte("not a key")}, true},
		{"PEM of garbage", identity.VerifierConfig{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("garbage")})}, true},
		{"a private key", identity.VerifierConfig{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})}, true},
		{"another block", identity.VerifierConfig{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{1}})}, true},
		{"RSA of 1024 bits", identity.VerifierConfig{PublicKeyPEM: pkixPEM(t, &small.PublicKey)}, true},
		{"ECDSA on P-224", identity.VerifierConfig{PublicKeyPEM: pkixPEM(t, &p224.PublicKey)}, true},
		{"Ed25519", identity.VerifierConfig{PublicKeyPEM: pkixPEM(t, edPub)}, true},
		{"negative leeway", identity.VerifierConfig{HMACSecret: hmacSecret, Leeway: -time.Second}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := identity.NewVerifier(tc.cfg)
			if err == nil {
				t.Fatalf("NewVerifier = %v, want an error", v)
			}
			if errors.Is(err, identity.ErrKey) != tc.errKey {
				t.Errorf("NewVerifier: %v; wraps ErrKey: %v, want %v", err, errors.Is(err, identity.ErrKey), tc.errKey)
			}
		})
	}
	// A secret given is copied: changing it after does not change the
	// verifier.
	secret := append([]byte(nil), hmacSecret...)
	v := newVerifier(t, identity.VerifierConfig{HMACSecret: secret})
	secret[0] ^= 1
	if _, err := v.Verify(sign(t, jwt.SigningMethodHS256, hmacSecret, claims(nil))); err != nil {
		t.Errorf("Verify after the caller changed its secret: %v", err)
	}
}

// TestTokenError checks the texts and the unwrapping of a refusal.
func TestTokenError(t *testing.T) {
	cause := errors.New("cause")
	tests := []struct {
		err              *identity.TokenError
		code, text, full string
	}{
		{&identity.TokenError{Refusal: identity.ErrTokenMissing}, "auth_required", "authentication required", "identity: authentication required"},
		{&identity.TokenError{Refusal: identity.ErrTokenExpired, Err: cause}, "token_expired", "token has expired", "identity: token has expired: cause"},
		{&identity.TokenError{Refusal: identity.ErrTokenInvalid, Reason: "bad signature", Err: cause}, "token_invalid",
			"invalid token: bad signature", "identity: invalid token: bad signature: cause"},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			if tc.err.Code() != tc.code || tc.err.Text() != tc.text || tc.err.Error() != tc.full {
				t.Errorf("code %q, text %q, error %q; want %q, %q, %q", tc.err.Code(), tc.err.Text(), tc.err.Error(), tc.code, tc.text, tc.full)
			}
			if !errors.Is(tc.err, tc.err.Refusal) {
				t.Errorf("%v is not its refusal", tc.err)
			}
			if errors.Is(tc.err, cause) != (tc.err.Err != nil) {
				t.Errorf("%v: errors.Is(cause) = %v", tc.err, errors.Is(tc.err, cause))
			}
			for _, other := range []*identity.Refusal{identity.ErrTokenMissing, identity.ErrTokenExpired, identity.ErrTokenInvalid} {
				if other != tc.err.Refusal && errors.Is(tc.err, other) {
					t.Errorf("%v is also %v", tc.err, other)
				}
			}
		})
	}
}
