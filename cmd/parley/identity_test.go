package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/identity"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// guestCookieOf returns the guest cookie resp sets, or nil.
func guestCookieOf(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == chat.GuestCookie {
			return c
		}
	}
	return nil
}

// pollHandshake makes an Engine.IO polling handshake with the cookies
// given, and returns the response.
func pollHandshake(t *testing.T, url string, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url+"/socket.io/?EIO=4&transport=polling", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("handshake: %s", resp.Status)
	}
	return resp
}

// TestGuestCookie checks the cookie a handshake's answer sets, over
// polling and WebSocket: HttpOnly, SameSite=Lax, for the name reserve; the
// token the client sent back, renewed, or a new one for a client with
// none, or with one that is not the server's.
func TestGuestCookie(t *testing.T) {
	ts := newTestApp(t, config{NameReserve: 48 * time.Hour})
	first := guestCookieOf(pollHandshake(t, ts.URL))
	if first == nil {
		t.Fatal("no guest cookie on the handshake")
	}
	if !first.HttpOnly || first.SameSite != http.SameSiteLaxMode || first.Path != "/" || first.MaxAge != 48*3600 || first.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/, Max-Age=172800, not Secure over HTTP", first)
	}
	if len(first.Value) != identity.TokenLen {
		t.Errorf("cookie value %q is no guest token", first.Value)
	}
	if again := guestCookieOf(pollHandshake(t, ts.URL, first)); again == nil || again.Value != first.Value {
		t.Errorf("the token sent back is not renewed: %+v", again)
	}
	forged := &http.Cookie{Name: chat.GuestCookie, Value: strings.Repeat("A", identity.TokenLen)}
	if other := guestCookieOf(pollHandshake(t, ts.URL, forged)); other == nil || other.Value == forged.Value || other.Value == first.Value {
		t.Errorf("a made-up token gets %+v, want a new one", other)
	}

	// Over WebSocket, the 101 answer carries it.
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	if c := guestCookieOf(resp); c == nil || len(c.Value) != identity.TokenLen || !c.HttpOnly {
		t.Errorf("WebSocket handshake: cookie %+v", c)
	}
}

// TestTutorialFlowKeepsItsName runs the tutorial's page's flow through a
// client that keeps cookies as a browser does: new-user with a name and
// no ack, a reload, and the same person again, whom a stranger cannot
// replace.
func TestTutorialFlowKeepsItsName(t *testing.T) {
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		ts := newTestApp(t, config{})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		bob := join(t, ctx, ts.URL, tr, "Bob")
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		visit := func() *sioclient.Client {
			dialer := *websocket.DefaultDialer
			dialer.Jar = jar
			c, err := sioclient.Dial(ctx, ts.URL, &sioclient.Options{Transport: tr, HTTPClient: &http.Client{Jar: jar}, Dialer: &dialer})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			so := c.Socket("/")
			if err := so.Connect(ctx, nil); err != nil {
				t.Fatal(err)
			}
			// The tutorial's page: no ack, no token.
			if err := so.Emit(chat.EventNewUser, "Tut"); err != nil {
				t.Fatal(err)
			}
			if err := so.Emit(chat.EventSendChatMessage, "hello"); err != nil {
				t.Fatal(err)
			}
			return c
		}
		var ids []string
		for range 3 {
			c := visit()
			select {
			case <-bob.messages:
			case <-ctx.Done():
				t.Fatal("bob got no message from the page")
			}
			ids = append(ids, bob.lastUserID)
			_ = c.Close() // reloaded
		}
		if ids[0] == "" || ids[1] != ids[0] || ids[2] != ids[0] {
			t.Errorf("the page's identity across reloads: %q, want one", ids)
		}
		// A stranger, without the cookie.
		stranger := join0(t, ctx, ts.URL, tr)
		r := stranger.ack(t, ctx, chat.EventNewUser, "Tut")
		if r.OK || r.Error != chat.ErrNameTaken.Error() {
			t.Errorf("a stranger takes the page's name: %+v", r)
		}
	})
}

func TestHandshakeRatePerAddress(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g := newHandshakeGuard(next, nil, time.Hour, netip.Addr.IsLoopback, nil, log)
	do := func(remote, query string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=polling"+query, nil)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		return w
	}
	for i := range handshakeBurst {
		if w := do("192.0.2.1:1000", ""); w.Code != http.StatusOK {
			t.Fatalf("handshake %d: %d", i, w.Code)
		}
	}
	w := do("192.0.2.1:1001", "")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("handshake past the burst: %d, want 429", w.Code)
	}
	if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", w.Header().Get("Retry-After"))
	}
	for _, tc := range []struct{ what, remote, query string }{
		{"a session's requests", "192.0.2.1:1000", "&sid=abc"},
		{"another address", "192.0.2.2:1000", ""},
		{"loopback", "127.0.0.1:1000", ""},
	} {
		if w := do(tc.remote, tc.query); w.Code != http.StatusOK {
			t.Errorf("%s: %d, want them not limited", tc.what, w.Code)
		}
	}
}

// appToken signs a token of the host application with key by method.
func appToken(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// connectApp connects over WebSocket with auth {token}, and returns the
// client, or the CONNECT_ERROR's data.
func connectApp(t *testing.T, ctx context.Context, url, token string) (*chatter, *sioclient.ConnectError) {
	t.Helper()
	c, err := sioclient.Dial(ctx, url, &sioclient.Options{Transport: sioclient.TransportWebSocket})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ch := &chatter{c: c, so: c.Socket("/"), messages: make(chan string, 16)}
	var auth any
	if token != "" {
		auth = map[string]string{"token": token}
	}
	err = ch.so.Connect(ctx, auth)
	if ce, ok := errors.AsType[*sioclient.ConnectError](err); ok {
		return nil, ce
	}
	if err != nil {
		t.Fatal(err)
	}
	return ch, nil
}

func TestAppMode(t *testing.T) {
	dir := t.TempDir()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemFile := func(name string, pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	const secret = "a shared secret of at least 32 bytes!"
	modes := []struct {
		name   string
		cfg    config
		method jwt.SigningMethod
		key    any
	}{
		{"HS256", config{JWTSecret: secret, JWTIssuer: "https://app.example", JWTAudience: "parley"}, jwt.SigningMethodHS256, []byte(secret)},
		{"RS256", config{JWTPublicKey: pemFile("rsa.pem", &rsaKey.PublicKey), JWTIssuer: "https://app.example", JWTAudience: "parley"}, jwt.SigningMethodRS256, rsaKey},
		{"ES256", config{JWTPublicKey: pemFile("ec.pem", &ecKey.PublicKey), JWTIssuer: "https://app.example", JWTAudience: "parley"}, jwt.SigningMethodES256, ecKey},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := newTestApp(t, m.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			claims := func(sub, name string, exp time.Duration) jwt.MapClaims {
				return jwt.MapClaims{"sub": sub, "name": name, "exp": time.Now().Add(exp).Unix(), "iss": "https://app.example", "aud": "parley"}
			}
			sign := func(c jwt.MapClaims) string { return appToken(t, m.method, m.key, c) }

			// No guest cookie in app mode.
			if c := guestCookieOf(pollHandshake(t, ts.URL)); c != nil {
				t.Errorf("app mode sets a guest cookie: %+v", c)
			}
			for _, tc := range []struct {
				name, token, code string
			}{
				{"no token", "", "auth_required"},
				{"expired", sign(claims("u1", "Ann", -time.Hour)), "token_expired"},
				{"bad signature", sign(claims("u1", "Ann", time.Hour))[:20] + "x" + sign(claims("u1", "Ann", time.Hour))[21:], "token_invalid"},
				{"signed with another key", appToken(t, jwt.SigningMethodHS256, []byte("another secret of at least 32 bytes"), claims("u1", "Ann", time.Hour)), "token_invalid"},
				{"wrong audience", sign(jwt.MapClaims{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix(), "iss": "https://app.example", "aud": "other"}), "token_invalid"},
				{"not a token", "hello", "token_invalid"},
				{"a name that cannot be shown", sign(claims("u1", "Mallory\u202e", time.Hour)), "token_invalid"},
			} {
				_, ce := connectApp(t, ctx, ts.URL, tc.token)
				if ce == nil {
					t.Errorf("%s: connected", tc.name)
					continue
				}
				var data struct{ Code, Message string }
				if err := json.Unmarshal(ce.Data, &data); err != nil || data.Code != tc.code || data.Message == "" || ce.Message != data.Message {
					t.Errorf("%s: CONNECT_ERROR %q %s, want code %q with a message", tc.name, ce.Message, ce.Data, tc.code)
				}
			}

			// A good token: its sub is the identity, its name the name,
			// whatever new-user asks for.
			ann, ce := connectApp(t, ctx, ts.URL, sign(claims("u1", "Ann", time.Hour)))
			if ce != nil {
				t.Fatalf("connect: %v %s", ce, ce.Data)
			}
			var r struct {
				OK    bool   `json:"ok"`
				Name  string `json:"name"`
				ID    string `json:"id"`
				Token string `json:"token"`
			}
			m, err := ann.so.EmitWithAck(ctx, chat.EventNewUser, "Somebody Else")
			if err != nil || m.Bind(0, &r) != nil || !r.OK || r.Name != "Ann" || r.ID != "u1" || r.Token != "" {
				t.Fatalf("new-user: %v %+v", err, r)
			}
			// A second device of hers is the same person; another user
			// with the same name is another.
			ann2, _ := connectApp(t, ctx, ts.URL, sign(claims("u1", "Ann", time.Hour)))
			if got := ann2.ack(t, ctx, chat.EventNewUser, "Ann"); !got.OK || len(got.Users) != 1 {
				t.Errorf("her second device: %+v, want one user, her", got)
			}
			other, _ := connectApp(t, ctx, ts.URL, sign(claims("u2", "Ann", time.Hour)))
			if got := other.ack(t, ctx, chat.EventNewUser, "Ann"); !got.OK || len(got.Users) != 2 {
				t.Errorf("another Ann: %+v, want two users", got)
			}
		})
	}
}
