package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/parley-chat/parley/internal/socketio"
)

// credentials are what a UI logs in with: a username and password, or a
// session id given at an earlier login.
type credentials struct {
	Username  string `json:"username"`
	Password  string `json:"password"`
	SessionID string `json:"sessionId"`
}

// refused is the connect error of a login that failed.
var (
	refusedCredentials = &socketio.ConnectError{Message: msgInvalidCredentials}
	refusedTooMany     = &socketio.ConnectError{Message: msgTooManyAttempts, Data: map[string]string{"code": "rate_limited"}}
)

// authenticate is the admin namespace's middleware. A UI with a session
// id that the store knows is in; otherwise its username and password are
// checked (the username in constant time, the password by bcrypt, both
// always, so that the time taken says nothing of which was wrong), and a
// UI that got them right is given a new session id, sent as "session"
// once it is connected. Failures are limited per client address and in
// all: past the limits a UI is refused before any check.
func (a *Admin) authenticate(so *socketio.Socket) error {
	h := so.Handshake()
	key := a.cfg.ClientAddress(h)
	if a.failures.Blocked(key) || a.global.Tokens() < 1 {
		a.log.Info("admin login refused: too many failed attempts", "remote", h.Address)
		return refusedTooMany
	}
	var cred credentials
	if err := json.Unmarshal(h.Auth, &cred); err != nil {
		cred = credentials{} // not of the documented shape: no credentials
	}
	if cred.SessionID != "" {
		ctx, cancel := context.WithTimeout(a.ctx, sessionTimeout)
		ok, err := a.sessions.Exists(ctx, cred.SessionID)
		cancel()
		if err != nil {
			a.log.Warn("admin session store", "err", err)
		}
		if ok {
			return nil
		}
	}
	if cred.Username != "" || cred.Password != "" {
		sum := sha256.Sum256([]byte(cred.Username))
		userOK := subtle.ConstantTimeCompare(sum[:], a.userSum[:]) == 1
		passOK := bcrypt.CompareHashAndPassword(a.hash, []byte(cred.Password)) == nil
		if userOK && passOK {
			return a.newSession(so)
		}
	}
	a.failures.Allow(key)
	a.global.Allow()
	a.log.Info("admin login refused: invalid credentials", "remote", h.Address)
	return refusedCredentials
}

// newSession gives so a session id, kept in the store and sent once it is
// connected (what is sent while connecting follows the CONNECT reply).
func (a *Admin) newSession(so *socketio.Socket) error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("admin: session id: %w", err)
	}
	id := hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(a.ctx, sessionTimeout)
	err := a.sessions.Save(ctx, id)
	cancel()
	if err != nil {
		// The UI is in; it will need its password next time.
		a.log.Warn("admin session not kept", "err", err)
	}
	arg, _ := json.Marshal(id)
	_ = so.EmitRaw("session", []json.RawMessage{arg}, nil)
	return nil
}
