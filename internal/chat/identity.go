package chat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/parley-chat/parley/internal/identity"
	"github.com/parley-chat/parley/internal/names"
	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// This file is who people are: a guest proves a name is theirs by the
// token the server gave them, a user of the host application by the JWT
// it signed (app mode, Config.Verifier).
//
// A guest's identity is its token's: its ID is derived from the token
// (guestID), so that one browser, whichever tab or reload, is one person,
// who holds one name at a time. The token reaches the client in the
// new-user ack, and in a cookie set on the Engine.IO handshake, for a
// page that knows nothing of identities (see GuestCookie). A name is held
// for Config.NameReserve after its holder was last seen, by an identity
// whose token is known to be kept: one the client sent back (in new-user
// or in the cookie), or one it was given in the ack it asked for. A token
// only offered in a cookie that the browser may not keep (a page of
// another site, which sends no cookies) holds its name while its holder
// is online only: an identity that was never seen again after its claim
// (LastSeen equal to Created, see kept) gives its name up to the next
// claimant once its person is gone. Otherwise the tutorial's page, served
// from another origin, would lose its name to its own previous load at
// every reload.

// GuestCookie is the cookie that carries a guest's token for a page that
// does not keep it: cmd/parley sets it, HttpOnly, on the Engine.IO
// handshake's answer, and the chat reads it from the handshake's Cookie
// header.
const GuestCookie = "parley_guest"

// GuestOfferCookie is how the handshake's handler tells the chat the
// token it has just offered in GuestCookie: it adds it to the request's
// Cookie header under this name. A token offered so is not known to be
// kept until the client sends it back.
const GuestOfferCookie = "parley_guest_offer"

// guestKeyConstant is the store constant holding the key of guest tokens.
const guestKeyConstant = "identity/guest-token-key"

// GuestTokens returns the guest tokens of the deployment whose store is
// st: under a key made once and kept in the store (store.Store.Constant),
// so that tokens outlive restarts and are shared by the processes of one
// database.
func GuestTokens(ctx context.Context, st store.Store) (*identity.Tokens, error) {
	init := make([]byte, identity.MinKeyBytes)
	if _, err := rand.Read(init); err != nil {
		return nil, fmt.Errorf("chat: make a guest token key: %w", err)
	}
	key, err := st.Constant(ctx, guestKeyConstant, init)
	if err != nil {
		return nil, fmt.Errorf("chat: read the guest token key: %w", err)
	}
	t, err := identity.NewTokens(key)
	if err != nil {
		return nil, fmt.Errorf("chat: guest token key: %w", err)
	}
	return t, nil
}

// guestIDPrefix starts the ID of every guest identity.
const guestIDPrefix = "guest:"

// guestID returns the ID of the guest identity of token: public (messages
// carry it), and no clue to the token, which cannot be had back from it.
func guestID(token string) string {
	sum := sha256.Sum256([]byte("parley/chat: guest identity id\x00" + token))
	return guestIDPrefix + base64.RawURLEncoding.EncodeToString(sum[:15])
}

// appKeyPrefix starts the key under which the store keeps an application
// user's identity: a control character, which no name's key holds, so
// that it is never a name's. Names shown in app mode are the
// application's, not unique here.
const appKeyPrefix = "\x01app\x01"

// who is an identity that new-user found for a socket.
type who struct {
	id, name, key string
	// token is the guest's token, for the ack; empty in app mode.
	token string
	// kept: the client is known to keep the token (or it is the
	// application's user); the name is then held for NameReserve.
	kept bool
	// existed: the identity was stored before this new-user, and seen
	// last at seen (see Chat.quietArrival).
	existed bool
	seen    time.Time
	// created is when the identity claimed its name, if known.
	created time.Time
}

// kept reports whether id is known to keep its token: it was seen again
// after it claimed its name, or claimed it as kept (see the comment at
// the top of this file).
func kept(id store.Identity) bool { return id.LastSeen.After(id.Created) }

// seenLately reports whether the store knows w, as of now, as kept and
// seen lately enough that recording it as seen again can wait for the
// sweep (refreshSeen): a person who claims a name as kept, or comes back
// (say after a restart), costs the store no write but the claim.
func (c *Chat) seenLately(w who, now time.Time) bool {
	return w.seen.After(w.created) && now.Sub(w.seen) < c.cfg.NameReserve/4
}

// nameRefusal returns the refusal of a name that names.Normalize refused
// with err.
func nameRefusal(err error) *Refusal {
	switch {
	case errors.Is(err, names.ErrEmpty):
		return ErrNameEmpty
	case errors.Is(err, names.ErrTooLong):
		return ErrNameTooLong
	}
	if r, ok := errors.AsType[*names.Refusal](err); ok {
		return &Refusal{CodeNameInvalid, r.Text()}
	}
	return ErrNameInvalid
}

// clientAddr returns the client address of so that per-address limits
// count, and false when none applies (an exempt address, or none).
func (c *Chat) clientAddr(so *socketio.Socket) (netip.Prefix, bool) {
	p, a, ok := ratelimit.ParseAddr(so.Handshake().Address)
	if !ok || c.cfg.ExemptAddress(a) {
		return netip.Prefix{}, false
	}
	return p, true
}

// guestToken returns the token that s's new-user proves itself with, and
// whether the client is known to keep it: the one it sends with new-user,
// or else the one its cookie carries, or else the one the handshake just
// offered in a cookie, or else one made for the socket (once: a socket
// that tries several names keeps one identity). Tokens that are not this
// server's (an old page's own, one under another key) are passed over.
// ack says whether the client gets its ack, and with it the token.
func (c *Chat) guestToken(so *socketio.Socket, s *session, sent string, ack bool) (token string, kept bool, err error) {
	if sent != "" && c.tokens.Valid(sent) {
		return sent, true, nil
	}
	r := http.Request{Header: so.Handshake().Headers}
	for _, name := range [...]string{GuestCookie, GuestOfferCookie} {
		for _, ck := range r.CookiesNamed(name) {
			if c.tokens.Valid(ck.Value) {
				return ck.Value, ack || name == GuestCookie, nil
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.minted == "" {
		if s.minted, err = c.tokens.Mint(); err != nil {
			return "", false, err
		}
	}
	return s.minted, ack, nil
}

// guest finds the guest identity that claims name for so, with the
// new-user options opts, and the name it holds. back, when not nil, is
// the identity that opts' token names as the store held it just before,
// holding name (see returnOf): it is taken without a claim.
func (c *Chat) guest(so *socketio.Socket, s *session, name string, opts newUserOptions, ack bool, back *store.Identity) (who, error) {
	name, err := names.Normalize(name, c.cfg.MaxNameLength)
	if err != nil {
		return who{}, nameRefusal(err)
	}
	key := names.Key(name)
	if c.cfg.Reserved.ContainsKey(key) {
		return who{}, ErrNameReserved
	}
	addr, limited := c.clientAddr(so)
	if limited && c.failedClaims.Blocked(addr) {
		return who{}, ErrClaimsLimited
	}
	token, keeps, err := c.guestToken(so, s, opts.Token, ack)
	if err != nil {
		c.log.Error("minting a guest token", "err", err)
		return who{}, ErrUnavailable
	}
	w := who{id: guestID(token), name: name, key: key, token: token, kept: keeps}

	// Online already (another tab, or back within the grace): the same
	// person, under the name they hold.
	c.mu.Lock()
	if p := c.people[w.id]; p != nil {
		w.name, w.key, w.existed = p.name, p.key, true
	}
	c.mu.Unlock()
	if w.existed {
		return w, nil
	}
	if c.node != nil {
		// Online on another node: the same person too, whose name the
		// store holds.
		if held, ok := c.onlineElsewhere(w.id); ok {
			w.name, w.key, w.existed = held.Name, held.Key, true
			w.seen, w.created = held.LastSeen, held.Created
			return w, nil
		}
	}

	now := time.Now()
	if back != nil && back.ID == w.id && !back.LastSeen.Before(now.Add(-c.cfg.NameReserve)) {
		// A return: the store holds the name for the identity, and no
		// claim takes it within the reserve, which the person renews
		// once online (see seenLately). Nothing to write.
		c.arrive(w.id, now)
		w.name, w.key, w.kept, w.existed = back.Name, back.Key, true, true
		w.seen, w.created = back.LastSeen, back.Created
		return w, nil
	}
	held, err := c.claim(w, now)
	if err != nil {
		c.log.Error("claiming a name", "err", err)
		return who{}, ErrUnavailable
	}
	if held.ID != w.id || !c.tokens.Matches(token, held.Secret) {
		if limited {
			c.failedClaims.Allow(addr)
		}
		c.log.Info("name refused: held by another", "key", key, "sid", so.ID())
		return who{}, ErrNameTaken
	}
	w.name, w.kept = held.Name, w.kept || kept(held)
	w.existed = held.Created.Before(store.Timestamp(now)) // not stored by this claim
	w.seen, w.created = held.LastSeen, held.Created
	return w, nil
}

// claim claims the guest w's name in the store at now, and returns the
// identity that holds it: w's, or another's.
func (c *Chat) claim(w who, now time.Time) (store.Identity, error) {
	claim := store.Claim{ID: w.id, Name: w.name, Key: w.key, Secret: identity.Hash(w.token), Now: now, Reserve: c.cfg.NameReserve, Kept: w.kept}
	ctx, cancel := storeContext()
	defer cancel()
	held, err := c.store.ClaimName(ctx, claim)
	if err == nil && held.ID != w.id && !kept(held) && !c.onlineAnywhere(held.ID) {
		// Its holder never came back with its token, and is gone: the
		// name is free.
		claim.Reserve = 0
		held, err = c.store.ClaimName(ctx, claim)
	}
	if err == nil && held.ID == w.id {
		c.arrive(w.id, now)
	}
	return held, err
}

// arrivingFor is how long a successful claim holds its name as if its
// claimant were online, while it comes online (see Chat.arriving).
const arrivingFor = 10 * time.Second

// arrive records that the identity id claimed its name at now, and lets
// go of the arrivals that never came online.
func (c *Chat) arrive(id string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.arriving) >= 1024 {
		for k, at := range c.arriving {
			if now.Sub(at) > arrivingFor {
				delete(c.arriving, k)
			}
		}
	}
	c.arriving[id] = now
}

// online reports whether the identity id is someone online here (or
// within the grace, or coming online after claiming its name).
func (c *Chat) online(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at, ok := c.arriving[id]; ok {
		if time.Since(at) <= arrivingFor {
			return true // claimed its name, and coming online
		}
		delete(c.arriving, id)
	}
	return c.people[id] != nil
}

// onlineAnywhere reports whether the identity id is someone online here
// or, in a cluster, on another node; when the cluster cannot tell, it
// says yes, which keeps a name from going to another.
func (c *Chat) onlineAnywhere(id string) bool {
	if c.online(id) {
		return true
	}
	if c.node == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	on, err := c.node.pres.Online(ctx, id)
	if err != nil {
		c.log.Warn("asking the cluster who is online", "err", err)
		return true
	}
	return on
}

// onlineElsewhere returns, when the identity id is online on another
// node of the cluster, its identity as the store has it.
func (c *Chat) onlineElsewhere(id string) (store.Identity, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	on, err := c.node.pres.Online(ctx, id)
	if err != nil {
		c.log.Warn("asking the cluster who is online", "err", err)
		return store.Identity{}, false
	}
	if !on {
		return store.Identity{}, false
	}
	held, err := c.store.IdentityByID(ctx, id)
	if err != nil {
		c.log.Warn("reading the identity of someone online elsewhere", "id", id, "err", err)
		return store.Identity{}, false
	}
	return held, true
}

// appUser returns the identity of an application's user, whom so's
// handshake token proved (see authenticate).
func (c *Chat) appUser(s *session) (who, error) {
	a := s.app
	if a == nil {
		return who{}, ErrNotAuthenticated
	}
	w := who{id: a.Subject, name: a.Name, key: appKeyPrefix + a.Subject, kept: true}
	c.mu.Lock()
	if p := c.people[w.id]; p != nil {
		w.existed = true
	}
	c.mu.Unlock()
	if w.existed {
		return w, nil
	}
	now := time.Now()
	ctx, cancel := storeContext()
	defer cancel()
	held, err := c.store.ClaimName(ctx, store.Claim{ID: w.id, Name: w.name, Key: w.key, Now: now, Reserve: c.cfg.NameReserve, Kept: true})
	if err != nil || held.ID != w.id {
		c.log.Error("storing an application user", "sub", a.Subject, "err", err, "holder", held.ID)
		return who{}, ErrUnavailable
	}
	w.existed = held.Created.Before(store.Timestamp(now))
	w.seen, w.created = held.LastSeen, held.Created
	return w, nil
}

// authenticate is the namespace's middleware in app mode: a socket must
// bring a token of the host application, auth: {token}, which is checked
// before it connects; a missing, expired or invalid token is refused with
// a CONNECT_ERROR whose data is {code, message}. A recovered socket is
// not checked again (socketio runs no middleware for it): it was when it
// first connected.
func (c *Chat) authenticate(so *socketio.Socket) error {
	var auth struct {
		Token string `json:"token"`
	}
	if a := so.Handshake().Auth; len(a) > 0 && a[0] == '{' {
		_ = json.Unmarshal(a, &auth)
	}
	claims, err := c.verifier.Verify(auth.Token)
	if err == nil {
		var name string
		if name, err = names.Normalize(claims.Name, c.cfg.MaxNameLength); err == nil {
			claims.Name = name
		} else {
			err = &identity.TokenError{Refusal: identity.ErrTokenInvalid, Reason: "name claim: " + nameRefusal(err).Text, Err: err}
		}
	}
	if err != nil {
		te, ok := errors.AsType[*identity.TokenError](err)
		if !ok {
			te = &identity.TokenError{Refusal: identity.ErrTokenInvalid, Err: err}
		}
		c.log.Info("connection refused", "code", te.Code(), "err", err, "remote", so.Handshake().Address)
		c.refused(te.Code())
		return &socketio.ConnectError{Message: te.Text(), Data: connectRefusal{Code: te.Code(), Message: te.Text()}}
	}
	so.SetData(&session{limiter: c.newConnLimiter(), app: &claims})
	return nil
}

// connectRefusal is the data of a CONNECT_ERROR: a stable code and a text
// for people.
type connectRefusal struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// seen records that the person p was seen now, which keeps their name
// theirs for another NameReserve and tells a later arrival that they
// keep their token (see kept). A failure is logged: the name is then held
// for less long, nothing else.
func (c *Chat) seen(ctx context.Context, p *person, now time.Time) {
	at := now
	if !p.created.IsZero() && !store.Timestamp(at).After(p.created) {
		at = p.created.Add(time.Millisecond) // after the claim, to show it is kept
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := c.store.SeenIdentity(ctx, p.id, at); err != nil {
		c.log.Warn("recording an identity as seen", "id", p.id, "err", err)
		return
	}
	c.mu.Lock()
	p.seenAt = now
	c.mu.Unlock()
}

// Bounds of the sweep of identities.
const (
	minSweepEvery = time.Minute
	maxSweepEvery = time.Hour
	// seenAllTimeout bounds what Close spends recording the people online
	// as seen.
	seenAllTimeout = 5 * time.Second
)

// sweepIdentities runs until Close: now and then, it records as seen the people
// online since long (so that a name is not let go while its holder is
// here) and removes the identities unseen for the NameReserve, whose
// names are free (ClaimName would replace them; this frees their rows).
func (c *Chat) sweepIdentities() {
	defer close(c.swept)
	every := min(max(c.cfg.NameReserve/8, minSweepEvery), maxSweepEvery)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			c.refreshSeen(now)
			ctx, cancel := storeContext()
			n, err := c.store.PruneIdentities(ctx, now.Add(-c.cfg.NameReserve))
			cancel()
			switch {
			case err != nil:
				c.log.Warn("removing unseen identities", "err", err)
			case n > 0:
				c.log.Info("removed unseen identities", "count", n)
			}
		}
	}
}

// refreshSeen records as seen the people online whose identity was last
// recorded so more than a quarter of the NameReserve before now.
func (c *Chat) refreshSeen(now time.Time) {
	stale := now.Add(-c.cfg.NameReserve / 4)
	var due []*person
	c.mu.Lock()
	for _, p := range c.people {
		if p.kept && p.seenAt.Before(stale) {
			due = append(due, p)
		}
	}
	c.mu.Unlock()
	ctx, cancel := storeContext()
	defer cancel()
	c.seenMany(ctx, due, now)
}

// seenAll records as seen the people online, or within their grace, at
// Close: they were here when the server stopped (see quietArrival).
func (c *Chat) seenAll() {
	now := time.Now()
	var all []*person
	c.mu.Lock()
	for _, p := range c.people {
		if p.away != nil {
			p.away.Stop() // the server stops: nobody is told they left
			p.away = nil
		}
		if p.kept {
			all = append(all, p)
		}
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), seenAllTimeout)
	defer cancel()
	c.seenMany(ctx, all, now)
}

// seenBatch is the most identities one SeenIdentities records.
const seenBatch = 1000

// seenMany records people as seen at now, in batches of seenBatch: a
// transaction each, not one per person. A failure is logged, as in seen.
func (c *Chat) seenMany(ctx context.Context, people []*person, now time.Time) {
	for len(people) > 0 {
		batch := people[:min(seenBatch, len(people))]
		people = people[len(batch):]
		ids := make([]string, len(batch))
		for i, p := range batch {
			ids[i] = p.id
		}
		if err := c.store.SeenIdentities(ctx, ids, now); err != nil {
			c.log.Warn("recording people as seen", "count", len(batch), "left", len(people), "err", err)
			return
		}
		c.mu.Lock()
		for _, p := range batch {
			p.seenAt = now
		}
		c.mu.Unlock()
	}
}
