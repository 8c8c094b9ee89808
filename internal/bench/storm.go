package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Rejoin is how the clients of a restart storm join, and come back once
// the server has restarted (Config.Rejoin).
type Rejoin string

// The ways of rejoining.
const (
	// RejoinPage does what parley's page does (web/static/js/join.js):
	// new-user with an ack, and, after the restart, with the guest token
	// that the first ack gave; then the pages of the default room's
	// members that the ack did not hold (list-users, as the page's
	// moreUsers) and the directory of rooms (list-rooms). A client is
	// back once new-user is acknowledged under its name.
	RejoinPage Rejoin = "page"
	// RejoinTutorial does what a page of the tutorial's would do to be
	// known by its name again: new-user with the name, no ack (the
	// tutorial's server answers none). A client is back once the
	// namespace is connected and new-user sent.
	RejoinTutorial Rejoin = "tutorial"
)

// The page's reconnection, as web/static has it: the Manager's defaults
// in socket.io.js (reconnectionDelay, reconnectionDelayMax,
// randomizationFactor, timeout) and js/config.js (JOIN_TIMEOUT_MS,
// REJOIN_DELAY_MS, REJOIN_RETRIES, USERS_PAGE, USERS_PAGES, ROOMS_PAGE).
// TestPageReconnection checks them against those files.
const (
	pageReconnectDelay    = time.Second
	pageReconnectDelayMax = 5 * time.Second
	pageRandomization     = 0.5
	pageOpenTimeout       = 20 * time.Second
	pageJoinTimeout       = 8 * time.Second
	pageRejoinDelay       = 1500 * time.Millisecond
	pageRejoinRetries     = 8
	pageUsersPage         = 1000
	pageUsersPages        = 10
	pageRoomsPage         = 200
)

// backoffDelay is the page's wait before reconnection attempt n (0 for the
// first after a connection was lost or opened), with u uniform in [0, 1):
// reconnectionDelay × 2ⁿ, moved by up to ± randomizationFactor of itself,
// at most reconnectionDelayMax (socket.io.js, Manager._delay).
func backoffDelay(n int, u float64) time.Duration {
	d := float64(pageReconnectDelay) * math.Pow(2, float64(min(n, 30)))
	d += (u*2 - 1) * pageRandomization * d
	return time.Duration(max(0, min(d, float64(pageReconnectDelayMax))))
}

// The events a restart storm counts, and its requests.
var (
	userConnectedPrefix    = []byte(eventPrefix + `["user-connected",`)
	userDisconnectedPrefix = []byte(eventPrefix + `["user-disconnected",`)
)

// The refusal codes a rejoin treats as the page does (js/codes.js).
const (
	codeRateLimited   = "rate_limited"
	codeAlreadyJoined = "already_joined"
)

// newUserAck is client name's new-user with ack id and its token (none
// before the first ack), as the page sends it.
func newUserAck(id uint64, name, token string) []byte {
	b := append([]byte(eventPrefix), strconv.FormatUint(id, 10)...)
	b = append(b, `["new-user",`...)
	b = strconv.AppendQuote(b, name)
	if token == "" {
		return append(b, `,{}]`...)
	}
	b = append(b, `,{"token":`...)
	b = appendJSONString(b, token)
	return append(b, `}]`...)
}

// listUsers asks for a page of the default room's members after after
// (none: the first), as the page's moreUsers does.
func listUsers(id uint64, after string) []byte {
	b := append([]byte(eventPrefix), strconv.FormatUint(id, 10)...)
	b = append(b, `["list-users",{"room":"general","limit":`...)
	b = strconv.AppendInt(b, pageUsersPage, 10)
	b = append(b, `,"after":`...)
	b = appendJSONString(b, after)
	return append(b, `}]`...)
}

// listRooms asks for the first page of the directory of rooms.
func listRooms(id uint64) []byte {
	b := append([]byte(eventPrefix), strconv.FormatUint(id, 10)...)
	b = append(b, `["list-rooms",{"limit":`...)
	b = strconv.AppendInt(b, pageRoomsPage, 10)
	return append(b, `}]`...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// ackReply is what a restart storm reads of an answer: new-user's, or a
// page of list-users.
type ackReply struct {
	OK    bool      `json:"ok"`
	Code  string    `json:"code"`
	Name  string    `json:"name"`
	Token string    `json:"token"`
	Next  string    `json:"next"`
	Users nameCount `json:"users"`
}

// nameCount counts the strings of a JSON array without keeping them.
type nameCount int

// UnmarshalJSON counts the strings in b, a JSON array that the decoder
// has checked.
func (n *nameCount) UnmarshalJSON(b []byte) error {
	count, in, esc := 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			if !in {
				count++
			}
			in = !in
		}
	}
	*n = nameCount(count)
	return nil
}

// parseAckReply reads an ack packet after its "43": its id, and the
// first argument of its answer.
func parseAckReply(p []byte) (uint64, ackReply, error) {
	id, rest, ok := parseNumber(p, '[', 19)
	if !ok {
		return 0, ackReply{}, fmt.Errorf("ack %.40q: no id", p)
	}
	var args []ackReply
	if err := json.Unmarshal(p[len(p)-len(rest)-1:], &args); err != nil || len(args) == 0 {
		return id, ackReply{}, fmt.Errorf("ack %.40q: %v", p, err)
	}
	return id, args[0], nil
}

// The states of a restart storm's client.
const (
	stJoining int32 = iota // first connection, not joined yet
	stJoined               // joined, before the restart
	stFailed               // never joined
	stDropped              // lost before the restart
	stAway                 // after the restart, not back (yet)
	stBack                 // back after the restart
	stGaveUp               // its rejoin was refused, or the server sent it away
)

var (
	// errGaveUp ends a connection whose rejoin was refused for good.
	errGaveUp = errors.New("bench: rejoin refused")
	// errNoLink is a write after the connection ended.
	errNoLink = errors.New("bench: not connected")
)

// stormClient is one person of a restart storm: it connects, joins, and
// once the restart has closed its connection, reconnects with the page's
// backoff and rejoins, until the run ends. Its goroutine dials and reads;
// timers resend new-user; fields under mu are shared with them.
type stormClient struct {
	s     *storm
	id    int
	name  string
	shard *shard

	state atomic.Int32
	// Counted from the restart on: the user-connected and
	// user-disconnected events it received.
	connected, disconnected atomic.Uint64
	// backAt and listedAt are when, after the restart, it was first back
	// and first had the whole member list (unix nanoseconds; 0: not yet).
	backAt, listedAt atomic.Int64

	// The reader's: when it first dialed, the connection it reads, and
	// why it stopped.
	start    time.Time
	rl       link
	liveness time.Duration
	pong     []byte
	err      error

	mu      sync.Mutex
	link    link
	closing bool
	gen     int    // counts connections, so that a timer of an older one does nothing
	token   string // the guest token of the first ack
	nextAck uint64
	joinAck uint64 // the ack id new-user awaits, 0 for none
	usersAk uint64 // the ack id of the page of members asked for
	pages   int    // pages of members asked for on this connection
	retries int    // rejoins tried again on this connection
	timer   *time.Timer
	gaveUp  bool // its join or rejoin was refused: it stops
}

// run connects, joins, and reconnects after the restart, until the run
// ends or the client gives up.
func (sc *stormClient) run(ctx context.Context) {
	defer sc.s.r.readers.Done()
	sc.start = time.Now()
	attempt := 0
	for {
		opened, err := sc.session(ctx)
		if ctx.Err() != nil || sc.isClosing() {
			if sc.state.Load() == stJoining {
				sc.s.failed(sc, context.Canceled)
			}
			return
		}
		switch st := sc.state.Load(); {
		case st == stJoining:
			sc.s.failed(sc, err)
			return
		case st == stGaveUp || errors.Is(err, errGaveUp):
			return
		case !sc.s.storming.Load():
			sc.state.Store(stDropped)
			sc.s.r.nDropped.Add(1)
			sc.s.r.noteErr("dropped", err)
			return
		default:
			sc.s.ended(sc, st, err)
		}
		if opened {
			attempt = 0
		}
		d := backoffDelay(attempt, rand.Float64())
		attempt++
		if !sleep(ctx, d) {
			return
		}
	}
}

// session makes one connection and reads it until it ends, and reports
// whether the Engine.IO session opened, and what ended it.
func (sc *stormClient) session(ctx context.Context) (opened bool, err error) {
	r := sc.s.r
	if sc.s.storming.Load() {
		sc.s.attempts.Add(1)
	}
	dctx, cancel := context.WithTimeout(ctx, r.cfg.ConnectTimeout)
	l, open, err := r.dial(dctx, &client{r: r, id: sc.id})
	cancel()
	var info openInfo
	if err == nil {
		info, err = parseOpen(open)
		if err != nil {
			l.close(false, 0)
		}
	}
	if err != nil {
		return false, err
	}
	sc.liveness = info.liveness()
	sc.err = nil
	sc.mu.Lock()
	if sc.closing {
		sc.mu.Unlock()
		l.close(false, 0)
		return true, nil
	}
	sc.link = l
	sc.gen++
	sc.joinAck, sc.usersAk, sc.pages, sc.retries = 0, 0, 0, 0
	sc.mu.Unlock()
	sc.rl = l
	l.extend(sc.liveness)
	if err = l.write(connectFrame); err == nil {
		if err = l.readLoop(sc.handle); err == nil {
			err = sc.err
		}
	}
	sc.mu.Lock()
	sc.link = nil
	if sc.timer != nil {
		sc.timer.Stop()
		sc.timer = nil
	}
	if sc.gaveUp {
		err = errGaveUp
	}
	sc.mu.Unlock()
	sc.rl = nil
	l.close(false, 0)
	return true, err
}

// isClosing reports whether the run is closing the client.
func (sc *stormClient) isClosing() bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.closing
}

// close ends the client at the end of the run: it leaves the namespace
// if it is in the chat.
func (sc *stormClient) close(timeout time.Duration) {
	sc.mu.Lock()
	sc.closing = true
	l := sc.link
	if sc.timer != nil {
		sc.timer.Stop()
		sc.timer = nil
	}
	sc.mu.Unlock()
	if l != nil {
		st := sc.state.Load()
		l.close(st == stJoined || st == stBack, timeout)
	}
}

// handle handles one Engine.IO packet; it returns false to end the
// connection, with sc.err saying why.
func (sc *stormClient) handle(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	if p[0] != eioMessage {
		switch p[0] {
		case eioPing:
			sc.pong = append(append(sc.pong[:0], eioPong), p[1:]...)
			if err := sc.rl.write(sc.pong); err != nil {
				sc.err = err
				return false
			}
			sc.rl.extend(sc.liveness)
		case eioClose:
			sc.err = ErrServerClose
			return false
		}
		return true
	}
	if len(p) < 2 || (len(p) > 2 && p[2] == '/') {
		return true // another namespace
	}
	switch p[1] {
	case sioEvent:
		if bytes.HasPrefix(p, welcomePrefix) {
			return true
		}
		sc.shard.events.Add(1)
		if sc.s.counting.Load() {
			switch {
			case bytes.HasPrefix(p, userConnectedPrefix):
				sc.connected.Add(1)
			case bytes.HasPrefix(p, userDisconnectedPrefix):
				sc.disconnected.Add(1)
			}
		}
	case sioAck:
		return sc.onAck(p[2:])
	case sioConnect:
		return sc.onConnect()
	case sioConnectError:
		sc.err = fmt.Errorf("%w: %.80s", ErrConnectRefused, p[2:])
		return false
	case sioDisconnect:
		// The page signs out: the server sent it away.
		sc.err = ErrKicked
		if st := sc.state.Load(); st != stJoining && st != stGaveUp && sc.s.storming.Load() {
			sc.state.Store(stGaveUp)
			sc.s.nGaveUp.Add(1)
			sc.s.r.noteErr("sent away", ErrKicked)
		}
		return false
	}
	return true
}

// onConnect joins once the namespace is connected.
func (sc *stormClient) onConnect() bool {
	if sc.s.r.cfg.Rejoin == RejoinTutorial {
		if err := sc.write(sc.s.r.newUser(sc.id)); err != nil {
			sc.err = err
			return false
		}
		sc.joined()
		return true
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if err := sc.sendJoinLocked(); err != nil {
		sc.err = err
		return false
	}
	return true
}

// write sends pkt on the current connection.
func (sc *stormClient) write(pkt []byte) error {
	sc.mu.Lock()
	l := sc.link
	sc.mu.Unlock()
	if l == nil {
		return errNoLink
	}
	return l.write(pkt)
}

// sendJoinLocked sends new-user with a new ack id, and has it sent again
// if no answer comes within the page's wait. sc.mu is held.
func (sc *stormClient) sendJoinLocked() error {
	if sc.link == nil {
		return errNoLink
	}
	sc.nextAck++
	id := sc.nextAck
	sc.joinAck = id
	if sc.s.storming.Load() {
		sc.s.rejoins.Add(1)
	}
	if err := sc.link.write(newUserAck(id, sc.name, sc.token)); err != nil {
		return err
	}
	gen := sc.gen
	sc.setTimerLocked(pageJoinTimeout, func() { sc.joinTimedOut(gen, id) })
	return nil
}

// setTimerLocked replaces the client's timer. sc.mu is held.
func (sc *stormClient) setTimerLocked(d time.Duration, f func()) {
	if sc.timer != nil {
		sc.timer.Stop()
	}
	sc.timer = time.AfterFunc(d, f)
}

// joinTimedOut is the page's answer to a new-user that got no answer in
// time: before the restart, a join that failed; after it, another try
// after a while, up to its retries (js/join.js).
func (sc *stormClient) joinTimedOut(gen int, id uint64) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if gen != sc.gen || sc.joinAck != id || sc.link == nil {
		return
	}
	sc.joinAck = 0 // a late answer is dropped, as the page drops it
	sc.retryLocked("no answer to new-user within " + pageJoinTimeout.String())
}

// retryLocked sends new-user again after the page's delay, or, when the
// retries are spent or before the restart, gives up with why. sc.mu is
// held.
func (sc *stormClient) retryLocked(why string) {
	if sc.state.Load() == stJoining || sc.retries >= pageRejoinRetries {
		sc.giveUpLocked(why)
		return
	}
	sc.retries++
	sc.s.retries.Add(1)
	gen := sc.gen
	sc.setTimerLocked(pageRejoinDelay, func() {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		if gen == sc.gen && sc.link != nil && sc.state.Load() != stBack {
			if err := sc.sendJoinLocked(); err != nil {
				sc.link.close(false, 0)
			}
		}
	})
}

// giveUpLocked ends the client's part: its join, or its rejoin, was
// refused (why), as the page signs out. sc.mu is held.
func (sc *stormClient) giveUpLocked(why string) {
	phase := "rejoin refused"
	if sc.state.Load() == stJoining {
		phase = "join refused"
	} else if sc.state.Swap(stGaveUp) != stGaveUp {
		sc.s.nGaveUp.Add(1)
	}
	sc.s.r.noteKind(phase, why)
	sc.gaveUp = true
	if sc.link != nil {
		sc.link.close(false, 0) // the reader returns
	}
}

// onAck handles an answer: to new-user, or to a page of members; the
// directory of rooms is not read.
func (sc *stormClient) onAck(p []byte) bool {
	id, rep, err := parseAckReply(p)
	if err != nil {
		sc.shard.malformed.Add(1)
		return true
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	switch id {
	case sc.joinAck:
		sc.joinAck = 0
		if sc.timer != nil {
			sc.timer.Stop()
		}
		sc.onJoinReply(rep)
	case sc.usersAk:
		sc.usersAk = 0
		if sc.s.storming.Load() {
			sc.s.pages.Add(1)
			sc.s.names.Add(uint64(rep.Users))
		}
		sc.moreUsersLocked(rep)
	}
	return !sc.gaveUp
}

// onJoinReply takes new-user's answer. sc.mu is held.
func (sc *stormClient) onJoinReply(rep ackReply) {
	switch {
	case rep.OK:
		if rep.Name != sc.name {
			sc.s.r.noteKind("name changed", fmt.Sprintf("joined as another name than %q", sc.name))
			sc.s.renamed.Add(1)
		}
		if sc.token == "" {
			sc.token = rep.Token
		}
		if sc.s.storming.Load() {
			sc.s.names.Add(uint64(rep.Users))
		}
		sc.joined()
		sc.moreUsersLocked(rep)
		sc.nextAck++
		if err := sc.link.write(listRooms(sc.nextAck)); err != nil {
			sc.link.close(false, 0)
		}
	case rep.Code == codeAlreadyJoined:
		// An earlier new-user got through: the page is in.
		sc.joined()
		sc.listed()
	case rep.Code == codeRateLimited:
		sc.retryLocked("new-user " + codeRateLimited)
	default:
		code := rep.Code
		if code == "" {
			code = "no code"
		}
		sc.giveUpLocked("new-user: " + code)
	}
}

// moreUsersLocked asks for the next page of members when rep, a list's
// page, says there is one and the page would ask, or else notes the list
// as complete. sc.mu is held.
func (sc *stormClient) moreUsersLocked(rep ackReply) {
	if !rep.OK || rep.Next == "" || sc.pages >= pageUsersPages {
		sc.listed()
		return
	}
	sc.pages++
	sc.nextAck++
	sc.usersAk = sc.nextAck
	if err := sc.link.write(listUsers(sc.usersAk, rep.Next)); err != nil {
		sc.link.close(false, 0)
	}
}

// joined records that the client is in the chat: joined before the
// restart, or back after it.
func (sc *stormClient) joined() {
	switch sc.state.Load() {
	case stJoining:
		sc.state.Store(stJoined)
		sc.s.joined(sc)
	case stAway:
		sc.state.Store(stBack)
		if sc.backAt.Load() == 0 {
			sc.backAt.Store(time.Now().UnixNano())
			sc.s.nBack.Add(1)
		}
		if sc.s.r.cfg.Rejoin == RejoinTutorial {
			sc.listed()
		}
	}
}

// listed records that, after the restart, the client has had the whole
// member list (or all the page would ask for).
func (sc *stormClient) listed() {
	if sc.s.storming.Load() && sc.state.Load() == stBack {
		sc.listedAt.CompareAndSwap(0, time.Now().UnixNano())
	}
}
