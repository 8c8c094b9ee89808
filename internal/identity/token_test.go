package identity_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/identity"
)

// testKey returns a key of n bytes, each b.
func testKey(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

// newTokens returns Tokens under a key of 32 bytes b, failing the test on
// error.
func newTokens(t testing.TB, b byte) *identity.Tokens {
	t.Helper()
	tk, err := identity.NewTokens(testKey(identity.MinKeyBytes, b))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// mint mints a token, failing the test on error.
func mint(t testing.TB, tk *identity.Tokens) string {
	t.Helper()
	tok, err := tk.Mint()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestNewTokens(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		ok   bool
	}{
		{"nil", nil, false},
		{"one byte", []byte{1}, false},
		{"31 bytes", testKey(31, 7), false},
		{"32 bytes", testKey(32, 7), true},
		{"64 bytes", testKey(64, 7), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk, err := identity.NewTokens(tc.key)
			if tc.ok && (err != nil || tk == nil) {
				t.Errorf("NewTokens: %v", err)
			}
			if !tc.ok && !errors.Is(err, identity.ErrKey) {
				t.Errorf("NewTokens = %v, %v; want ErrKey", tk, err)
			}
		})
	}
}

func TestMint(t *testing.T) {
	tk := newTokens(t, 1)
	seen := map[string]bool{}
	for range 1000 {
		tok := mint(t, tk)
		if len(tok) != identity.TokenLen {
			t.Fatalf("token %q of %d characters, want %d", tok, len(tok), identity.TokenLen)
		}
		if strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("token %q is not URL-safe", tok)
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 33 {
			t.Fatalf("token %q decodes to %d bytes, %v; want 33", tok, len(raw), err)
		}
		if !tk.Valid(tok) {
			t.Fatalf("Valid(%q) = false for a token just minted", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q minted twice", tok)
		}
		seen[tok] = true
	}
	if TokenLen := identity.TokenLen; TokenLen != 44 {
		t.Errorf("TokenLen = %d, want 44 (33 bytes of base64)", TokenLen)
	}
}

func TestValid(t *testing.T) {
	tk := newTokens(t, 1)
	good := mint(t, tk)
	other := mint(t, newTokens(t, 2)) // another deployment's
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name  string
		token string
		want  bool
	}{
		{"minted", good, true},
		{"empty", "", false},
		{"one character", "a", false},
		{"a made-up token of the right length", strings.Repeat("a", identity.TokenLen), false},
		{"another key's", other, false},
		{"one character short", good[:identity.TokenLen-1], false},
		{"one character more", good + "A", false},
		{"padded", good + "=", false},
		{"twice", good + good, false},
		{"a newline in place of a character", good[:10] + "\n" + good[11:], false},
		{"a space in place of a character", good[:10] + " " + good[11:], false},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(good[:20]) + "+/" + good[22:], false},
		{"not UTF-8", good[:43] + "\xff", false},
		{"NUL", good[:43] + "\x00", false},
		{"version 0, with a valid MAC", tk.MintRaw(0, [16]byte{1, 2, 3}), false},
		{"version 2, with a valid MAC", tk.MintRaw(2, [16]byte{1, 2, 3}), false},
		{"version 1 by MintRaw", tk.MintRaw(1, [16]byte{1, 2, 3}), true},
		{"long", strings.Repeat(good, 1000), false},
	}
	for i := range identity.TokenLen {
		tests = append(tests, struct {
			name  string
			token string
			want  bool
		}{fmt.Sprint("changed at ", i), flip(good, i), false})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tk.Valid(tc.token); got != tc.want {
				t.Errorf("Valid(%q) = %v, want %v", tc.token, got, tc.want)
			}
		})
	}
}

func TestHash(t *testing.T) {
	tk := newTokens(t, 1)
	a, b := mint(t, tk), mint(t, tk)
	sum := sha256.Sum256([]byte(a))
	if got := identity.Hash(a); !bytes.Equal(got, sum[:]) || len(got) != identity.HashLen {
		t.Errorf("Hash(%q) = %x, want its SHA-256 %x", a, got, sum)
	}
	if bytes.Equal(identity.Hash(a), identity.Hash(b)) {
		t.Error("two tokens have one hash")
	}
}

func TestMatches(t *testing.T) {
	tk := newTokens(t, 1)
	tok, other := mint(t, tk), mint(t, tk)
	made := strings.Repeat("a", identity.TokenLen)
	foreign := mint(t, newTokens(t, 2))
	tests := []struct {
		name   string
		token  string
		secret []byte
		want   bool
	}{
		{"its token", tok, identity.Hash(tok), true},
		{"another valid token", other, identity.Hash(tok), false},
		{"an application's identity, no secret", tok, nil, false},
		{"an empty secret", tok, []byte{}, false},
		{"a made-up token with its own hash", made, identity.Hash(made), false},
		{"another key's token with its own hash", foreign, identity.Hash(foreign), false},
		{"a secret cut short", tok, identity.Hash(tok)[:16], false},
		{"no token", "", identity.Hash(""), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tk.Matches(tc.token, tc.secret); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTokensConcurrent mints and checks tokens on several goroutines at
// once, for the race detector: Tokens shares its MAC states.
func TestTokensConcurrent(t *testing.T) {
	tk := newTokens(t, 1)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				tok, err := tk.Mint()
				if err != nil || !tk.Valid(tok) {
					t.Errorf("token %q minted: %v; Valid %v", tok, err, tk.Valid(tok))
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzValid checks that Valid does not panic and accepts nothing but the
// tokens minted: a MAC no one can forge, so the fuzzer finds none.
func FuzzValid(f *testing.F) {
	tk := newTokens(f, 1)
	// The tokens are made from fixed bytes, not random ones: the fuzzer's
	// workers, other processes, must know the same ones.
	minted := map[string]bool{}
	for i := range byte(4) {
		tok := tk.MintRaw(1, [16]byte{i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, i})
		minted[tok] = true
		f.Add(tok)
	}
	f.Add("")
	f.Add(strings.Repeat("A", identity.TokenLen))
	f.Add(tk.MintRaw(2, [16]byte{}))
	f.Fuzz(func(t *testing.T, s string) {
		if tk.Valid(s) != minted[s] {
			t.Errorf("Valid(%q) = %v, minted %v", s, !minted[s], minted[s])
		}
		if h := identity.Hash(s); len(h) != identity.HashLen {
			t.Errorf("Hash of %d bytes", len(h))
		}
		if tk.Matches(s, identity.Hash(s)) != minted[s] {
			t.Errorf("Matches(%q, its hash) = %v, minted %v", s, !minted[s], minted[s])
		}
	})
}
