package main

import (
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/identity"
	"github.com/parley-chat/parley/internal/ratelimit"
)

// Limits of Engine.IO handshakes, per client address (an IPv4 address or
// an IPv6 /64; loopback and trusted proxies exempt, as for the connection
// caps): a page opens one per visit and one per reconnection, so that 50
// at once leave room for a NAT address of people coming back together
// after a restart, and 5 a second after that for a client cycling
// connections.
const (
	handshakeRate  = 5
	handshakeBurst = 50
)

// handshakeGuard is what parley does with an Engine.IO handshake (a
// request of the Socket.IO endpoint without a sid) before the endpoint
// opens a session: it limits their rate per client address, and in guest
// mode it gives the client its guest token in a cookie (chat.GuestCookie),
// for a page that knows nothing of identities. It is safe for concurrent
// use.
type handshakeGuard struct {
	next    http.Handler
	limit   *ratelimit.Keyed[netip.Prefix]
	exempt  func(netip.Addr) bool
	tokens  *identity.Tokens // nil in app mode: no cookie
	maxAge  time.Duration    // of the cookie: the name reserve
	trusted proxies
	log     *slog.Logger
	// limited, when set, hears of each handshake refused for the rate.
	limited func()
}

// newHandshakeGuard returns the guard of next. tokens is nil in app mode.
func newHandshakeGuard(next http.Handler, tokens *identity.Tokens, maxAge time.Duration, exempt func(netip.Addr) bool, trusted proxies, log *slog.Logger) *handshakeGuard {
	return &handshakeGuard{
		next:    next,
		limit:   ratelimit.New[netip.Prefix](rate.Limit(handshakeRate), handshakeBurst),
		exempt:  exempt,
		tokens:  tokens,
		maxAge:  maxAge,
		trusted: trusted,
		log:     log,
	}
}

// ServeHTTP implements http.Handler.
func (g *handshakeGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Query().Has("sid") {
		g.next.ServeHTTP(w, r) // not a handshake
		return
	}
	if key, addr, ok := ratelimit.ParseAddr(r.RemoteAddr); ok && !g.exempt(addr) {
		if ok, retry := g.limit.Allow(key); !ok {
			g.log.Debug("handshake refused: too many from one address", logKeyRemote, r.RemoteAddr)
			if g.limited != nil {
				g.limited()
			}
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
			http.Error(w, "too many connections from your address; try again later", http.StatusTooManyRequests)
			return
		}
	}
	if g.tokens != nil {
		g.guestCookie(w, r)
	}
	g.next.ServeHTTP(w, r)
}

// guestCookie sets the guest cookie on the handshake's answer: the token
// the client sent, if it is one of ours, with its life renewed, or a new
// one, which the chat learns from the request (chat.GuestOfferCookie).
// The cookie is HttpOnly (no script reads it), SameSite=Lax (no other
// site's page sends it), Secure over HTTPS, and lives as long as the name
// it may hold.
func (g *handshakeGuard) guestCookie(w http.ResponseWriter, r *http.Request) {
	token := ""
	for _, c := range r.CookiesNamed(chat.GuestCookie) {
		if g.tokens.Valid(c.Value) {
			token = c.Value
			break
		}
	}
	if token == "" {
		minted, err := g.tokens.Mint()
		if err != nil {
			g.log.Error("minting a guest token", "err", err)
			return
		}
		token = minted
		// The chat reads the cookies of the handshake request: it hears
		// of the new token there, as one offered, not yet kept.
		r.Header.Add("Cookie", (&http.Cookie{Name: chat.GuestOfferCookie, Value: token}).String())
	}
	http.SetCookie(w, &http.Cookie{
		Name:     chat.GuestCookie,
		Value:    token,
		Path:     "/",
		MaxAge:   int(g.maxAge / time.Second),
		HttpOnly: true,
		Secure:   g.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// secure reports whether r came over HTTPS, to parley or to a trusted
// proxy in front of it.
func (g *handshakeGuard) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return g.trusted.trustsRequest(r) && strings.EqualFold(lastValue(r.Header, "X-Forwarded-Proto"), "https")
}
