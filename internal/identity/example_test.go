package identity_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/identity"
)

// A guest's first join mints a token for the browser to keep and stores
// its hash; a later join proves the identity with the token.
func ExampleTokens() {
	key := make([]byte, identity.MinKeyBytes) // made once, kept in the store
	rand.Read(key)
	tokens, err := identity.NewTokens(key)
	if err != nil {
		panic(err)
	}
	token, err := tokens.Mint()
	if err != nil {
		panic(err)
	}
	secret := identity.Hash(token) // store.Identity.Secret

	fmt.Println(len(token), tokens.Matches(token, secret))
	fmt.Println(tokens.Valid("a token the client made up"))
	// Output:
	// 44 true
	// false
}

// A host application's token names its user; a refusal says why, in a
// code and a text for the client.
func ExampleVerifier_Verify() {
	secret := []byte("the host application's secret, 32 bytes or more")
	v, err := identity.NewVerifier(identity.VerifierConfig{HMACSecret: secret, Issuer: "app.example"})
	if err != nil {
		panic(err)
	}
	exp := time.Now().Add(time.Hour)
	user := jwt.MapClaims{"sub": "user-42", "name": "Ann", "iss": "app.example", "exp": exp.Unix()}
	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, user).SignedString(secret)
	claims, err := v.Verify(token)
	fmt.Println(claims.Subject, claims.Name, err)

	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, user).SignedString([]byte("a guess at the secret"))
	_, err = v.Verify(forged)
	var te *identity.TokenError
	if errors.As(err, &te) {
		fmt.Println(te.Code(), te.Text())
	}
	// Output:
	// user-42 Ann <nil>
	// token_invalid invalid token: bad signature
}
