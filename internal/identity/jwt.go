package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
)

// Limits of what Verify reads.
const (
	// MaxTokenBytes is the longest token Verify reads; a longer one is
	// invalid without being parsed. A token of RS256 under a 4096-bit key,
	// with a few claims, is under 1 KiB.
	MaxTokenBytes = 8 << 10
	// MaxSubjectBytes is the longest sub Verify accepts: it becomes an
	// identity's ID, kept with every message of its author.
	MaxSubjectBytes = 256
	// MinHMACSecretBytes is the shortest HS256 secret NewVerifier takes:
	// 256 bits, the size of the hash (RFC 7518, section 3.2).
	MinHMACSecretBytes = 32
	// MinRSABits is the smallest RSA key NewVerifier takes.
	MinRSABits = 2048
)

// VerifierConfig configures a Verifier. Exactly one of HMACSecret and
// PublicKeyPEM must be set; the rest is optional.
type VerifierConfig struct {
	// HMACSecret is the secret the host application signs its tokens with,
	// by HS256; at least MinHMACSecretBytes.
	HMACSecret []byte
	// PublicKeyPEM is the PEM of the host application's public key: a
	// PUBLIC KEY (PKIX), an RSA PUBLIC KEY (PKCS #1) or a CERTIFICATE. Its
	// type decides the one algorithm accepted: RS256 for RSA (at least
	// MinRSABits), and for ECDSA ES256, ES384 or ES512 by its curve (P-256,
	// P-384, P-521).
	PublicKeyPEM []byte
	// Issuer, when set, is the iss that tokens must have.
	Issuer string
	// Audience, when set, must be among the aud of tokens.
	Audience string
	// Leeway is how far exp, nbf and iat may be off the clock, for clocks
	// that disagree; zero for none. It must not be negative.
	Leeway time.Duration
	// Now is the clock tokens are checked against; nil means time.Now.
	Now func() time.Time
}

// Claims is what a verified token says of its user.
type Claims struct {
	// Subject is the token's sub: the user's identity in the host
	// application, never empty.
	Subject string
	// Name is the token's name claim, the name to show, or Subject when
	// the token has none. It is as the application wrote it: the chat
	// normalises it as it does every name.
	Name string
	// Expires is the token's exp.
	Expires time.Time
}

// Verifier checks the tokens of a host application. It is safe for
// concurrent use.
type Verifier struct {
	key              any    // []byte, *rsa.PublicKey or *ecdsa.PublicKey
	alg              string // the one algorithm the key allows
	issuer, audience string // VerifierConfig's
	parser           *jwt.Parser
}

// NewVerifier returns a Verifier configured by cfg, or an error wrapping
// ErrKey that says what is wrong with the key.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	v := &Verifier{issuer: cfg.Issuer, audience: cfg.Audience}
	switch {
	case len(cfg.HMACSecret) > 0 && len(cfg.PublicKeyPEM) > 0:
		return nil, fmt.Errorf("%w: both an HMAC secret and a public key: give one", ErrKey)
	case len(cfg.HMACSecret) > 0:
		if len(cfg.HMACSecret) < MinHMACSecretBytes {
			return nil, fmt.Errorf("%w: HMAC secret of %d bytes, want at least %d", ErrKey, len(cfg.HMACSecret), MinHMACSecretBytes)
		}
		v.key, v.alg = append([]byte(nil), cfg.HMACSecret...), jwt.SigningMethodHS256.Alg()
	case len(cfg.PublicKeyPEM) > 0:
		key, alg, err := parsePublicKey(cfg.PublicKeyPEM)
		if err != nil {
			return nil, err
		}
		v.key, v.alg = key, alg
	default:
		return nil, fmt.Errorf("%w: no HMAC secret and no public key", ErrKey)
	}
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("identity: negative leeway %v", cfg.Leeway)
	}
	opts := []jwt.ParserOption{
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
	}
	if cfg.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(cfg.Now))
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	// The algorithm is checked by keyFunc, not by WithValidMethods, which
	// reports a wrong algorithm as a bad signature.
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Algorithm returns the one JWS algorithm v accepts: HS256, RS256, ES256,
// ES384 or ES512.
func (v *Verifier) Algorithm() string { return v.alg }

// parsePublicKey reads the public key of a PEM block and returns it with
// the algorithm it verifies.
func parsePublicKey(data []byte) (any, string, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, "", fmt.Errorf("%w: no PEM block in the public key", ErrKey)
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		if strings.Contains(block.Type, "PRIVATE") {
			return nil, "", fmt.Errorf("%w: a %s: give the public key, never the private one", ErrKey, block.Type)
		}
		return nil, "", fmt.Errorf("%w: PEM block %q is no public key", ErrKey, block.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w: parse the %s: %v", ErrKey, strings.ToLower(block.Type), err)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < MinRSABits {
			return nil, "", fmt.Errorf("%w: RSA key of %d bits, want at least %d", ErrKey, n, MinRSABits)
		}
		return k, jwt.SigningMethodRS256.Alg(), nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return k, jwt.SigningMethodES256.Alg(), nil
		case elliptic.P384():
			return k, jwt.SigningMethodES384.Alg(), nil
		case elliptic.P521():
			return k, jwt.SigningMethodES512.Alg(), nil
		}
		return nil, "", fmt.Errorf("%w: ECDSA key on curve %s", ErrKey, k.Curve.Params().Name)
	}
	return nil, "", fmt.Errorf("%w: public key of type %T: want RSA or ECDSA", ErrKey, key)
}

// tokenClaims are the claims Verify reads.
type tokenClaims struct {
	jwt.RegisteredClaims
	Name *string `json:"name,omitempty"`
}

// Claim errors of tokenClaims.Validate, which the parser joins with its
// own; the reason Verify gives is the message.
var (
	errNoSubject  = errors.New("missing sub")
	errBadSubject = errors.New("sub is too long or has control characters")
)

// Validate checks sub, for the parser, after the signature.
func (c tokenClaims) Validate() error {
	switch {
	case c.Subject == "":
		return errNoSubject
	case len(c.Subject) > MaxSubjectBytes || strings.IndexFunc(c.Subject, unicode.IsControl) >= 0:
		return errBadSubject
	}
	return nil
}

// wrongAlgorithm is keyFunc's refusal of a token's algorithm.
type wrongAlgorithm struct{ alg string }

func (e *wrongAlgorithm) Error() string { return fmt.Sprintf("algorithm %q not accepted", e.alg) }

// keyFunc returns the key to check token's signature with, when the
// token's algorithm is the one v accepts.
func (v *Verifier) keyFunc(token *jwt.Token) (any, error) {
	if alg := token.Method.Alg(); alg != v.alg {
		return nil, &wrongAlgorithm{alg}
	}
	return v.key, nil
}

// Verify checks token, a JWT of the host application, and returns what it
// says of its user, or a *TokenError: ErrTokenMissing for an empty token,
// ErrTokenExpired for one past its exp (and otherwise valid), and
// ErrTokenInvalid, with the reason, for the rest.
func (v *Verifier) Verify(token string) (Claims, error) {
	switch {
	case token == "":
		return Claims{}, &TokenError{Refusal: ErrTokenMissing}
	case len(token) > MaxTokenBytes:
		return Claims{}, invalid(fmt.Sprintf("longer than %d bytes", MaxTokenBytes), nil)
	}
	var c tokenClaims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keyFunc); err != nil {
		return Claims{}, v.refusal(err, &c)
	}
	out := Claims{Subject: c.Subject, Name: c.Subject, Expires: c.ExpiresAt.Time}
	if c.Name != nil && *c.Name != "" {
		out.Name = *c.Name
	}
	return out, nil
}

// refusal returns the refusal of a token that the parser refused with
// err, having read its claims into c. When several checks failed, the one
// reported is the first of: the form, the algorithm, the signature, the
// claims that retrying cannot fix, and expiry last, so that token_expired
// is told only of a token that a new one would replace.
func (v *Verifier) refusal(err error, c *tokenClaims) *TokenError {
	var wrong *wrongAlgorithm
	switch {
	case errors.As(err, &wrong):
		return invalid(wrong.Error(), err)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalid("malformed", err)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// No algorithm, or one the library does not know.
		return invalid("unknown or missing algorithm", err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return invalid("bad signature", err)
	case errors.Is(err, errNoSubject):
		return invalid(errNoSubject.Error(), err)
	case errors.Is(err, errBadSubject):
		return invalid(errBadSubject.Error(), err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return invalid(v.missingClaim(c), err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return invalid("wrong issuer", err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return invalid("wrong audience", err)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return invalid("not valid yet", err)
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return invalid("issued in the future", err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return &TokenError{Refusal: ErrTokenExpired, Err: err}
	}
	return invalid("not accepted", err)
}

// missingClaim names the required claim that c lacks, for a token whose
// signature held (claims are checked only after it).
func (v *Verifier) missingClaim(c *tokenClaims) string {
	switch {
	case c.ExpiresAt == nil:
		return "missing exp"
	case v.issuer != "" && c.Issuer == "":
		return "missing iss"
	case v.audience != "" && len(c.Audience) == 0:
		return "missing aud"
	}
	return "missing a required claim"
}
