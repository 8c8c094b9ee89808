package chat

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/socketio"
)

// EventWelcome is the first event of every connection, before the default
// room's history: what a client needs to know of the server before it
// does anything (Welcome).
const EventWelcome = "welcome"

// epochConstant names the store's epoch among the store's constants.
const epochConstant = "epoch"

// Welcome is the payload of welcome.
type Welcome struct {
	// Epoch names the store's history: it is made once, with the store,
	// and changes only when the store starts over (a memory store's
	// restart, an SQLite file deleted, a new database). Message ids, and
	// the since of the handshake and of join-room, count within one
	// epoch: a client that sees a new epoch forgets the ids it knew, for
	// the new store numbers its messages from 1 again. A handshake whose
	// auth names another epoch than the store's ({since, epoch}) gets the
	// default room's recent history, whatever its since.
	Epoch string `json:"epoch"`
	// Limits are the server's limits.
	Limits Limits `json:"limits"`
}

// Limits are the server's limits a page needs to know, in welcome and in
// new-user's answer; lengths are in characters (code points).
type Limits struct {
	// Name is the longest name (Config.MaxNameLength).
	Name int `json:"name"`
	// Message is the longest message (Config.MaxMessageLength).
	Message int `json:"message"`
	// Room is the longest room name.
	Room int `json:"room"`
	// Rate and Burst are the events a connection may send, per second
	// and in a burst (Config.Rate and Burst); both are absent when the
	// rate is not limited.
	Rate  float64 `json:"rate,omitempty"`
	Burst int     `json:"burst,omitempty"`
}

// limits returns the chat's Limits.
func (c *Chat) limits() Limits {
	l := Limits{Name: c.cfg.MaxNameLength, Message: c.cfg.MaxMessageLength, Room: maxRoomNameLength}
	if r := c.cfg.Rate; r != rate.Inf && r > 0 && !math.IsInf(float64(r), 0) {
		l.Rate, l.Burst = float64(r), c.cfg.Burst
	}
	return l
}

// newWelcome reads (or, for a new store, makes) the store's epoch, and
// returns the welcome of every connection, encoded once.
func (c *Chat) newWelcome() (json.RawMessage, error) {
	ctx, cancel := storeContext()
	defer cancel()
	epoch, err := c.store.Constant(ctx, epochConstant, []byte(rand.Text()))
	if err != nil {
		return nil, fmt.Errorf("reading the store's epoch: %w", err)
	}
	c.epoch = string(epoch)
	w, err := json.Marshal(Welcome{Epoch: c.epoch, Limits: c.limits()})
	if err != nil {
		return nil, fmt.Errorf("encoding the welcome: %w", err)
	}
	return w, nil
}

// welcome sends so the welcome: the first thing it hears.
func (c *Chat) welcome(so *socketio.Socket) {
	_ = so.EmitPrepared(c.hello)
}

// connectSince returns the since of so's handshake (see sinceFromAuth),
// or 0 when the handshake names an epoch that is not the store's: its
// since numbers the messages of a store that is gone.
func (c *Chat) connectSince(so *socketio.Socket) int64 {
	var auth struct {
		Epoch any `json:"epoch"`
	}
	if a := so.Handshake().Auth; len(a) > 0 && a[0] == '{' {
		_ = json.Unmarshal(a, &auth)
	}
	if e, ok := auth.Epoch.(string); ok && e != c.epoch {
		return 0
	}
	return sinceFromAuth(so)
}

// Epoch returns the store's epoch, as welcome gives it.
func (c *Chat) Epoch() string { return c.epoch }
