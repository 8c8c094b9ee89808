package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pollingPings POSTs one body of Engine.IO pings on a polling session
// that never polls: the server must close the session (only the server
// pings in Engine.IO v4) rather than queue a pong for each.
func (h *hostile) pollingPings(ctx context.Context) (string, error) {
	sid, err := h.pollOpen(ctx)
	if err != nil {
		return "", err
	}
	body := bytes.Repeat([]byte("2\x1e"), h.p.pollPings)
	code, _, err := h.poll(ctx, http.MethodPost, sid, body[:len(body)-1])
	if err != nil {
		return "", fmt.Errorf("POST of %d pings: %w", h.p.pollPings, err)
	}
	after, got, err := h.poll(ctx, http.MethodGet, sid, nil)
	switch {
	case err != nil:
		return "", fmt.Errorf("poll after %d pings, answered %d: %w (the session is still open)", h.p.pollPings, code, err)
	case after == http.StatusBadRequest:
		return fmt.Sprintf("POST of %d bytes answered %d, then the session was gone", len(body)-1, code), nil
	case after == http.StatusOK && bytes.HasPrefix(got, []byte{eioClose}):
		return fmt.Sprintf("POST of %d bytes answered %d, then the session closed", len(body)-1, code), nil
	}
	return "", fmt.Errorf("poll after %d pings answered %d with %d bytes (%.20q): the pings were answered", h.p.pollPings, after, len(got), got)
}

// websocketPings sends Engine.IO pings over a WebSocket without reading:
// the server must close the connection, answering none.
func (h *hostile) websocketPings(ctx context.Context) (string, error) {
	rc, err := h.wsOpen(ctx, nil)
	if err != nil {
		return "", err
	}
	defer rc.close()
	ping := appendFrame(nil, true, opText, []byte{eioPing})
	_ = rc.write(bytes.Repeat(ping, h.p.wsPings)) // a failure shows below
	pongs := 0
	for {
		op, p, err := rc.readFrame(hostileStepTimeout)
		switch {
		case ended(err) || err == nil && op == opClose:
			if pongs > 0 {
				return "", fmt.Errorf("%d pings answered before the close", pongs)
			}
			return fmt.Sprintf("closed after %d pings, none answered", h.p.wsPings), nil
		case err != nil:
			return "", fmt.Errorf("still open after %d pings (%d answered): %w", h.p.wsPings, pongs, err)
		case op == opText && len(p) >= 1 && p[0] == eioPong:
			pongs++
		}
	}
}

// pingFramesUnread sends WebSocket ping frames from a connection with a
// small receive buffer that never reads: the server's pongs must count
// against its send queue, and the connection be closed once it is full.
func (h *hostile) pingFramesUnread(ctx context.Context) (string, error) {
	rc, err := h.wsOpen(ctx, setSlowRcvBuf)
	if err != nil {
		return "", err
	}
	defer rc.close()
	payload := bytes.Repeat([]byte{'p'}, 125)
	frame := appendFrame(nil, true, opPing, payload)
	batch := bytes.Repeat(frame, 1000)
	deadline := time.Now().Add(4 * hostileStepTimeout)
	_ = rc.c.SetWriteDeadline(deadline)
	sent := 0
	for sent < h.p.pingFrames {
		n := min(1000, h.p.pingFrames-sent)
		if _, err := rc.c.Write(batch[:n*len(frame)]); err != nil {
			if ended(err) {
				return fmt.Sprintf("closed after about %d of %d pings (%.1f MB)", sent, h.p.pingFrames, float64(sent*len(frame))/1e6), nil
			}
			return "", fmt.Errorf("writing pings: %w after %d", err, sent)
		}
		sent += n
	}
	// All written: read what is left, to see whether the server ended
	// the connection.
	end := time.Now().Add(3 * hostileStepTimeout)
	for time.Now().Before(end) {
		if _, _, err := rc.readFrame(time.Until(end)); err != nil {
			if ended(err) {
				return fmt.Sprintf("closed after %d pings (%.1f MB)", sent, float64(sent*len(frame))/1e6), nil
			}
			break
		}
	}
	return "", fmt.Errorf("still open after %d unread pings", sent)
}

// anonymousCycles connects to the namespace and closes, again and again,
// without ever joining the chat.
func (h *hostile) anonymousCycles(ctx context.Context) (string, error) {
	bye := appendFrame(nil, true, opClose, closePayload(1000, ""))
	for i := range h.p.anonCycles {
		rc, err := h.wsJoin(ctx)
		if err != nil {
			return "", fmt.Errorf("cycle %d: %w", i+1, err)
		}
		_ = rc.write(bye)
		rc.close()
	}
	return fmt.Sprintf("%d connect/close cycles", h.p.anonCycles), nil
}

// roomFlood joins, then asks to join floodRooms new rooms at once: the
// server must refuse some (its rate limit, or a cap on rooms), and
// list-rooms must still be answered.
func (h *hostile) roomFlood(ctx context.Context) (string, error) {
	rc, err := h.wsJoin(ctx)
	if err != nil {
		return "", err
	}
	defer rc.close()
	if _, err := h.request(rc, 1, fmt.Sprintf(`"new-user",%q`, h.name())); err != nil {
		return "", fmt.Errorf("new-user: %w", err)
	}
	var batch []byte
	for i := range h.p.floodRooms {
		ev := fmt.Sprintf(`42%d["join-room","r%s-%d-%d"]`, i+2, h.runID, h.seq, i)
		batch = appendFrame(batch, true, opText, []byte(ev))
	}
	if err := rc.write(batch); err != nil {
		return "", err
	}
	joined, refused := 0, map[string]int{}
	for joined+sum(refused) < h.p.floodRooms {
		p, err := rc.readUntil(2*hostileStepTimeout, isAck)
		if err != nil {
			return "", fmt.Errorf("after %d joins and %d refusals: %w", joined, sum(refused), err)
		}
		if _, ok, code, _ := parseAck(p[2:]); ok {
			joined++
		} else {
			refused[code]++
		}
	}
	note := fmt.Sprintf("%d rooms joined, refused %v", joined, refused)
	if len(refused) == 0 {
		return note, fmt.Errorf("all %d rooms created at once: no rate limit or cap", joined)
	}
	// The list, from a connection of its own (this one's rate is spent).
	lc, err := h.wsJoin(ctx)
	if err != nil {
		return note, err
	}
	defer lc.close()
	p, err := h.request(lc, 1, `"list-rooms"`)
	if err != nil {
		return note, fmt.Errorf("list-rooms: %w", err)
	}
	var list struct {
		Rooms []json.RawMessage `json:"rooms"`
	}
	if err := json.Unmarshal(ackArg(p), &list); err != nil {
		return note, fmt.Errorf("list-rooms answer: %w", err)
	}
	return fmt.Sprintf("%s; list-rooms answered %d rooms in %d bytes", note, len(list.Rooms), len(p)), nil
}

// hugeHeaders opens polling sessions with a header of headerBytes: the
// server must refuse them (431) rather than keep the headers.
func (h *hostile) hugeHeaders(ctx context.Context) (string, error) {
	req := fmt.Appendf(nil, "GET %s?EIO=4&transport=polling HTTP/1.1\r\nHost: %s\r\nX-Padding: %s\r\n\r\n",
		h.path, h.addr, strings.Repeat("a", h.p.headerBytes))
	codes := map[int]int{}
	closed := 0
	for range h.p.headerConns {
		rc, err := h.dialRaw(ctx, nil)
		if err != nil {
			return "", err
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = rc.write(req) // the server may close before it is all written
		}()
		code, _, err := rc.readResponse(hostileStepTimeout)
		rc.close()
		<-done
		switch {
		case err != nil && code == 0 && ended(err):
			closed++
		case err != nil && code == 0:
			return "", fmt.Errorf("no answer to %d bytes of headers: %w", h.p.headerBytes, err)
		case code < 300:
			return "", fmt.Errorf("%d bytes of headers answered %d", h.p.headerBytes, code)
		default:
			codes[code]++
		}
	}
	return fmt.Sprintf("%d handshakes with %d KiB of headers: answered %v, closed unanswered %d", h.p.headerConns, h.p.headerBytes>>10, codes, closed), nil
}

// bigFrameThenByte sends, on each of bigFrameConns connections, a big
// message and then one byte of the next frame, and holds them so: the
// server must not keep the big message's buffer for that byte (which only
// the server's memory shows), and must still read the rest of the frame
// when it comes.
func (h *hostile) bigFrameThenByte(ctx context.Context) (string, error) {
	msg := fmt.Appendf(nil, `42["hostile-padding",%q]`, strings.Repeat("a", h.p.bigFrame))
	big := appendFrame(nil, true, opText, msg)
	next := appendFrame(nil, true, opText, []byte(`42["hostile-padding","done"]`))
	var conns []*rawConn
	defer func() {
		for _, rc := range conns {
			rc.close()
		}
	}()
	for range h.p.bigFrameConns {
		rc, err := h.wsJoin(ctx)
		if err != nil {
			return "", err
		}
		conns = append(conns, rc)
		if err := rc.write(append(big[:len(big):len(big)], next[0])); err != nil {
			return "", fmt.Errorf("writing %d bytes: %w", len(big)+1, err)
		}
	}
	if !sleep(ctx, h.p.hold) {
		return "", ctx.Err()
	}
	for i, rc := range conns {
		ping := appendFrame(nil, true, opPing, []byte("still there?"))
		if err := rc.write(append(next[1:len(next):len(next)], ping...)); err != nil {
			return "", fmt.Errorf("connection %d of %d, completing the frame: %w", i+1, len(conns), err)
		}
		for {
			op, p, err := rc.readFrame(hostileStepTimeout)
			if err != nil {
				return "", fmt.Errorf("connection %d of %d, waiting for the pong: %w", i+1, len(conns), err)
			}
			if op == opClose {
				return "", fmt.Errorf("connection %d of %d closed with %s", i+1, len(conns), closeCode(p))
			}
			if op == opPong && string(p) == "still there?" {
				break
			}
		}
	}
	return fmt.Sprintf("%d connections held %v with a %d KB message and one byte, then completed", len(conns), h.p.hold, len(big)/1000), nil
}

// closeCase is a close frame and the code the server must answer it with.
type closeCase struct {
	code   uint16
	reason string
	want   uint16
}

// closeCases are close frames with invalid codes (RFC 6455 §7.4) and a
// reason that is not UTF-8.
var closeCases = []closeCase{
	{0, "", 1002}, {999, "", 1002}, {1004, "", 1002}, {1005, "", 1002}, {1006, "", 1002},
	{1015, "", 1002}, {2999, "", 1002}, {5000, "", 1002}, {1000, "bad \xce\xba\xe1\xbd", 1007},
}

// invalidCloseCodes sends each of closeCases on a connection of its own.
func (h *hostile) invalidCloseCodes(ctx context.Context) (string, error) {
	var wrong []string
	for _, c := range closeCases {
		rc, err := h.wsOpen(ctx, nil)
		if err != nil {
			return "", err
		}
		err = rc.write(appendFrame(nil, true, opClose, closePayload(c.code, c.reason)))
		got := "no close frame"
		for err == nil {
			var op byte
			var p []byte
			if op, p, err = rc.readFrame(hostileStepTimeout); err == nil && op == opClose {
				got = closeCode(p)
				break
			}
		}
		rc.close()
		if got != strconv.Itoa(int(c.want)) {
			wrong = append(wrong, fmt.Sprintf("%d answered %s, want %d", c.code, got, c.want))
		}
	}
	if len(wrong) > 0 {
		return "", errors.New(strings.Join(wrong, "; "))
	}
	return fmt.Sprintf("%d close frames answered 1002 or 1007", len(closeCases)), nil
}

// slowPostBodies trickles slowPosts polling POST bodies at a byte a
// second, at once: the server must give up on each within slowPostLimit.
func (h *hostile) slowPostBodies(ctx context.Context) (string, error) {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		slowed time.Duration
	)
	for range h.p.slowPosts {
		wg.Go(func() {
			d, err := h.slowPost(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			slowed = max(slowed, d)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d bodies at 1 byte/s ended by the server within %v", h.p.slowPosts, slowed.Round(100*time.Millisecond)), nil
}

// slowPost trickles one body and returns how long the server took to end
// it.
func (h *hostile) slowPost(ctx context.Context) (time.Duration, error) {
	sid, err := h.pollOpen(ctx)
	if err != nil {
		return 0, err
	}
	rc, err := h.dialRaw(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer rc.close()
	head := fmt.Appendf(nil, "POST %s?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 1000\r\n\r\n4",
		h.path, sid, h.addr)
	if err := rc.write(head); err != nil {
		return 0, err
	}
	start := time.Now()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if rc.write([]byte{'x'}) != nil {
					return
				}
			}
		}
	}()
	code, _, err := rc.readResponse(h.p.slowPostLimit)
	close(stop)
	rc.close()
	<-done
	took := time.Since(start)
	switch {
	case err == nil && code >= 400, err != nil && code == 0 && ended(err):
		return took, nil
	case err != nil:
		return took, fmt.Errorf("a body at 1 byte/s still read after %v: %w", took.Round(time.Second), err)
	}
	return took, fmt.Errorf("a body at 1 byte/s answered %d after %v", code, took.Round(time.Second))
}

// http10Upgrade asks for a WebSocket over HTTP/1.0, which RFC 6455 does
// not allow.
func (h *hostile) http10Upgrade(ctx context.Context) (string, error) {
	return h.refusedUpgrade(ctx, "HTTP/1.0")
}

// twoWebSocketKeys asks for a WebSocket with two Sec-WebSocket-Key
// headers.
func (h *hostile) twoWebSocketKeys(ctx context.Context) (string, error) {
	return h.refusedUpgrade(ctx, "HTTP/1.1", "Sec-WebSocket-Key: "+wsKey())
}

// refusedUpgrade sends a WebSocket handshake that the server must refuse.
func (h *hostile) refusedUpgrade(ctx context.Context, proto string, extra ...string) (string, error) {
	rc, err := h.dialRaw(ctx, nil)
	if err != nil {
		return "", err
	}
	defer rc.close()
	if err := rc.write(h.upgradeRequest(proto, extra...)); err != nil {
		return "", err
	}
	code, _, err := rc.readResponse(hostileStepTimeout)
	switch {
	case err != nil && code == 0 && ended(err):
		return "closed unanswered", nil
	case err != nil && code == 0:
		return "", err
	case code == http.StatusSwitchingProtocols:
		return "", errors.New("upgraded")
	}
	return fmt.Sprintf("answered %d", code), nil
}

// bigCatchUp has, once, catchUp long messages stored in a room of the
// hostile client's; then, each cycle, a new person joins the room asking
// for all of them (join-room with since), and then for the last 200 with
// history: what is more than a connection's send queue holds must come in
// pieces, all of it, without the connection being cut off.
func (h *hostile) bigCatchUp(ctx context.Context) (string, error) {
	if !h.bigFilled {
		if err := h.fillBigRoom(ctx); err != nil {
			return "", fmt.Errorf("storing the long messages: %w", err)
		}
		h.bigFilled = true
	}
	rc, err := h.wsJoin(ctx)
	if err != nil {
		return "", err
	}
	defer rc.close()
	if _, err := h.request(rc, 1, fmt.Sprintf(`"new-user",%q`, h.name())); err != nil {
		return "", fmt.Errorf("new-user: %w", err)
	}
	join := fmt.Appendf(nil, `422["join-room",{"room":%q,"since":%d}]`, h.bigRoom, h.bigSince)
	if err := rc.writeText(join); err != nil {
		return "", err
	}
	roomKey := fmt.Appendf(nil, `"room":%q`, h.bigRoom)
	got, size := 0, 0
	start := time.Now()
	p, err := rc.readUntil(6*hostileStepTimeout, func(p []byte) bool {
		if bytes.HasPrefix(p, chatPrefix) && bytes.Contains(p, roomKey) {
			got++
			size += len(p)
		}
		return bytes.HasPrefix(p, []byte("432["))
	})
	if err != nil {
		return "", fmt.Errorf("catch-up of %d messages cut off after %d (%.1f MB): %w", h.p.catchUp, got, float64(size)/1e6, err)
	}
	if _, ok, code, _ := parseAck(p[2:]); !ok || got != h.p.catchUp {
		return "", fmt.Errorf("catch-up: %d of %d messages, join answered ok %v %s", got, h.p.catchUp, ok, code)
	}
	took := time.Since(start)
	// The last 200 with history: a reply holds what fits in a share of
	// the send queue, and says when there is more; the client asks again
	// from the oldest it got. The room holds the short message before the
	// long ones, too.
	want := min(200, h.p.catchUp+1)
	var (
		before       int64
		history      int
		replies      int
		historyBytes int
	)
	for history < want {
		p, err = h.request(rc, 3+replies, fmt.Sprintf(`"history",{"room":%q,"before":%d,"limit":%d}`, h.bigRoom, before, want-history))
		if err != nil {
			return "", fmt.Errorf("history: %w", err)
		}
		replies++
		historyBytes += len(p)
		var hist struct {
			OK       bool `json:"ok"`
			More     bool `json:"more"`
			Messages []struct {
				ID int64 `json:"id"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(ackArg(p), &hist); err != nil || !hist.OK || len(hist.Messages) == 0 {
			return "", fmt.Errorf("history of 200: reply %d after %d messages: %d messages, ok %v (%v)", replies, history, len(hist.Messages), hist.OK, err)
		}
		history += len(hist.Messages)
		if !hist.More {
			break
		}
		before = hist.Messages[0].ID
	}
	if history != want {
		return "", fmt.Errorf("history of 200: %d messages in %d replies, want %d", history, replies, want)
	}
	return fmt.Sprintf("caught up %d messages (%.1f MB) in %v; history of %d in %d replies, %.1f MB", got, float64(size)/1e6,
		took.Round(time.Millisecond), history, replies, float64(historyBytes)/1e6), nil
}

// fillBigRoom stores catchUp messages of catchUpText CJK characters in
// the hostile client's room, paced under the rate limit.
func (h *hostile) fillBigRoom(ctx context.Context) error {
	rc, err := h.wsJoin(ctx)
	if err != nil {
		return err
	}
	defer rc.close()
	if _, err := h.request(rc, 1, fmt.Sprintf(`"new-user",%q`, h.name())); err != nil {
		return fmt.Errorf("new-user: %w", err)
	}
	if _, err := h.request(rc, 2, fmt.Sprintf(`"join-room",%q`, h.bigRoom)); err != nil {
		return fmt.Errorf("join-room: %w", err)
	}
	// A short message first, whose id the catch-ups give as since (the
	// ids of a room begin at 1, and since 0 means none).
	text := "the long messages follow"
	for i := -1; i < h.p.catchUp; {
		id := 4 + i
		p, err := h.ask(rc, id, fmt.Sprintf(`"send-chat-message",%q,{"room":%q}`, text, h.bigRoom))
		if err != nil {
			return fmt.Errorf("message %d: %w", i+1, err)
		}
		var ack struct {
			OK   bool   `json:"ok"`
			ID   int64  `json:"id"`
			Code string `json:"code"`
		}
		if err := json.Unmarshal(ackArg(p), &ack); err != nil {
			return fmt.Errorf("message %d: %w", i+1, err)
		}
		if !sleep(ctx, h.p.catchUpPace) {
			return ctx.Err()
		}
		if !ack.OK {
			continue // refused (rate_limited): again
		}
		if i == -1 {
			h.bigSince = ack.ID
			text = strings.Repeat("漢", h.p.catchUpText)
		}
		i++
	}
	return nil
}

// ask sends event args (its JSON after the "[") with ack id, and returns
// the ack, reading past what else comes.
func (h *hostile) ask(rc *rawConn, id int, args string) ([]byte, error) {
	if err := rc.writeText(fmt.Appendf(nil, "42%d[%s]", id, args)); err != nil {
		return nil, err
	}
	prefix := fmt.Appendf(nil, "43%d[", id)
	return rc.readUntil(2*hostileStepTimeout, func(p []byte) bool { return bytes.HasPrefix(p, prefix) })
}

// request is ask, with a refusal as an error.
func (h *hostile) request(rc *rawConn, id int, args string) ([]byte, error) {
	p, err := h.ask(rc, id, args)
	if err != nil {
		return nil, err
	}
	if _, ok, code, _ := parseAck(p[2:]); !ok && code != "" {
		return p, fmt.Errorf("refused: %s", code)
	}
	return p, nil
}

// isAck reports whether p is a Socket.IO ack.
func isAck(p []byte) bool { return len(p) > 2 && p[0] == eioMessage && p[1] == sioAck }

// ackArg returns the first argument of an ack packet, "43<id>[arg...]".
func ackArg(p []byte) []byte {
	i := bytes.IndexByte(p, '[')
	if i < 0 || len(p) < i+2 {
		return nil
	}
	var args []json.RawMessage
	if json.Unmarshal(p[i:], &args) != nil || len(args) == 0 {
		return nil
	}
	return args[0]
}

// sum adds up counts.
func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
