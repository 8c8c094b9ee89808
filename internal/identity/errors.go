package identity

import "errors"

// A Refusal is why a token is refused: one of the ErrToken values of this
// package, which a *TokenError carries. Code is stable, for programs (a
// CONNECT_ERROR's data); Text is English for people; Error adds the
// package's prefix, for logs. A Refusal is immutable and safe for
// concurrent use.
type Refusal struct {
	code, text string
}

// Code returns the refusal's stable code: "auth_required".
func (r *Refusal) Code() string { return r.code }

// Text returns the refusal's English text: "authentication required".
func (r *Refusal) Text() string { return r.text }

// Error returns the refusal's text with the package's prefix.
func (r *Refusal) Error() string { return "identity: " + r.text }

// The refusals of a token, which a *TokenError wraps: test for them with
// errors.Is.
var (
	// ErrTokenMissing: no token was given where one is required.
	ErrTokenMissing = &Refusal{"auth_required", "authentication required"}
	// ErrTokenExpired: the token was valid but its exp has passed; the
	// client should get a new one from its application.
	ErrTokenExpired = &Refusal{"token_expired", "token has expired"}
	// ErrTokenInvalid: the token is not one parley accepts, for the reason
	// TokenError.Reason gives (bad signature, algorithm not accepted,
	// malformed, missing sub...); the same token will never be accepted.
	ErrTokenInvalid = &Refusal{"token_invalid", "invalid token"}
)

// ErrKey reports a key that NewTokens or NewVerifier cannot use: too
// short, of an unsupported type, or not a public key. It is returned
// wrapped, with the reason.
var ErrKey = errors.New("identity: unusable key")

// TokenError is the refusal of one token. Nothing changes it once made; it
// is safe for concurrent use.
type TokenError struct {
	// Refusal is the kind of refusal: ErrTokenMissing, ErrTokenExpired or
	// ErrTokenInvalid.
	Refusal *Refusal
	// Reason says why an invalid token is invalid, for people: "bad
	// signature". It is empty for the other refusals.
	Reason string
	// Err is the cause that the JWT library reported, for logs, or nil.
	Err error
}

// Code returns the code of the refusal.
func (e *TokenError) Code() string { return e.Refusal.code }

// Text returns what a client is told: the refusal's text, and the reason
// after a colon when there is one ("invalid token: bad signature"). It
// holds nothing of the token.
func (e *TokenError) Text() string {
	if e.Reason == "" {
		return e.Refusal.text
	}
	return e.Refusal.text + ": " + e.Reason
}

// Error returns Text with the package's prefix, and the cause, for logs.
func (e *TokenError) Error() string {
	s := "identity: " + e.Text()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the refusal and the cause, for errors.Is and errors.As.
func (e *TokenError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Refusal}
	}
	return []error{e.Refusal, e.Err}
}

// invalid returns the refusal of an invalid token for reason, caused by
// err (or nil).
func invalid(reason string, err error) *TokenError {
	return &TokenError{Refusal: ErrTokenInvalid, Reason: reason, Err: err}
}
