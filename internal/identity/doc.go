// Package identity proves who a chat user is, in the two ways parley
// knows: guest tokens that the server issues, and JSON Web Tokens that a
// host application signs. It knows nothing of the chat or the store: the
// chat keeps an identity's Secret (Hash of its guest token) in the store,
// and the identity of an application's user under the token's subject.
//
// # Guest tokens
//
// A guest has no account: the first time they take a name, the server
// mints a token (Tokens.Mint) that the browser keeps, and stores its hash
// with the identity. Only that token takes the name again. A token is
// TokenLen characters of unpadded base64url: a version byte, 128 random
// bits, and an HMAC-SHA256 of both, truncated to 128 bits, under a key
// derived (HKDF-SHA256) from the deployment's key. Valid checks the MAC in
// constant time, so a token that a client made up, however it guessed, is
// refused before any store look-up; what proves the identity is the match
// of Hash(token) with the stored Secret (Tokens.Matches), which is also
// compared in constant time. The key must be kept: a new key makes every
// guest token invalid (the names stay reserved until they expire).
//
// # Application tokens
//
// A Verifier trusts the identities of a host application, as Centrifugo
// does: the application signs a JWT (RFC 7519) for its user, with HS256
// under a shared secret, or with RS256, ES256, ES384 or ES512 under its
// private key, whose public key parley is given. The signature is checked
// by github.com/golang-jwt/jwt/v5. Only the algorithm that the key decides
// is accepted: never "none", never HS256 with a public key (the algorithm
// confusion attack, in which the public key is used as an HMAC secret). The
// token must carry sub, its identity, and exp: a token that never expires
// would be a credential parley could never revoke, since it keeps no list
// of revoked tokens, so one without exp is refused (a host application
// that wants long-lived tokens says so with a distant exp). nbf and iat are
// checked when present, iss and aud when configured, all with the
// configured leeway. name, the name shown, defaults to sub.
//
// # Refusals
//
// A refused token is a *TokenError, whose Refusal is one of
// ErrTokenMissing, ErrTokenExpired and ErrTokenInvalid, each with a stable
// Code for programs and a Text for people ("invalid token: bad
// signature"), fit for a Socket.IO CONNECT_ERROR. A client that gets
// token_expired fetches a new token from its application; the others
// retrying cannot fix.
//
// Tokens and Verifier are safe for concurrent use.
package identity
